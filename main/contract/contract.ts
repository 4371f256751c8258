/**
 * The one typed contract between the engine and its callers. Main, preload, renderer, the
 * utilityProcess host and the browser-mode WebSocket bridge all import these types; the
 * renderer's `window.pentimento` type is derived from `EngineApi` below.
 *
 * Everything here is plain data (structured-clone and JSON safe): images travel as encoded
 * PNG bytes (base64 over JSON), errors as `ErrorData`.
 */
import type { ErrorData } from '../engine/errors';

export type SchedulerName = 'ddim' | 'euler' | 'euler-a' | 'dpmpp-2m';
export type JobKind = 'txt2img' | 'img2img' | 'inpaint';
/** ControlNet++'s condition types (PAPERS.md §1); the engine's CONDITION_TYPES. */
export type ConditionType = 'canny' | 'depth' | 'segmentation' | 'lineart' | 'softedge';

/** A ControlNet the engine can run (see `listControlNets`). */
export interface ControlNetInfo {
  /** What `GenerateRequest.control[].controlnet` names. */
  id: string;
  name: string;
  file: string;
  /** Random weights (a generated test ControlNet): the UI must say so, as for the model. */
  isTestModel: boolean;
  /** The condition it was trained on, when its name says (e.g. control_v11p_sd15_canny). */
  conditionType?: ConditionType;
}

/** One ControlNet guiding a generation. */
export interface ControlUnitRequest {
  /** A `ControlNetInfo.id`. */
  controlnet: string;
  type: ConditionType;
  /** Where the condition comes from (encoded image bytes); default: the job's photo (`GenerateRequest.image`). */
  image?: { base64: string; name?: string };
  /** The image already is the condition map (a black-on-white sketch is inverted); default: extracted from it. */
  raw?: boolean;
  /** conditioning_scale (default 1; 0 turns it off). */
  scale?: number;
  /** Fractions of the denoising steps between which it acts (default 0 and 1). */
  start?: number;
  end?: number;
}

/**
 * ControlNet++'s consistency of a controlled result with its (first) condition: the condition
 * re-extracted from the result compared with the input one (canny: F1 of edge pixels; lineart,
 * soft edge: MS-SSIM; depth: RMSE on 0–255; segmentation: mIoU).
 */
export interface ConsistencyResult {
  type: ConditionType;
  /** f1 | ms_ssim | rmse | miou */
  metric: string;
  value: number;
  higherIsBetter: boolean;
  /** Best of N: every seed tried, best first (the result is the first). */
  ranked?: { seed: number; value: number }[];
}

/** A condition map as the ControlNet will see it, for the UI's preview. */
export interface ConditionPreview {
  image: EncodedImage;
  type: ConditionType;
  /** Made by a random-weight test annotator: the map shows nothing real. */
  testAnnotator: boolean;
}

/**
 * An edit by inversion (PAPERS.md §2): the photo is inverted — the inversion cached per
 * (photo, model, settings) — then re-generated towards `prompt`; the result's `inversionId`
 * lets `reedit` try another prompt or η without inverting again.
 */
export interface InvertEditRequest {
  /** The target prompt: what the photo should show. */
  prompt: string;
  image: { base64: string; name?: string };
  /** White = edit; elsewhere the photo's reconstruction is kept. */
  mask?: { base64: string };
  /** Inversion and edit steps (default 50) and guidance (default 7.5). */
  steps?: number;
  guidance?: number;
  projectId?: string;
  /** pti (Prompt Tuning Inversion, default) | nti (null-text) | ddim (plain DDIM inversion). */
  method?: 'pti' | 'nti' | 'ddim';
  /** Describes the photo; default: the empty prompt. */
  sourcePrompt?: string;
  /** Edit strength in [0, 1]: 0 reconstructs the photo; default 0.7 (pti), 1 (nti, ddim). */
  eta?: number;
  /** Optimiser iterations per timestep (default 10) and first step size (default 0.01). */
  innerSteps?: number;
  lr?: number;
  /** pti: the first c_t starts from the target (default) or source prompt's embedding. */
  init?: 'target' | 'source';
}

/** Another edit from a cached inversion (a result's `inversionId`): only the edit stage runs. */
export interface ReeditRequest {
  inversionId: string;
  /** The target prompt. */
  prompt: string;
  eta?: number;
  /** White = edit; absent = edit everywhere. */
  mask?: { base64: string };
  projectId?: string;
}

export interface ModelInfo {
  name: string;
  dir: string;
  /** True for the embedded random-weight test model: the UI and CLI must say so. */
  isTestModel: boolean;
  inpaintingUnet: boolean;
  provider: string;
  hash: string;
}

