import type { ConditionType, JobKind, SchedulerName } from '../../../main/contract/contract';

export type EditorMode = 'edit' | 'generate' | 'structure' | 'personalize';
export type SeedMode = 'random' | 'locked';
/** Edit photo's methods: img2img/inpaint (by the mask), or an edit by inversion (PAPERS.md §2). */
export type EditMethod = 'img2img' | 'pti' | 'nti' | 'ddim';
export const EDIT_METHODS: readonly EditMethod[] = ['img2img', 'pti', 'nti', 'ddim'];
export const CONDITION_TYPES: readonly ConditionType[] = ['canny', 'depth', 'segmentation', 'lineart', 'softedge'];
export const MAX_BEST_OF = 16;

export const isInversionMethod = (m: EditMethod): m is Exclude<EditMethod, 'img2img'> => m !== 'img2img';

/**
 * The scheduler control: one of the engine's samplers, or 'model' — the model folder's own
 * scheduler_config.json, which is what the CLI uses when `--scheduler` is not given (the
 * request then carries no scheduler).
 */
export type SchedulerChoice = SchedulerName | 'model';

/**
 * The editor's controls. The last-used ones are remembered in the browser's storage (the
 * defaults for a new project), and each project keeps its own (see projectSettings).
 *
 * Defaults match the CLI (`npm run edit`) so the same prompt gives the same picture in both:
 * the model's own scheduler, and a denoising strength per kind of edit — img2img 0.75 (the
 * engine's DEFAULT_STRENGTH), inpaint 1 (with a mask the whole masked area is regenerated).
 * The Strength slider shows and sets the value of the kind Generate will run: `inpaintStrength`
 * while a mask is painted, `strength` otherwise, so changing one never changes the other.
 */
export interface Settings {
  mode: EditorMode;
  prompt: string;
  negativePrompt: string;
  steps: number;
  guidance: number;
  /** img2img (no mask): the fraction of the schedule re-run. */
  strength: number;
  /** Inpaint (a mask is painted). */
  inpaintStrength: number;
  seed: number;
  seedMode: SeedMode;
  scheduler: SchedulerChoice;
  width: number;
  height: number;
  brushSize: number;
  hardness: number;
  /** Edit photo. */
  editMethod: EditMethod;
  /** Inversion: describes the photo (optional). */
  sourcePrompt: string;
  /** Inversion: edit strength η in [0, 1] (0 reconstructs the photo). */
  eta: number;
  /** Structure. */
  conditionType: ConditionType;
  /** A ControlNetInfo id; '' until one is chosen. */
  controlnetId: string;
  controlScale: number;
  controlStart: number;
  controlEnd: number;
  bestOf: number;
}

export const SCHEDULERS: readonly SchedulerName[] = ['ddim', 'euler', 'euler-a', 'dpmpp-2m'];
export const SCHEDULER_CHOICES: readonly SchedulerChoice[] = ['model', ...SCHEDULERS];
/** The CLI's defaults (main/engine/pipelines: DEFAULT_STRENGTH for img2img, 1 for inpaint). */
export const DEFAULT_IMG2IMG_STRENGTH = 0.75;
export const DEFAULT_INPAINT_STRENGTH = 1;
const MODES: readonly EditorMode[] = ['edit', 'generate', 'structure', 'personalize'];
export const MAX_SEED = 2 ** 32 - 1;

export const DEFAULT_SETTINGS: Settings = {
  mode: 'edit',
  prompt: '',
  negativePrompt: '',
  steps: 20,
  guidance: 7.5,
  strength: DEFAULT_IMG2IMG_STRENGTH,
  inpaintStrength: DEFAULT_INPAINT_STRENGTH,
  seed: 1234,
  seedMode: 'random',
  scheduler: 'model',
  width: 512,
  height: 512,
  brushSize: 48,
  hardness: 0.8,
  editMethod: 'img2img',
  sourcePrompt: '',
  eta: 0.7,
  conditionType: 'canny',
  controlnetId: '',
  controlScale: 1,
  controlStart: 0,
  controlEnd: 1,
  bestOf: 1,
};

