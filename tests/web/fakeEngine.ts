import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { ProjectRequests } from '../../main/engine/projects/ProjectRequests';
import { PentimentoError, toErrorData } from '../../main/engine/errors';
import type { EngineHandler } from '../../main/contract/EngineHandler';
import type {
  ConditionPreview,
  ConditionType,
  ConsistencyResult,
  ControlNetInfo,
  EngineEventName,
  EngineEvents,
  EngineRequestName,
  GenerateRequest,
  InvertEditRequest,
  JobProgress,
  JobResult,
  ModelInfo,
  ReeditRequest,
  RequestParams,
  RequestResult,
} from '../../main/contract/contract';

/** A solid-colour PNG, so results and previews are real decodable images. */
async function solidPng(width: number, height: number, grey: number): Promise<string> {
  const png = await sharp({ create: { width, height, channels: 3, background: { r: grey, g: grey, b: 255 - grey } } })
    .png()
    .toBuffer();
  return png.toString('base64');
}

/** countTokens with this text never answers. */
export const HANG = '__hang__';

export const FAKE_MODEL: ModelInfo = {
  name: 'fake-sd15',
  dir: '(in memory)',
  isTestModel: true,
  inpaintingUnet: true,
  provider: 'cpu',
  hash: '0000',
};

export const FAKE_CONTROLNETS: ControlNetInfo[] = [
  { id: 'builtin:test-controlnet', name: 'Test ControlNet', file: '(in memory)', isTestModel: true },
  { id: 'control_v11p_sd15_canny', name: 'control_v11p_sd15_canny', file: '(in memory)', isTestModel: false, conditionType: 'canny' },
];

const CONDITION_TYPES: readonly ConditionType[] = ['canny', 'depth', 'segmentation', 'lineart', 'softedge'];
const METRICS: Record<ConditionType, { metric: string; higherIsBetter: boolean }> = {
  canny: { metric: 'f1', higherIsBetter: true },
  depth: { metric: 'rmse', higherIsBetter: false },
  segmentation: { metric: 'miou', higherIsBetter: true },
  lineart: { metric: 'ms_ssim', higherIsBetter: true },
  softedge: { metric: 'ms_ssim', higherIsBetter: true },
};

/** A made-up but reproducible consistency in [0, 1) for a seed and scale (not a real measurement). */
export const fakeConsistency = (seed: number, scale: number) => Math.round(((((seed * 2654435761) >>> 0) % 1000) / 1000) * 0.5 * 1000 + 300 * Math.min(1, scale)) / 1000;

/**
 * An engine stand-in for the shell's tests: counts whitespace-separated words as tokens, and
 * runs generate jobs one at a time, as the real engine does, each as `steps` timed steps with
 * progress previews, then a result whose size is the source image's (or the requested size).
 * Records every generate request it accepted. Project requests go to the real ProjectRequests
 * over `userDataDir` (a fresh temporary folder unless given).
 */
export class FakeEngine implements EngineHandler {
  readonly generateRequests: GenerateRequest[] = [];
  readonly invertEditRequests: InvertEditRequest[] = [];
  readonly reeditRequests: ReeditRequest[] = [];
  readonly extractConditionRequests: { type: ConditionType; raw?: boolean }[] = [];
  /** Inversions actually run (an invertEdit counts one; a reedit none). */
  inversions = 0;
  /** Condition types whose annotator is "not installed": extractCondition and generate answer MODEL_MISSING. */
  readonly missingAnnotators = new Set<ConditionType>(['segmentation']);
  /** When set, the model "failed to load": getModelInfo and countTokens reject with it (as the real engine's every request would). */
  modelError: PentimentoError | undefined;
  /** getModelInfo calls, to see a Retry ask again. */
  modelInfoRequests = 0;
  private readonly inversionsById = new Map<string, { image: string; request: InvertEditRequest }>();
  readonly projects: ProjectRequests;
  private readonly listeners = new Set<(event: EngineEventName, payload: unknown) => void>();
  /** Job ids a cancel was asked for. */
  readonly cancelled = new Set<string>();
  private queue: Promise<void> = Promise.resolve();
  /** Jobs queued whose turn has not come: a cancel ends them at once, as the engine does. */
  private readonly waiting = new Set<string>();
  private nextJob = 1;
  /** While set, a running job waits after each step's progress; resume() resolves it. */
  private hold: { until: Promise<void>; release: () => void } | undefined;

  constructor(
    private readonly stepMs = 20,
    userDataDir = mkdtempSync(path.join(os.tmpdir(), 'pentimento-fake-engine-')),
  ) {
    this.projects = new ProjectRequests(userDataDir);
  }