/** An image crossing the boundary: PNG bytes, base64-encoded. */
export interface EncodedImage {
  pngBase64: string;
  width: number;
  height: number;
}

export interface GenerateRequest {
  kind: JobKind;
  prompt: string;
  negativePrompt?: string;
  /** Source photo (img2img/inpaint), as encoded image bytes of any supported format. */
  image?: { base64: string; name?: string };
  /** Mask (inpaint): white = regenerate; any size, resized to the image. */
  mask?: { base64: string };
  strength?: number;
  steps?: number;
  guidance?: number;
  seed?: number;
  scheduler?: SchedulerName;
  width?: number;
  height?: number;
  /** When set, the engine saves the result into this project before announcing it. */
  projectId?: string;
  /**
   * ControlNets guiding the generation (their residuals add up); the result then carries
   * `consistency`. A txt2img job without width/height takes the first condition image's size,
   * fitted to the model.
   */
  control?: ControlUnitRequest[];
  /** With control: generate seeds seed … seed+N−1 and keep the most consistent (1–64). */
  bestOf?: number;
}

export interface JobProgress {
  jobId: string;
  step: number;
  totalSteps: number;
  /** Edits by inversion: the stage the step belongs to (steps count from 1 in each). */
  stage?: 'invert' | 'tune' | 'edit';
  /** Small PNG preview of the current prediction of the final image. */
  preview?: EncodedImage;
}

export interface JobResult {
  jobId: string;
  image: EncodedImage;
  parameters: Record<string, unknown>;
  metrics?: Record<string, number>;
  timings: Record<string, number>;
  /** Set when the job carried a projectId: the result is already saved in that project. */
  saved?: { projectId: string; resultId: string };
  /** invertEdit and reedit results: the cached inversion a `reedit` can start from. */
  inversionId?: string;
  /** Controlled generations: consistency with the condition (also `metrics.consistency` and `parameters.extra.consistency`). */
  consistency?: ConsistencyResult;
}

export interface TokenCount {
  count: number;
  max: number;
  truncated: boolean;
}

/** A project as listed: one photo being edited, stored in `<userDataDir>/projects/<id>/`. */
export interface ProjectSummary {
  id: string;
  /** The photo's file name, as opened. */
  name: string;
  /** ISO 8601 times. */
  createdAt: string;
  updatedAt: string;
  /** Size of the working photo (upright per EXIF): the mask's size, in image pixels. */
  width: number;
  height: number;
  resultCount: number;
  /** A small PNG of the photo (longer side ≤ 96 px), for the project list. */
  thumbnail?: EncodedImage;
}

/** A generated image kept in a project; its PNG carries the parameters as text chunks. */
export interface ProjectResult {
  id: string;
  jobId?: string;
  createdAt: string;
  image: EncodedImage;
  parameters: Record<string, unknown>;
}

/**
 * The editor's own history document (undo entries, hidden results…): the engine stores it as
 * JSON without interpreting it, at most 1 MiB.
 */
export type ProjectHistory = Record<string, unknown>;

/**
 * The editor's controls (prompt, method, steps, seed…) as last used in a project, so they travel
 * with it: the engine stores them as JSON without interpreting them, at most 64 KiB.
 */
export type ProjectSettings = Record<string, unknown>;

/** Everything needed to resume editing a project. */
export interface ProjectState {
  project: ProjectSummary;
  /** The working photo: the opened image upright per EXIF, flattened onto white, as PNG. */
  photo: EncodedImage;
  /** The saved mask (white = regenerate), absent until one is saved. */
  mask?: EncodedImage;
  /** Oldest first. */
  results: ProjectResult[];
  history: ProjectHistory | null;
  /** Absent until the editor saves its settings into the project. */
  settings: ProjectSettings | null;
  /**
   * The generation parameters the opened file carried (a PNG Pentimento wrote), as in its
   * `pentimento` text chunk; absent for any other image.
   */
  parameters?: Record<string, unknown>;
}