export const SETTINGS_KEY = 'pentimento.settings.v1';

type Check<T> = (v: unknown) => v is T;
const isString: Check<string> = (v): v is string => typeof v === 'string';
const inRange = (min: number, max: number, integer = false): Check<number> =>
  ((v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max && (!integer || Number.isInteger(v))) as Check<number>;
const oneOf = <T>(values: readonly T[]): Check<T> => ((v: unknown) => values.includes(v as T)) as Check<T>;
/** Denoising strength: the engine takes (0, 1]. */
const strengthCheck: Check<number> = ((v: unknown) => inRange(0, 1)(v) && (v as number) > 0) as Check<number>;
/** Model sizes are multiples of 8 (the latent grid). */
const side: Check<number> = ((v: unknown) => inRange(64, 2048, true)(v) && (v as number) % 8 === 0) as Check<number>;

const CHECKS: { [K in keyof Settings]: Check<Settings[K]> } = {
  mode: oneOf(MODES),
  prompt: isString,
  negativePrompt: isString,
  steps: inRange(1, 200, true),
  guidance: inRange(0, 30),
  strength: strengthCheck,
  inpaintStrength: strengthCheck,
  seed: inRange(0, MAX_SEED, true),
  seedMode: oneOf<SeedMode>(['random', 'locked']),
  scheduler: oneOf(SCHEDULER_CHOICES),
  width: side,
  height: side,
  brushSize: inRange(1, 1000),
  hardness: inRange(0, 1),
  editMethod: oneOf(EDIT_METHODS),
  sourcePrompt: isString,
  eta: inRange(0, 1),
  conditionType: oneOf(CONDITION_TYPES),
  controlnetId: isString,
  controlScale: inRange(0, 2),
  controlStart: inRange(0, 1),
  controlEnd: inRange(0, 1),
  bestOf: inRange(1, MAX_BEST_OF, true),
};

/** The engine's names for the inversion methods (GenerationParameters.method). */
const INVERSION_METHOD_NAMES: Record<string, EditMethod> = {
  'prompt-tuning-inversion': 'pti',
  'null-text-inversion': 'nti',
  'ddim-inversion': 'ddim',
};

/**
 * The stored settings, each value that is missing or invalid replaced by its default. Older
 * versions stored the same key: their explicit scheduler stays chosen, their one `strength` is
 * kept as img2img's, and inpaint starts at its default (1) since `inpaintStrength` is absent.
 */
export function loadSettings(storage: Pick<Storage, 'getItem'>): Settings {
  let stored: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(storage.getItem(SETTINGS_KEY) ?? '{}');
    if (parsed && typeof parsed === 'object') stored = parsed as Record<string, unknown>;
  } catch {
    // Unreadable settings: start from the defaults.
  }
  return mergeSettings(DEFAULT_SETTINGS, stored);
}

/** `base` with each valid value of `stored` (of `keys`) in place of its own. */
function mergeSettings(base: Settings, stored: Record<string, unknown>, keys = Object.keys(CHECKS) as (keyof Settings)[]): Settings {
  const settings = { ...base } as Record<keyof Settings, unknown>;
  for (const key of keys) {
    if ((CHECKS[key] as Check<unknown>)(stored[key])) settings[key] = stored[key];
  }
  return settings as unknown as Settings;
}

/**
 * What a project does not keep: the mode is the window's (which panel is shown), the brush the
 * hand's; both stay as they are when another project opens.
 */
const PROJECT_KEYS = (Object.keys(CHECKS) as (keyof Settings)[]).filter((k) => k !== 'mode' && k !== 'brushSize' && k !== 'hardness');

/** What a project keeps of the settings (saved with it, so they travel with the project). */
export function projectSettings(settings: Settings): Record<string, unknown> {
  return Object.fromEntries(PROJECT_KEYS.map((k) => [k, settings[k]]));
}

