import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { EngineHandler, EngineOptions } from '../../contract/EngineHandler';
import type {
  EngineEventName,
  EngineEvents,
  EngineRequestName,
  GenerateRequest,
  InvertEditRequest,
  JobKind,
  ModelInfo,
  RequestParams,
  ReeditRequest,
  RequestResult,
  TokenCount,
} from '../../contract/contract';
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

  private constructor(
    readonly model: StableDiffusionModel,
    private readonly projects: ProjectRequests,
    /** True when no model folder was given or installed and the embedded test model is used. */
    readonly usingEmbeddedModel: boolean,
    /** Inversions and derived models are cached under it. */
    private readonly userDataDir?: string,
  ) {}

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
    const { seed } = checkCommon(request, this.model.components.scheduler.sampler);
    if (request.kind !== 'txt2img') {
      if (!request.image || typeof request.image.base64 !== 'string') throw badArgument(`A ${request.kind} job needs an image.`);
      if (request.strength !== undefined) checkStrength(request.strength);
    }
    if (request.kind === 'inpaint' && (!request.mask || typeof request.mask.base64 !== 'string')) {
      throw badArgument('An inpaint job needs a mask (white = regenerate).');
    }
    const job: Job = { id: `job-${this.nextId++}`, request, seed, source: new CancellationSource(), queuedAt: performance.now() };
    this.jobs.set(job.id, job);
    this.queue = this.queue.then(() => this.runJob(job));
    return { jobId: job.id };
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
    return { cancelled: true };
  }

  private async runJob(job: Job): Promise<void> {
    const queuedMs = performance.now() - job.queuedAt;
    try {
      job.source.token.throwIfCancelled();
      const result: PipelineResult | InvertEditResult = job.method && job.method !== 'generate' ? await this.runInversion(job) : await this.runPipeline(job);
      const inversion = 'inversion' in result ? { metrics: result.metrics, inversionId: result.inversion.key } : {};
      const png = await encodePng(result.rgb, result.width, result.height, result.parameters);
      const event = await this.projects.saveResult(job.request.projectId, {
        jobId: job.id,
        image: { pngBase64: png.toString('base64'), width: result.width, height: result.height },
        parameters: { ...result.parameters },
        // `load` is the model's one-time load, the same for every job of this engine.
        timings: { ...result.timings, queued: queuedMs, load: this.model.loadMs },
        ...inversion,
      });
      this.emit('result', event);
    } catch (e) {
      this.emit('failed', { jobId: job.id, error: toErrorData(e) });
    } finally {
      this.jobs.delete(job.id);
    }
  }

  private async runPipeline(job: Job): Promise<PipelineResult> {
    const r = job.request as GenerateRequest;
    const common = {
      prompt: r.prompt,
      negativePrompt: r.negativePrompt,
      steps: r.steps,
      guidance: r.guidance,
      seed: job.seed,
      scheduler: r.scheduler,
      cancel: job.source.token,
      onProgress: (p: PipelineProgress) => this.progress(job.id, p),
    };
    if (r.kind === 'txt2img') return textToImage(this.model, { ...common, width: r.width, height: r.height });
    const image = await loadImage(Buffer.from(r.image!.base64, 'base64'), { name: r.image!.name ?? 'the image' });
    if (r.kind === 'img2img') return imageToImage(this.model, { ...common, image, strength: r.strength ?? DEFAULT_STRENGTH });
    const mask = await loadMask(Buffer.from(r.mask!.base64, 'base64'), image.width, image.height, { name: 'the mask' });
    return inpaint(this.model, { ...common, image, mask, strength: r.strength });
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
    await this.model.dispose();
    this.listeners.clear();
  }
}