/** Requests: name → (params) → result. Every call may reject with ErrorData. */
export interface EngineRequests {
  getModelInfo(): ModelInfo;
  countTokens(params: { text: string }): TokenCount;
  /** Starts a job and returns its id at once; progress/result/error arrive as events. */
  generate(params: GenerateRequest): { jobId: string };
  cancel(params: { jobId: string }): { cancelled: boolean };
  /** Starts an edit by inversion (a job, like generate); the result carries metrics and an inversionId. */
  invertEdit(params: InvertEditRequest): { jobId: string };
  /** Starts an edit from a cached inversion (cheap: no inversion runs); events as for generate. */
  reedit(params: ReeditRequest): { jobId: string };
  /** ControlNets under `<userDataDir>/controlnets/<name>/model.onnx`, plus the random-weight test one with the embedded test model. */
  listControlNets(): ControlNetInfo[];
  /**
   * The condition map of `type` from an image (or, with `raw`, the image taken as a map), at the
   * size a controlled generation from it runs at. A missing annotator is MODEL_MISSING, naming its file.
   */
  extractCondition(params: { type: ConditionType; image: { base64: string; name?: string }; raw?: boolean }): ConditionPreview;
  /** Opens an image as a new project (its folder is written before this answers). */
  createProject(params: { image: { base64: string; name?: string } }): ProjectState;
  /** Newest activity first. */
  listProjects(): ProjectSummary[];
  openProject(params: { projectId: string }): ProjectState;
  /** Replaces the project's mask (any size is accepted; PNG, white = regenerate). */
  saveMask(params: { projectId: string; mask: { base64: string } }): { saved: true };
  saveHistory(params: { projectId: string; history: ProjectHistory }): { saved: true };
  saveSettings(params: { projectId: string; settings: ProjectSettings }): { saved: true };
}

export type EngineRequestName = keyof EngineRequests;
export type RequestParams<K extends EngineRequestName> = Parameters<EngineRequests[K]>[0];
export type RequestResult<K extends EngineRequestName> = ReturnType<EngineRequests[K]>;

/** Events pushed from the engine. */
export interface EngineEvents {
  progress: JobProgress;
  result: JobResult;
  failed: { jobId: string; error: ErrorData };
  log: { level: 'info' | 'warn'; message: string };
}
export type EngineEventName = keyof EngineEvents;

/** What the renderer sees (window.pentimento), derived from the contract above. */
export type EngineApi = {
  [K in EngineRequestName]: (
    ...args: Parameters<EngineRequests[K]>
  ) => Promise<Awaited<ReturnType<EngineRequests[K]>>>;
} & {
  on<E extends EngineEventName>(event: E, listener: (payload: EngineEvents[E]) => void): () => void;
};

/** Wire messages (utilityProcess port, WebSocket). */
export type WireRequest = { type: 'request'; id: number; method: EngineRequestName; params: unknown };
export type WireResponse =
  | { type: 'response'; id: number; ok: true; result: unknown }
  | { type: 'response'; id: number; ok: false; error: ErrorData };
export type WireEvent = { type: 'event'; event: EngineEventName; payload: unknown };
export type WireMessage = WireRequest | WireResponse | WireEvent;

export const ENGINE_REQUESTS: readonly EngineRequestName[] = [
  'getModelInfo',
  'countTokens',
  'generate',
  'cancel',
  'invertEdit',
  'reedit',
  'listControlNets',
  'extractCondition',
  'createProject',
  'listProjects',
  'openProject',
  'saveMask',
  'saveHistory',
  'saveSettings',
];

/** The requests that project storage (main/engine/projects) answers. */
export const PROJECT_REQUESTS = ['createProject', 'listProjects', 'openProject', 'saveMask', 'saveHistory', 'saveSettings'] as const;
export type ProjectRequestName = (typeof PROJECT_REQUESTS)[number];

/**
 * Desktop-only shell services (native dialogs), exposed beside `EngineApi` by the preload script.
 * Browser mode has no `ShellApi`: it opens files with <input type=file> and saves with a download.
 */
export interface ShellApi {
  /** Shows the native "Open image" dialog; null when the user cancels. */
  openImage(): Promise<{ base64: string; name: string } | null>;
  /** Shows the native "Save" dialog and writes the PNG there; `saved: false` when cancelled. */
  saveImage(params: { pngBase64: string; suggestedName: string }): Promise<{ saved: boolean; path?: string }>;
}

/** Electron IPC channel names, shared by main and preload so neither spells them by hand. */
export const IPC_CHANNELS = {
  engineRequest: 'engine:request',
  engineEvent: 'engine:event',
  openImage: 'dialog:openImage',
  saveImage: 'dialog:saveImage',
} as const;

/**
 * What `ipcMain.handle(IPC_CHANNELS.engineRequest)` returns. Errors travel as data because
 * Electron flattens a thrown Error to its message; the preload turns `ok: false` back into a rejection.
 */
export type IpcEnvelope = { ok: true; result: unknown } | { ok: false; error: ErrorData };
