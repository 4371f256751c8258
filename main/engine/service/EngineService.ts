import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { EngineHandler, EngineOptions } from '../../contract/EngineHandler';
import type {
  ConditionPreview,
  ConsistencyResult,
  ControlNetInfo,
  ControlUnitRequest,
  EngineEventName,
  EngineEvents,
  EngineRequestName,
  GenerateRequest,
  InvertEditRequest,
  JobKind,
  JobResult,
  ModelInfo,
  RequestParams,
  ReeditRequest,
  RequestResult,
  TokenCount,
} from '../../contract/contract';
import { extractCondition } from '../control/extractCondition';
import type { GenerationParameters } from '../image/GenerationParameters';
import { fitToModel } from '../image/fitToModel';
import type { RgbImage } from '../image/RgbImage';
import { controlledUnet } from '../model/controlledUnet';
import { defaultAnnotatorsDir, defaultCacheRoot, defaultControlNetDir, ensureDefaultAnnotators, ensureDefaultControlNet } from '../model/defaultModel';
import { bestOfSeeds, MAX_BEST_OF, type SeedCandidate } from '../pipelines/bestOfSeeds';
import { DEFAULT_MAX_SIDE } from '../pipelines/fitPhoto';
import type { ControlRequest, ControlUnit } from '../pipelines/prepareControl';
import { DEFAULT_TXT2IMG_SIZE } from '../pipelines/textToImage';
import { ControlResources, EMBEDDED_CONTROLNET_ID, EMBEDDED_CONTROLNET_NAME } from './ControlResources';
import { DerivedModelCache } from '../graph/DerivedModelCache';
import { InversionCache } from '../inversion/InversionCache';
import { invertAndEdit, reeditInversion, type InvertEditResult } from '../inversion/invertAndEdit';
import { checkEta, checkInversionSettings } from '../inversion/InversionSettings';
import { badArgument, PentimentoError, toErrorData } from '../errors';
import { encodePng } from '../image/encodePng';
import { encodePreviewPng } from '../image/encodePreviewPng';
import { loadImage } from '../image/loadImage';
import { loadMask } from '../image/loadMask';
import { ProjectRequests } from '../projects/ProjectRequests';
import { resolveModelDir } from '../model/resolveModelDir';
import { StableDiffusionModel } from '../model/StableDiffusionModel';
import { checkCommon, checkStrength, DEFAULT_STRENGTH } from '../pipelines/checkInputs';
import { imageToImage } from '../pipelines/imageToImage';
import { inpaint } from '../pipelines/inpaint';
import type { PipelineProgress, PipelineResult } from '../pipelines/PipelineRequest';
import { textToImage } from '../pipelines/textToImage';
import { CancellationSource } from '../util/cancellation';

type Listener = (event: EngineEventName, payload: unknown) => void;

const JOB_KINDS: readonly JobKind[] = ['txt2img', 'img2img', 'inpaint'];
/** ControlNets one job may combine (each one more ControlNet run per step). */
const MAX_CONTROLNETS = 4;
/** Longer side of progress previews, px (previews are latent-size: 64 px for a 512 px image). */
const PREVIEW_SIDE = 128;

interface Job {
  id: string;
  /** Which request started it. */
  method?: 'generate' | 'invertEdit' | 'reedit';
  request: GenerateRequest | InvertEditRequest | ReeditRequest;
  seed: number;
  source: CancellationSource;
  queuedAt: number;
  /** Set when its turn came; until then a cancel ends it at once. */
  started?: boolean;
}

/**
 * The engine behind the contract: requests in (`handle`), events out (`on`). Jobs run one at a
 * time in arrival order — a diffusion job saturates the machine, and onnxruntime's run() blocks
 * this process's event loop while it works — each reporting progress per denoising step and
 * ending in exactly one `result` or `failed` event.
 */
export class EngineService implements EngineHandler {
  private readonly listeners = new Set<Listener>();
  private readonly jobs = new Map<string, Job>();
  private queue: Promise<void> = Promise.resolve();
  private nextId = 1;
  private disposed = false;

  private readonly control: ControlResources;

