import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { ProjectRequests } from '../../main/engine/projects/ProjectRequests';
import { PentimentoError, toErrorData } from '../../main/engine/errors';
import type { EngineHandler } from '../../main/contract/EngineHandler';
import type {
  EngineEventName,
  EngineEvents,
  EngineRequestName,
  GenerateRequest,
  ModelInfo,
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

/**
 * An engine stand-in for the shell's tests: counts whitespace-separated words as tokens, and
 * runs generate jobs one at a time, as the real engine does, each as `steps` timed steps with
 * progress previews, then a result whose size is the source image's (or the requested size).
 * Records every generate request it accepted. Project requests go to the real ProjectRequests
 * over `userDataDir` (a fresh temporary folder unless given).
 */
export class FakeEngine implements EngineHandler {
  readonly generateRequests: GenerateRequest[] = [];
  readonly projects: ProjectRequests;
  private readonly listeners = new Set<(event: EngineEventName, payload: unknown) => void>();
  private readonly cancelled = new Set<string>();
  private queue: Promise<void> = Promise.resolve();
  private nextJob = 1;

  constructor(
    private readonly stepMs = 20,
    userDataDir = mkdtempSync(path.join(os.tmpdir(), 'pentimento-fake-engine-')),
  ) {
    this.projects = new ProjectRequests(userDataDir);
  }

  async handle<K extends EngineRequestName>(method: K, params: RequestParams<K>): Promise<RequestResult<K>> {
    return (await this.dispatch(method, params)) as RequestResult<K>;
  }

  private async dispatch(method: EngineRequestName, params: unknown): Promise<unknown> {
    if (ProjectRequests.handles(method)) return this.projects.handle(method, params as never);
    switch (method) {
      case 'getModelInfo':
        return FAKE_MODEL;
      case 'countTokens': {
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
      case 'cancel': {
        const jobId = (params as { jobId?: unknown })?.jobId;
        if (typeof jobId !== 'string') throw new PentimentoError('BAD_ARGUMENT', 'cancel needs { jobId: string }.');
        this.cancelled.add(jobId);
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
    this.generateRequests.push(request);
    const jobId = `job-${this.nextJob++}`;
    this.queue = this.queue.then(() => this.run(jobId, request).catch((e: unknown) => this.emit('failed', { jobId, error: toErrorData(e) })));
    return { jobId };
  }

  private async run(jobId: string, request: GenerateRequest): Promise<void> {
    if (this.cancelled.has(jobId)) throw new PentimentoError('CANCELLED', 'The job was cancelled before it started.');
    if (request.prompt.includes('BREAK')) {
      await new Promise((r) => setTimeout(r, this.stepMs));
      throw new PentimentoError('OUT_OF_MEMORY', 'The fake engine ran out of memory on purpose (BREAK in the prompt).');
    }
    const totalSteps = request.steps ?? 4;
    let width = request.width ?? 64;
    let height = request.height ?? 64;
    if (request.image) {
      const meta = await sharp(Buffer.from(request.image.base64, 'base64')).metadata();
      width = meta.width ?? width;
      height = meta.height ?? height;
    }
    for (let step = 1; step <= totalSteps; step++) {
      await new Promise((r) => setTimeout(r, this.stepMs));
      if (this.cancelled.has(jobId)) throw new PentimentoError('CANCELLED', 'The job was cancelled.');
      const preview = { pngBase64: await solidPng(8, 8, Math.round((255 * step) / totalSteps)), width: 8, height: 8 };
      this.emit('progress', { jobId, step, totalSteps, preview });
    }
    // A visible "edit": the source photo with its hues turned by the seed, else a solid colour.
    const pngBase64 = request.image
      ? (await sharp(Buffer.from(request.image.base64, 'base64')).modulate({ hue: 60 + ((request.seed ?? 0) % 240) }).png().toBuffer()).toString('base64')
      : await solidPng(width, height, (request.seed ?? 0) % 256);
    const image = { pngBase64, width, height };
    const { image: _image, mask: _mask, projectId, ...parameters } = request;
    const result = { jobId, image, parameters: { ...parameters, seed: request.seed ?? 0 }, timings: { total: totalSteps * this.stepMs } };
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