  /**
   * Holds every running job at the step it has reached (after that step's progress event) until
   * resume(), so a test can look at a job mid-run however slowly the machine runs the browser.
   */
  pause(): void {
    if (this.hold) return;
    let release!: () => void;
    const until = new Promise<void>((r) => (release = r));
    this.hold = { until, release };
  }

  resume(): void {
    this.hold?.release();
    this.hold = undefined;
  }

  /** A step's progress is out: wait while paused (a cancel meanwhile is seen at the next step). */
  private async held(): Promise<void> {
    while (this.hold) await this.hold.until;
  }

  /** Requests held back, by method, until their release (see holdRequests). */
  private readonly gates = new Map<EngineRequestName, Promise<void>>();

  /**
   * Holds every `method` request, unhandled, until the returned release is called: a slow round
   * trip to the engine, so a test can look at the UI before the engine has answered.
   */
  holdRequests(method: EngineRequestName): () => void {
    let release!: () => void;
    this.gates.set(method, new Promise<void>((r) => (release = r)));
    return () => {
      this.gates.delete(method);
      release();
    };
  }

  async handle<K extends EngineRequestName>(method: K, params: RequestParams<K>): Promise<RequestResult<K>> {
    await this.gates.get(method);
    return (await this.dispatch(method, params)) as RequestResult<K>;
  }

  private async dispatch(method: EngineRequestName, params: unknown): Promise<unknown> {
    if (ProjectRequests.handles(method)) return this.projects.handle(method, params as never);
    switch (method) {
      case 'getModelInfo':
        this.modelInfoRequests++;
        if (this.modelError) throw this.modelError;
        return FAKE_MODEL;
      case 'countTokens': {
        if (this.modelError) throw this.modelError;
        const text = (params as { text?: unknown })?.text;
        if (typeof text !== 'string') throw new PentimentoError('BAD_ARGUMENT', 'countTokens needs { text: string }.');
        // Lets tests hold a request open (e.g. across an engine-process crash).
        if (text === HANG) return new Promise(() => {});
        const count = text.split(/\s+/).filter(Boolean).length;
        return { count, max: 75, truncated: count > 75 };
      }
      case 'generate':
        await this.projects.checkProject((params as GenerateRequest | undefined)?.projectId);
        return this.generate(params as GenerateRequest);
      case 'invertEdit':
      case 'reedit':
        await this.projects.checkProject((params as ReeditRequest | undefined)?.projectId);
        return this.queueInversion(method, params as InvertEditRequest | ReeditRequest);
      case 'listControlNets':
        return FAKE_CONTROLNETS;
      case 'extractCondition':
        return this.extractCondition(params as RequestParams<'extractCondition'>);
      case 'cancel': {
        const jobId = (params as { jobId?: unknown })?.jobId;
        if (typeof jobId !== 'string') throw new PentimentoError('BAD_ARGUMENT', 'cancel needs { jobId: string }.');
        this.cancelled.add(jobId);
        if (this.waiting.delete(jobId)) this.emit('failed', { jobId, error: toErrorData(new PentimentoError('CANCELLED', 'The job was cancelled before it started.')) });
        return { cancelled: true };
      }
    }
  }

  private generate(request: GenerateRequest): { jobId: string } {
    if (typeof request?.prompt !== 'string') {
      throw new PentimentoError('BAD_ARGUMENT', 'generate needs a prompt string.');
    }
    if (request.prompt.includes('FAIL')) {
      throw new PentimentoError('BAD_ARGUMENT', 'The fake engine refuses prompts containing FAIL.');
    }
    for (const u of request.control ?? []) {
      if (!FAKE_CONTROLNETS.some((c) => c.id === u.controlnet)) throw new PentimentoError('BAD_ARGUMENT', `No ControlNet "${u.controlnet}".`);
      this.checkAnnotator(u.type);
    }
    this.generateRequests.push(request);
    const jobId = `job-${this.nextJob++}`;
    this.enqueue(jobId, () => this.run(jobId, request));
    return { jobId };
  }

  /** Runs jobs one at a time; one cancelled while waiting is skipped (its end was announced at the cancel). */
  private enqueue(jobId: string, run: () => Promise<void>): void {
    this.waiting.add(jobId);
    this.queue = this.queue.then(async () => {
      if (!this.waiting.delete(jobId)) return;
      await run().catch((e: unknown) => this.emit('failed', { jobId, error: toErrorData(e) }));
    });
  }