/** The settings with a project's saved ones in place (values missing or invalid there stay as in `current`). */
export function withProjectSettings(current: Settings, saved: Record<string, unknown>): Settings {
  return mergeSettings(current, saved, PROJECT_KEYS);
}

export function saveSettings(storage: Pick<Storage, 'setItem'>, settings: Settings): void {
  try {
    storage.setItem(SETTINGS_KEY, JSON.stringify(settings));
  } catch {
    // Storage full or disabled: settings are a convenience, never worth an error.
  }
}

/** The scheduler a request names: none for 'model', so the engine uses the model's own. */
export function requestScheduler(choice: SchedulerChoice): SchedulerName | undefined {
  return choice === 'model' ? undefined : choice;
}

/** The setting that holds the strength of a job of this kind (see Settings). */
export function strengthKey(kind: Extract<JobKind, 'img2img' | 'inpaint'>): 'strength' | 'inpaintStrength' {
  return kind === 'inpaint' ? 'inpaintStrength' : 'strength';
}

/** A uniformly random 32-bit seed. */
export function randomSeed(random: () => number = Math.random): number {
  return Math.floor(random() * (MAX_SEED + 1));
}

/**
 * "Reuse settings" from a result: the controls that reproduce it, taken from the parameters
 * its PNG carries (fields that are missing or invalid are left as they are). The seed is locked,
 * since reusing a result means reproducing it.
 */
export function settingsFromParameters(parameters: Record<string, unknown>): Partial<Settings> {
  const out: Partial<Settings> = {};
  const take = <K extends keyof Settings>(key: K, value: unknown) => {
    if ((CHECKS[key] as Check<unknown>)(value)) out[key] = value as Settings[K];
  };
  take('prompt', parameters.prompt);
  take('negativePrompt', parameters.negativePrompt ?? '');
  take('steps', parameters.steps);
  take('guidance', parameters.guidance);
  take(parameters.method === 'inpaint' || parameters.kind === 'inpaint' ? 'inpaintStrength' : 'strength', parameters.strength);
  take('scheduler', parameters.scheduler);
  const extra = (parameters.extra && typeof parameters.extra === 'object' ? parameters.extra : {}) as Record<string, unknown>;
  // txt2img from a condition takes its size from the photo, so a controlled result keeps Generate's size.
  if ((parameters.method === 'txt2img' || parameters.kind === 'txt2img') && !extra.control) {
    take('width', parameters.width);
    take('height', parameters.height);
  }
  const inversion = INVERSION_METHOD_NAMES[String(parameters.method)];
  if (parameters.method === 'img2img' || parameters.method === 'inpaint') out.editMethod = 'img2img';
  if (inversion) {
    out.editMethod = inversion;
    take('eta', extra.eta);
    take('sourcePrompt', extra.sourcePrompt);
  }
  const control = Array.isArray(extra.control) ? (extra.control[0] as Record<string, unknown> | undefined) : undefined;
  if (control) {
    take('conditionType', control.type);
    take('controlScale', control.scale);
    take('controlStart', control.start);
    take('controlEnd', control.end);
  }
  // Edits by inversion have no seed (they are deterministic): the seed controls stay as they are.
  if (CHECKS.seed(parameters.seed)) {
    out.seed = parameters.seed;
    out.seedMode = 'locked';
  }
  return out;
}

/**
 * The controls for a photo opened from a PNG Pentimento wrote: its parameters as "Reuse
 * settings" takes them, in Structure mode when ControlNets made it and Edit photo otherwise.
 */
export function settingsFromPhotoParameters(parameters: Record<string, unknown>): Partial<Settings> {
  const extra = (parameters.extra && typeof parameters.extra === 'object' ? parameters.extra : {}) as Record<string, unknown>;
  return { ...settingsFromParameters(parameters), mode: Array.isArray(extra.control) && extra.control.length > 0 ? 'structure' : 'edit' };
}