  private constructor(
    readonly model: StableDiffusionModel,
    private readonly projects: ProjectRequests,
    /** True when no model folder was given or installed and the embedded test model is used. */
    readonly usingEmbeddedModel: boolean,
    /** Inversions and derived models are cached under it. */
    private readonly userDataDir?: string,
  ) {
    // The embedded model's ControlNet and annotators lie in the cache beside it (see ensureDefaultModel).
    const cacheRoot = defaultCacheRoot();
    this.control = new ControlResources(model.runtime, {
      userDataDir,
      embedded: usingEmbeddedModel ? { controlNetDir: defaultControlNetDir(cacheRoot), annotatorsDir: defaultAnnotatorsDir(cacheRoot) } : undefined,
    });
    if (usingEmbeddedModel) {
      // Made by ensureDefaultModel already; again here in case the cache was cleaned since.
      ensureDefaultControlNet(cacheRoot);
      ensureDefaultAnnotators(cacheRoot);
    }
  }

  /**
   * Opens the model: `modelDir`, else the first model folder under `<userDataDir>/models`,
   * else the embedded random-weight test model (reported as such in ModelInfo).
   */
  static async create(opts: EngineOptions): Promise<EngineService> {
    const { dir, embedded } = await resolveModelDir(opts.modelDir, opts.userDataDir);
    const model = await StableDiffusionModel.load(dir, { provider: opts.provider });
    return new EngineService(model, new ProjectRequests(opts.userDataDir), embedded, opts.userDataDir);
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit<E extends EngineEventName>(event: E, payload: EngineEvents[E]): void {
    for (const l of this.listeners) {
      try {
        l(event, payload);
      } catch {
        // A faulty listener must not fail the job or starve the other listeners.
      }
    }
  }

  async handle<K extends EngineRequestName>(method: K, params: RequestParams<K>): Promise<RequestResult<K>> {
    if (this.disposed) throw new PentimentoError('INTERNAL', 'The engine has been shut down; restart it.');
    if (ProjectRequests.handles(method)) return this.projects.handle(method, params as never) as Promise<RequestResult<K>>;
    switch (method) {
      case 'getModelInfo':
        return this.getModelInfo() as RequestResult<K>;
      case 'countTokens':
        return this.countTokens(params as RequestParams<'countTokens'>) as RequestResult<K>;
      case 'generate':
        // A typo'd project fails the request at once rather than the finished job.
        await this.projects.checkProject((params as RequestParams<'generate'>)?.projectId);
        return this.generate(params as RequestParams<'generate'>) as RequestResult<K>;
      case 'cancel':
        return this.cancel(params as RequestParams<'cancel'>) as RequestResult<K>;
      case 'invertEdit':
      case 'reedit':
        await this.projects.checkProject((params as RequestParams<'reedit'>)?.projectId);
        return this.queueInversion(method, params as InvertEditRequest | ReeditRequest) as RequestResult<K>;
      case 'listControlNets':
        return this.listControlNets() as RequestResult<K>;
      case 'extractCondition':
        return (await this.extractCondition(params as RequestParams<'extractCondition'>)) as RequestResult<K>;
      default:
        throw badArgument(`Unknown request "${String(method)}".`);
    }
  }

  getModelInfo(): ModelInfo {
    const f = this.model.folder;
    return {
      name: f.name,
      dir: f.dir,
      isTestModel: f.isTestModel,
      inpaintingUnet: f.inpaintingUnet,
      provider: this.model.runtime.provider,
      hash: f.hash,
    };
  }

  countTokens(params: { text: string }): TokenCount {
    if (!params || typeof params.text !== 'string') throw badArgument('countTokens needs { text: string }.');
    const { tokenizer } = this.model.components;
    const enc = tokenizer.encode(params.text);
    // bos and eos take two of the text encoder's positions.
    return { count: enc.tokenCount, max: tokenizer.maxLength - 2, truncated: enc.truncated };
  }

  /** Checks what can be checked at once (so a bad request is rejected, not queued), then queues. */
  generate(request: GenerateRequest): { jobId: string } {
    if (!request || typeof request !== 'object') throw badArgument('generate needs a request object.');
    if (!JOB_KINDS.includes(request.kind)) {
      throw badArgument(`kind is "${String(request.kind)}"; use one of ${JOB_KINDS.join(', ')}.`, { valid: [...JOB_KINDS] });
    }
    const { control: _units, ...common } = request;
    const { seed } = checkCommon(common, this.model.components.scheduler.sampler);
    if (request.kind !== 'txt2img') {
      if (!request.image || typeof request.image.base64 !== 'string') throw badArgument(`A ${request.kind} job needs an image.`);
      if (request.strength !== undefined) checkStrength(request.strength);
    }
    if (request.kind === 'inpaint' && (!request.mask || typeof request.mask.base64 !== 'string')) {
      throw badArgument('An inpaint job needs a mask (white = regenerate).');
    }
    if (request.control !== undefined) this.checkControl(request);
    if (request.bestOf !== undefined) {
      if (!Number.isInteger(request.bestOf) || request.bestOf < 1 || request.bestOf > MAX_BEST_OF) {
        throw badArgument(`bestOf is ${String(request.bestOf)}; use a whole number from 1 to ${MAX_BEST_OF}.`);
      }
      if (!request.control) throw badArgument('bestOf ranks results by their consistency with a condition; add a control.');
    }
    const job: Job = { id: `job-${this.nextId++}`, request, seed, source: new CancellationSource(), queuedAt: performance.now() };
    this.jobs.set(job.id, job);
    this.queue = this.queue.then(() => this.runJob(job));
    return { jobId: job.id };
  }

  /**
   * A controlled generation's units, checked before queueing: known ControlNets, valid types and
   * fractions, an image for each condition, and the annotators that extraction and scoring need.
   */
  private checkControl(request: GenerateRequest): void {
    const units = request.control;
    if (!Array.isArray(units) || units.length === 0 || units.length > MAX_CONTROLNETS) {
      throw badArgument(`control must list 1 to ${MAX_CONTROLNETS} ControlNets, each { controlnet, type, … }.`);
    }
    units.forEach((u, i) => {
      const what = `ControlNet ${i + 1}`;
      if (!u || typeof u !== 'object') throw badArgument(`${what}: give { controlnet, type, image?, raw?, scale?, start?, end? }.`);
      this.control.find(u.controlnet);
      const type = ControlResources.checkType(u.type, what);
      if (u.image !== undefined && typeof u.image?.base64 !== 'string') throw badArgument(`${what}: image must be { base64 } image bytes.`);
      if (!u.image && !request.image) throw badArgument(`${what}: no condition image; give control[${i}].image or the job's image.`);
      if (u.scale !== undefined && (typeof u.scale !== 'number' || !Number.isFinite(u.scale))) {
        throw badArgument(`${what}: scale is ${String(u.scale)}; use a number (1 = full strength, 0 = off).`);
      }
      const start = u.start ?? 0;
      const end = u.end ?? 1;
      for (const [name, v] of [['start', start], ['end', end]] as const) {
        if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw badArgument(`${what}: ${name} is ${String(v)}; use a fraction of the steps from 0 to 1.`);
      }
      if (start >= end) throw badArgument(`${what}: start ${start} is not before end ${end}.`);
      // Extraction needs the type's annotator; so does scoring the first condition, even from a raw map.
      if (!u.raw || i === 0) this.control.annotatorsDir(type);
    });
  }

  listControlNets(): ControlNetInfo[] {
    return this.control.list();
  }

  /** The condition map a controlled generation from this image would use, as a PNG at that generation's size. */
  async extractCondition(params: RequestParams<'extractCondition'>): Promise<ConditionPreview> {
    if (!params || typeof params !== 'object') throw badArgument('extractCondition needs { type, image: { base64 }, raw? }.');
    const type = ControlResources.checkType(params.type, 'extractCondition');
    if (typeof params.image?.base64 !== 'string') throw badArgument('extractCondition needs an image: { base64 } image bytes.');
    const modelsDir = params.raw ? undefined : this.control.annotatorsDir(type);
    const image = await loadImage(Buffer.from(params.image.base64, 'base64'), { name: params.image.name ?? 'the image' });
    const size = fitToModel(image.width, image.height, { multiple: 8, maxSide: DEFAULT_MAX_SIDE });
    const condition = await extractCondition(type, image, { raw: params.raw === true, modelsDir, runtime: this.model.runtime, ...size });
    const png = await encodePng(condition.rgb, condition.width, condition.height);
    return {
      image: { pngBase64: png.toString('base64'), width: condition.width, height: condition.height },
      type,
      testAnnotator: !params.raw && this.control.isTestAnnotator(type),
    };
  }

  /** Edits by inversion: checked at once, then queued with the generate jobs. */
  queueInversion(method: 'invertEdit' | 'reedit', request: InvertEditRequest | ReeditRequest): { jobId: string } {
    if (!request || typeof request !== 'object') throw badArgument(`${method} needs a request object.`);
    if (typeof request.prompt !== 'string') throw badArgument(`${method} needs a prompt (the target: what the photo should show).`);
    if (request.eta !== undefined) checkEta(request.eta);
    if (request.mask !== undefined && typeof request.mask?.base64 !== 'string') throw badArgument('The mask must be { base64 } image bytes.');
    if (method === 'invertEdit') {
      const r = request as InvertEditRequest;
      if (!r.image || typeof r.image.base64 !== 'string') throw badArgument('invertEdit needs an image.');
      checkInversionSettings({ method: r.method, steps: r.steps, guidance: r.guidance, sourcePrompt: r.sourcePrompt, innerSteps: r.innerSteps, lr: r.lr, init: r.init });
    } else if (!this.inversionCache().has((request as ReeditRequest).inversionId)) {
      throw badArgument(`No cached inversion ${(request as ReeditRequest).inversionId}; run invertEdit first (its result carries the inversionId).`);
    }
    const job: Job = { id: `job-${this.nextId++}`, method, request, seed: 0, source: new CancellationSource(), queuedAt: performance.now() };
    this.jobs.set(job.id, job);
    this.queue = this.queue.then(() => this.runJob(job));
    return { jobId: job.id };
  }

  private inversionCache(): InversionCache {
    return new InversionCache(path.join(this.userDataDir ?? path.join(this.model.folder.dir, '.pentimento'), 'inversions'));
  }

  private async runInversion(job: Job): Promise<InvertEditResult> {
    const onProgress = (p: PipelineProgress & { stage: 'invert' | 'tune' | 'edit' }) => this.progress(job.id, p);
    const mask = async (m: { base64: string } | undefined, width: number, height: number) =>
      m ? loadMask(Buffer.from(m.base64, 'base64'), width, height, { name: 'the mask' }) : undefined;
    if (job.method === 'reedit') {
      const r = job.request as ReeditRequest;
      const cache = this.inversionCache();
      const stored = cache.load(r.inversionId);
      return reeditInversion(this.model, {
        inversionId: r.inversionId,
        inversionCache: cache,
        prompt: r.prompt,
        eta: r.eta,
        mask: stored ? await mask(r.mask, stored.photo.width, stored.photo.height) : undefined,
        cancel: job.source.token,
        onProgress,
      });
    }
    const r = job.request as InvertEditRequest;
    const image = await loadImage(Buffer.from(r.image.base64, 'base64'), { name: r.image.name ?? 'the image' });
    return invertAndEdit(this.model, {
      image,
      prompt: r.prompt,
      eta: r.eta,
      mask: await mask(r.mask, image.width, image.height),
      settings: { method: r.method, steps: r.steps, guidance: r.guidance, sourcePrompt: r.sourcePrompt, innerSteps: r.innerSteps, lr: r.lr, init: r.init },
      inversionCache: this.inversionCache(),
      derivedModels: new DerivedModelCache(path.join(path.dirname(this.inversionCache().dir), 'derived')),
      cancel: job.source.token,
      onProgress,
    });
  }

  cancel(params: { jobId: string }): { cancelled: boolean } {
    const job = params && this.jobs.get(params.jobId);
    if (!job || job.source.token.isCancelled) return { cancelled: false };
    job.source.cancel();
    if (!job.started) {
      // A job still waiting for its turn ends now, not when the jobs before it have run; runJob skips it.
      this.jobs.delete(job.id);
      this.emit('failed', { jobId: job.id, error: toErrorData(new PentimentoError('CANCELLED', 'The job was cancelled before it started.')) });
    }
    return { cancelled: true };
  }

  private async runJob(job: Job): Promise<void> {
    if (!this.jobs.has(job.id)) return; // cancelled while queued: its end is announced already
    job.started = true;
    const queuedMs = performance.now() - job.queuedAt;
    try {
      job.source.token.throwIfCancelled();
      let result: PipelineResult | InvertEditResult;
      let extras: Pick<JobResult, 'metrics' | 'inversionId' | 'consistency'> = {};
      if (job.method && job.method !== 'generate') {
        const r = await this.runInversion(job);
        result = r;
        extras = { metrics: r.metrics, inversionId: r.inversion.key };
      } else {
        const run = await this.runPipeline(job);
        result = run.result;
        const c = result.metrics?.consistency;
        if (c) {
          const consistency: ConsistencyResult = { type: c.type, metric: c.metric, value: c.value, higherIsBetter: c.higherIsBetter };
          if (run.ranked) consistency.ranked = run.ranked.map((k) => ({ seed: k.seed, value: k.consistency }));
          extras = { metrics: { consistency: c.value }, consistency };
        }
      }
      // The scores and the steps actually run travel in the PNG too, so a reopened project still shows them.
      const parameters = withStepsRun(withScores(result.parameters, extras), result.stepsRun);
      const png = await encodePng(result.rgb, result.width, result.height, parameters);
      const event = await this.projects.saveResult(job.request.projectId, {
        jobId: job.id,
        image: { pngBase64: png.toString('base64'), width: result.width, height: result.height },
        parameters: { ...parameters },
        // `load` is the model's one-time load, the same for every job of this engine.
        timings: { ...result.timings, queued: queuedMs, load: this.model.loadMs },
        ...extras,
      });
      this.emit('result', event);
    } catch (e) {
      this.emit('failed', { jobId: job.id, error: toErrorData(e) });
    } finally {
      this.jobs.delete(job.id);
    }
  }

  private async runPipeline(job: Job): Promise<{ result: PipelineResult; ranked?: SeedCandidate[] }> {
    const r = job.request as GenerateRequest;
    const image = r.image ? await loadImage(Buffer.from(r.image.base64, 'base64'), { name: r.image.name ?? 'the image' }) : undefined;
    const control = r.control ? await this.prepareControlRequest(r.control, image, r) : undefined;
    const size = control && r.kind === 'txt2img' ? { ...control.size, ...(control.outputSize ? { outputSize: control.outputSize } : {}) } : { width: r.width, height: r.height };
    const mask = r.kind === 'inpaint' ? await loadMask(Buffer.from(r.mask!.base64, 'base64'), image!.width, image!.height, { name: 'the mask' }) : undefined;
    const run = (seed: number, onProgress: (p: PipelineProgress) => Promise<void>): Promise<PipelineResult> => {
      const common = {
        prompt: r.prompt,
        negativePrompt: r.negativePrompt,
        steps: r.steps,
        guidance: r.guidance,
        seed,
        scheduler: r.scheduler,
        cancel: job.source.token,
        onProgress,
        ...(control ? { control: control.request } : {}),
      };
      if (r.kind === 'txt2img') return textToImage(this.model, { ...common, ...size });
      if (r.kind === 'img2img') return imageToImage(this.model, { ...common, image: image!, strength: r.strength ?? DEFAULT_STRENGTH });
      return inpaint(this.model, { ...common, image: image!, mask: mask!, strength: r.strength });
    };
    const n = r.bestOf ?? 1;
    if (n === 1) return { result: await run(job.seed, (p) => this.progress(job.id, p)) };
    // Best of N: one progress bar over all N runs.
    let k = 0;
    const { best, ranked } = await bestOfSeeds(n, job.seed, (seed) => {
      const offset = k++;
      return run(seed, (p) => this.progress(job.id, { ...p, step: offset * p.totalSteps + p.step, totalSteps: n * p.totalSteps }));
    });
    return { result: best, ranked };
  }

  /**
   * The job's ControlNets with their conditions, extracted (or taken raw) at the generation size:
   * the photo's fitted size, or for txt2img the requested size, else the first condition image's.
   */
  private async prepareControlRequest(
    units: ControlUnitRequest[],
    photo: RgbImage | undefined,
    r: GenerateRequest,
  ): Promise<{ request: ControlRequest; size: { width: number; height: number }; outputSize?: { width: number; height: number } }> {
    const images: RgbImage[] = [];
    for (const [i, u] of units.entries()) {
      images.push(u.image ? await loadImage(Buffer.from(u.image.base64, 'base64'), { name: u.image.name ?? `the image of ControlNet ${i + 1}` }) : photo!);
    }
    const fit = (img: RgbImage) => fitToModel(img.width, img.height, { multiple: 8, maxSide: DEFAULT_MAX_SIDE });
    const size =
      r.kind !== 'txt2img'
        ? fit(photo!)
        : r.width !== undefined || r.height !== undefined
          ? { width: r.width ?? DEFAULT_TXT2IMG_SIZE, height: r.height ?? DEFAULT_TXT2IMG_SIZE }
          : fit(images[0]);
    // A txt2img sized from its condition image is restored to that image's size, as photo edits are.
    const fromImage = r.kind === 'txt2img' && r.width === undefined && r.height === undefined;
    const runtime = this.model.runtime;
    const built: ControlUnit[] = [];
    for (const [i, u] of units.entries()) {
      const condition = await extractCondition(u.type, images[i], { raw: u.raw === true, modelsDir: u.raw ? undefined : this.control.annotatorsDir(u.type), runtime, ...size });
      // The id is the installed folder's name; the embedded one is recorded as the CLI names it.
      const name = u.controlnet === EMBEDDED_CONTROLNET_ID ? EMBEDDED_CONTROLNET_NAME : u.controlnet;
      // The condition's source file, by name only (as the CLI records it), when the request named it.
      const given = u.image ? u.image.name : r.image?.name;
      const source = typeof given === 'string' && given.trim() !== '' ? { image: path.basename(given.trim()), raw: u.raw === true } : undefined;
      built.push({
        controlnet: await this.control.open(u.controlnet),
        name,
        type: u.type,
        condition,
        scale: u.scale,
        start: u.start,
        end: u.end,
        ...(source ? { source } : {}),
      });
    }
    const unet = await controlledUnet(this.model, this.userDataDir ?? path.join(this.model.folder.dir, '.pentimento'));
    return {
      request: { unet, units: built, extract: { modelsDir: this.control.annotatorsDir(units[0].type), runtime } },
      size,
      ...(fromImage ? { outputSize: { width: images[0].width, height: images[0].height } } : {}),
    };
  }

  private async progress(jobId: string, p: PipelineProgress & { stage?: 'invert' | 'tune' | 'edit' }): Promise<void> {
    if (this.listeners.size === 0) return;
    const preview = await encodePreviewPng(p.preview.rgb, p.preview.width, p.preview.height, PREVIEW_SIDE);
    this.emit('progress', {
      jobId,
      step: p.step,
      totalSteps: p.totalSteps,
      ...(p.stage ? { stage: p.stage } : {}),
      preview: { pngBase64: preview.png.toString('base64'), width: preview.width, height: preview.height },
    });
  }

  /** Cancels every job, waits for the running one to stop, and releases the sessions. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const job of this.jobs.values()) job.source.cancel();
    await this.queue;
    await this.control.dispose();
    await this.model.dispose();
    this.listeners.clear();
  }
}

/**
 * The parameters with `extra.stepsRun` when fewer denoising steps ran than were asked for
 * (img2img and inpaint run ⌊steps·strength⌋ of the schedule), unless the pipeline said so itself.
 */
function withStepsRun(parameters: GenerationParameters, stepsRun: number): GenerationParameters {
  const said = (parameters as unknown as Record<string, unknown>).stepsRun ?? parameters.extra?.stepsRun;
  if (stepsRun === parameters.steps || said !== undefined) return parameters;
  return { ...parameters, extra: { ...parameters.extra, stepsRun } };
}

/**
 * The parameters with the result's scores under `extra` (consistency, or an inversion's metrics),
 * so they are saved in the PNG and survive a reopen.
 */
function withScores(parameters: GenerationParameters, extras: Pick<JobResult, 'metrics' | 'consistency'>): GenerationParameters {
  if (extras.consistency) return { ...parameters, extra: { ...parameters.extra, consistency: extras.consistency } };
  if (extras.metrics) return { ...parameters, extra: { ...parameters.extra, metrics: extras.metrics } };
  return parameters;
}