  private async run(jobId: string, request: GenerateRequest): Promise<void> {
    if (request.prompt.includes('BREAK')) {
      await new Promise((r) => setTimeout(r, this.stepMs));
      throw new PentimentoError('OUT_OF_MEMORY', 'The fake engine ran out of memory on purpose (BREAK in the prompt).');
    }
    // img2img and inpaint run ⌊steps·strength⌋ of the schedule (the engine's img2imgStart), and say so.
    const steps = request.steps ?? 4;
    const strength = request.strength ?? (request.kind === 'inpaint' ? 1 : 0.75);
    const totalSteps = request.kind === 'txt2img' ? steps : Math.min(Math.floor(steps * strength), steps);
    if (totalSteps < 1) throw new PentimentoError('BAD_ARGUMENT', `Strength ${strength} with ${steps} steps runs no denoising step.`);
    let width = request.width ?? 64;
    let height = request.height ?? 64;
    // txt2img guided by a condition image takes its size, as the engine does (there fitted to the model).
    const sizeFrom = request.image ?? (request.width === undefined ? request.control?.[0]?.image : undefined);
    if (sizeFrom) {
      const meta = await sharp(Buffer.from(sizeFrom.base64, 'base64')).metadata();
      width = meta.width ?? width;
      height = meta.height ?? height;
    }
    for (let step = 1; step <= totalSteps; step++) {
      await new Promise((r) => setTimeout(r, this.stepMs));
      if (this.cancelled.has(jobId)) throw new PentimentoError('CANCELLED', 'The job was cancelled.');
      const preview = { pngBase64: await solidPng(8, 8, Math.round((255 * step) / totalSteps)), width: 8, height: 8 };
      this.emit('progress', { jobId, step, totalSteps, preview });
      await this.held();
    }
    // A visible "edit": the source photo with its hues turned by the seed, else a solid colour.
    const pngBase64 = request.image
      ? (await sharp(Buffer.from(request.image.base64, 'base64')).modulate({ hue: 60 + ((request.seed ?? 0) % 240) }).png().toBuffer()).toString('base64')
      : await solidPng(width, height, (request.seed ?? 0) % 256);
    const image = { pngBase64, width, height };
    const { image: _image, mask: _mask, projectId, control, bestOf, ...parameters } = request;
    const result: JobResult = {
      jobId,
      image,
      parameters: { ...parameters, seed: request.seed ?? 0, ...(totalSteps !== steps ? { extra: { stepsRun: totalSteps } } : {}) },
      timings: { total: totalSteps * this.stepMs },
    };
    if (control?.length) {
      // Best of N ranks seeds seed … seed+N−1 by the made-up score, as the engine ranks by the real one.
      const first = control[0];
      const { metric, higherIsBetter } = METRICS[first.type];
      const seed = request.seed ?? 0;
      const ranked = Array.from({ length: bestOf ?? 1 }, (_, k) => ({ seed: seed + k, value: fakeConsistency(seed + k, first.scale ?? 1) }));
      ranked.sort((a, b) => (higherIsBetter ? b.value - a.value : a.value - b.value) || a.seed - b.seed);
      const consistency: ConsistencyResult = { type: first.type, metric, value: ranked[0].value, higherIsBetter, ...(bestOf ? { ranked } : {}) };
      result.parameters = { ...result.parameters, seed: ranked[0].seed, extra: { control: control.map(({ image: _i, ...u }) => u), consistency } };
      result.metrics = { consistency: consistency.value };
      result.consistency = consistency;
    }
    this.emit('result', await this.projects.saveResult(projectId, result));
  }

  private checkAnnotator(type: ConditionType): void {
    if (!CONDITION_TYPES.includes(type)) throw new PentimentoError('BAD_ARGUMENT', `Unknown condition type "${String(type)}".`);
    if (this.missingAnnotators.has(type)) {
      throw new PentimentoError('MODEL_MISSING', `The ${type} condition needs an annotator model at <user data>/models/annotators/seg.onnx, which is missing.`);
    }
  }

  /** A stand-in map: the image's edges (Laplacian of its grey levels), as a white-on-black PNG. */
  private async extractCondition(params: { type: ConditionType; image: { base64: string }; raw?: boolean }): Promise<ConditionPreview> {
    this.checkAnnotator(params?.type);
    this.extractConditionRequests.push({ type: params.type, raw: params.raw });
    const { data, info } = await sharp(Buffer.from(params.image.base64, 'base64'))
      .greyscale()
      .convolve({ width: 3, height: 3, kernel: [0, -1, 0, -1, 4, -1, 0, -1, 0] })
      .threshold(12)
      .png()
      .toBuffer({ resolveWithObject: true });
    return { image: { pngBase64: data.toString('base64'), width: info.width, height: info.height }, type: params.type, testAnnotator: params.type !== 'canny' };
  }

  /**
   * invertEdit "inverts" (counted in `inversions`: invert then tune stages) then edits; reedit
   * only edits, from an inversion this engine made. Each stage is `steps` timed steps.
   */
  private queueInversion(method: 'invertEdit' | 'reedit', request: InvertEditRequest | ReeditRequest): { jobId: string } {
    if (typeof request?.prompt !== 'string') throw new PentimentoError('BAD_ARGUMENT', `${method} needs a prompt.`);
    if (method === 'reedit' && !this.inversionsById.has((request as ReeditRequest).inversionId)) {
      throw new PentimentoError('BAD_ARGUMENT', `No cached inversion ${(request as ReeditRequest).inversionId}; run invertEdit first.`);
    }
    if (method === 'invertEdit') this.invertEditRequests.push(request as InvertEditRequest);
    else this.reeditRequests.push(request as ReeditRequest);
    const jobId = `job-${this.nextJob++}`;
    const run = method === 'invertEdit' ? this.runInversion(jobId, request as InvertEditRequest) : this.runReedit(jobId, request as ReeditRequest);
    this.enqueue(jobId, run);
    return { jobId };
  }

  private runInversion(jobId: string, request: InvertEditRequest): () => Promise<void> {
    return async () => {
      const steps = request.steps ?? 4;
      await this.stage(jobId, 'invert', steps);
      if (request.method !== 'ddim') await this.stage(jobId, 'tune', steps);
      this.inversions++;
      const inversionId = String(this.inversions).padStart(24, '0');
      this.inversionsById.set(inversionId, { image: request.image.base64, request });
      await this.edit(jobId, inversionId, request.prompt, request.eta ?? (request.method === 'pti' || !request.method ? 0.7 : 1), request.projectId);
    };
  }

  private runReedit(jobId: string, request: ReeditRequest): () => Promise<void> {
    return () => this.edit(jobId, request.inversionId, request.prompt, request.eta ?? 0.7, request.projectId);
  }

  private async stage(jobId: string, stage: NonNullable<JobProgress['stage']>, totalSteps: number): Promise<void> {
    for (let step = 1; step <= totalSteps; step++) {
      await new Promise((r) => setTimeout(r, this.stepMs));
      if (this.cancelled.has(jobId)) throw new PentimentoError('CANCELLED', 'The job was cancelled.');
      this.emit('progress', { jobId, step, totalSteps, stage, preview: { pngBase64: await solidPng(8, 8, (40 * step) % 256), width: 8, height: 8 } });
      await this.held();
    }
  }

  /** The edit: η = 0 gives the photo back unchanged (a perfect reconstruction); η turns its hues. */
  private async edit(jobId: string, inversionId: string, prompt: string, eta: number, projectId?: string): Promise<void> {
    const { image, request } = this.inversionsById.get(inversionId)!;
    const steps = request.steps ?? 4;
    await this.stage(jobId, 'edit', steps);
    const photo = sharp(Buffer.from(image, 'base64'));
    const meta = await photo.metadata();
    const png = eta === 0 ? await photo.png().toBuffer() : await photo.modulate({ hue: Math.round(180 * eta) }).png().toBuffer();
    const method = { pti: 'prompt-tuning-inversion', nti: 'null-text-inversion', ddim: 'ddim-inversion' }[request.method ?? 'pti'];
    const metrics = { latent_mse: eta === 0 ? 0.0012 : 0.05 * eta, psnr: eta === 0 ? 41.5 : 30 - 10 * eta };
    const result: JobResult = {
      jobId,
      image: { pngBase64: png.toString('base64'), width: meta.width ?? 64, height: meta.height ?? 64 },
      parameters: { prompt, negativePrompt: '', seed: 0, steps, guidance: request.guidance ?? 7.5, scheduler: 'ddim', method, extra: { eta, inversionId, sourcePrompt: request.sourcePrompt ?? '', metrics } },
      metrics,
      inversionId,
      timings: { total: steps * this.stepMs },
    };
    this.emit('result', await this.projects.saveResult(projectId, result));
  }

  private emit<E extends EngineEventName>(event: E, payload: EngineEvents[E]): void {
    for (const l of this.listeners) l(event, payload);
  }

  on(listener: (event: EngineEventName, payload: unknown) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async dispose(): Promise<void> {
    this.listeners.clear();
  }
}
