import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineEventName, EngineEvents, GenerateRequest } from '../../../main/contract/contract';
import { parametersFromPng } from '../../../main/engine/image/readParameters';
import { resolveModelDir } from '../../../main/engine/model/resolveModelDir';
import { EngineService } from '../../../main/engine/service/EngineService';
import { testModelDir } from '../../fixtures/models';

let engine: EngineService;
let userDataDir: string;
type Event = { event: EngineEventName; payload: EngineEvents[EngineEventName] };
const events: Event[] = [];

beforeAll(async () => {
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-engine-'));
  engine = await EngineService.create({ modelDir: await testModelDir('tiny'), provider: 'cpu', userDataDir });
  engine.on((event, payload) => events.push({ event, payload: payload as EngineEvents[EngineEventName] }));
});
afterAll(async () => {
  await engine?.dispose();
  fs.rmSync(userDataDir, { recursive: true, force: true });
});

/** Resolves with the job's events once its result or failure arrives. */
function eventsOf(jobId: string): Promise<Event[]> {
  return new Promise((resolve) => {
    const mine = () => events.filter((e) => (e.payload as { jobId?: string }).jobId === jobId);
    const poll = () => {
      const list = mine();
      if (list.some((e) => e.event === 'result' || e.event === 'failed')) resolve(list);
      else setTimeout(poll, 10);
    };
    poll();
  });
}

async function pngBase64(width: number, height: number): Promise<string> {
  const rgb = Buffer.alloc(width * height * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 37) % 256;
  return (await sharp(rgb, { raw: { width, height, channels: 3 } }).png().toBuffer()).toString('base64');
}

const txt2img: GenerateRequest = { kind: 'txt2img', prompt: 'a lighthouse', width: 64, height: 64, steps: 2, seed: 11 };

describe('EngineService', () => {
  it('describes the model, labelled as the random-weight test model', async () => {
    const info = await engine.handle('getModelInfo', undefined as never);
    expect(info).toMatchObject({ name: 'pentimento-test-tiny', isTestModel: true, inpaintingUnet: false, provider: 'cpu' });
    expect(info.hash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('counts prompt tokens against the 75 the text encoder takes', async () => {
    expect(await engine.handle('countTokens', { text: 'a photo of a cat' })).toEqual({ count: 5, max: 75, truncated: false });
    const long = await engine.handle('countTokens', { text: 'cat '.repeat(80) });
    expect(long).toEqual({ count: 80, max: 75, truncated: true });
  });

  it('runs a job: one progress event per step with a preview PNG, then a result PNG carrying its parameters', async () => {
    const { jobId } = await engine.handle('generate', txt2img);
    const list = await eventsOf(jobId);
    const progress = list.filter((e) => e.event === 'progress').map((e) => e.payload as EngineEvents['progress']);
    expect(progress.map((p) => p.step)).toEqual([1, 2]);
    for (const p of progress) {
      expect(p.totalSteps).toBe(2);
      const meta = await sharp(Buffer.from(p.preview!.pngBase64, 'base64')).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 8, 8]);
    }
    const result = list.find((e) => e.event === 'result')!.payload as EngineEvents['result'];
    const png = Buffer.from(result.image.pngBase64, 'base64');
    const meta = await sharp(png).metadata();
    expect([meta.width, meta.height, result.image.width, result.image.height]).toEqual([64, 64, 64, 64]);
    expect(parametersFromPng(png)).toMatchObject({ prompt: 'a lighthouse', seed: 11, steps: 2, method: 'txt2img' });
    expect(result.parameters).toMatchObject({ seed: 11 });
    expect(result.timings.insideOrt).toBeGreaterThan(0);
    expect(result.timings.total).toBeGreaterThanOrEqual(result.timings.insideOrt);
  });

  it('img2img and inpaint jobs take encoded images and return the photo size', async () => {
    const image = { base64: await pngBase64(40, 24), name: 'test.png' };
    const a = await engine.handle('generate', { kind: 'img2img', prompt: 'x', image, steps: 2, strength: 1, seed: 1 });
    const b = await engine.handle('generate', { kind: 'inpaint', prompt: 'x', image, mask: { base64: await pngBase64(10, 6) }, steps: 2, seed: 1 });
    for (const id of [a.jobId, b.jobId]) {
      const result = (await eventsOf(id)).find((e) => e.event === 'result')?.payload as EngineEvents['result'];
      expect(result).toBeDefined();
      expect([result.image.width, result.image.height]).toEqual([40, 24]);
    }
  });

  it('rejects bad requests at once with BAD_ARGUMENT', async () => {
    await expect(engine.handle('generate', { ...txt2img, kind: 'outpaint' as never })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(engine.handle('generate', { kind: 'img2img', prompt: 'x' })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringContaining('image') });
    await expect(
      engine.handle('generate', { kind: 'img2img', prompt: 'x', image: { base64: 'AAAA' }, strength: 1.5 }),
    ).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringContaining('strength') });
    await expect(engine.handle('generate', { ...txt2img, steps: 5000 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringContaining('steps') });
  });

  it('an undecodable image fails the job with BAD_IMAGE', async () => {
    const { jobId } = await engine.handle('generate', { kind: 'img2img', prompt: 'x', image: { base64: Buffer.from('not an image').toString('base64'), name: 'fake.png' } });
    const failed = (await eventsOf(jobId)).find((e) => e.event === 'failed')!.payload as EngineEvents['failed'];
    expect(failed.error.code).toBe('BAD_IMAGE');
  });

  it('runs jobs one at a time; cancel stops the running job within a step and drops a queued one', async () => {
    const first = await engine.handle('generate', { ...txt2img, steps: 30 });
    const second = await engine.handle('generate', { ...txt2img, steps: 2 });
    const third = await engine.handle('generate', { ...txt2img, steps: 2 });
    expect(await engine.handle('cancel', { jobId: second.jobId })).toEqual({ cancelled: true });
    // Cancel the first once it has made progress.
    await new Promise<void>((resolve) => {
      const poll = () => (events.some((e) => e.event === 'progress' && (e.payload as { jobId: string }).jobId === first.jobId) ? resolve() : setTimeout(poll, 5));
      poll();
    });
    expect(await engine.handle('cancel', { jobId: first.jobId })).toEqual({ cancelled: true });
    const firstEvents = await eventsOf(first.jobId);
    const failed = firstEvents.find((e) => e.event === 'failed')!.payload as EngineEvents['failed'];
    expect(failed.error.code).toBe('CANCELLED');
    expect(firstEvents.filter((e) => e.event === 'progress').length).toBeLessThan(30);
    const secondEvents = await eventsOf(second.jobId);
    expect(secondEvents.map((e) => e.event)).toEqual(['failed']);
    expect((await eventsOf(third.jobId)).some((e) => e.event === 'result')).toBe(true);
    // Jobs ended in arrival order.
    const ends = events.filter((e) => e.event === 'result' || e.event === 'failed').map((e) => (e.payload as { jobId: string }).jobId);
    expect(ends.indexOf(first.jobId)).toBeLessThan(ends.indexOf(third.jobId));
    expect(await engine.handle('cancel', { jobId: third.jobId })).toEqual({ cancelled: false });
  });

  it('cancelling a queued job ends it at once, before the running job, and its turn is skipped', async () => {
    const first = await engine.handle('generate', { ...txt2img, steps: 30 });
    const second = await engine.handle('generate', { ...txt2img, steps: 2 });
    const third = await engine.handle('generate', { ...txt2img, steps: 2 });
    expect(await engine.handle('cancel', { jobId: second.jobId })).toEqual({ cancelled: true });
    const ended = (jobId: string) => events.findIndex((e) => (e.event === 'result' || e.event === 'failed') && (e.payload as { jobId: string }).jobId === jobId);
    // Announced by the time cancel answers, while the first job still runs.
    const secondEnd = ended(second.jobId);
    expect(secondEnd).toBeGreaterThanOrEqual(0);
    expect(events[secondEnd].event).toBe('failed');
    expect((events[secondEnd].payload as EngineEvents['failed']).error.code).toBe('CANCELLED');
    expect(ended(first.jobId)).toBe(-1);
    // A second cancel of it changes nothing.
    expect(await engine.handle('cancel', { jobId: second.jobId })).toEqual({ cancelled: false });
    expect(await engine.handle('cancel', { jobId: first.jobId })).toEqual({ cancelled: true });
    expect((await eventsOf(third.jobId)).some((e) => e.event === 'result')).toBe(true);
    // Exactly one event for the skipped job, and the others ended after it.
    expect(events.filter((e) => (e.payload as { jobId?: string }).jobId === second.jobId).map((e) => e.event)).toEqual(['failed']);
    expect(ended(first.jobId)).toBeGreaterThan(secondEnd);
    expect(ended(third.jobId)).toBeGreaterThan(ended(first.jobId));
  });
});

describe('EngineService projects', () => {
  it('serves the project requests and saves a job result into its project before announcing it', async () => {
    const state = await engine.handle('createProject', { image: { base64: await pngBase64(32, 24), name: 'photo.png' } });
    expect((await engine.handle('listProjects', undefined as never)).map((p) => p.id)).toContain(state.project.id);
    const { jobId } = await engine.handle('generate', { ...txt2img, projectId: state.project.id });
    const result = (await eventsOf(jobId)).find((e) => e.event === 'result')!.payload as EngineEvents['result'];
    expect(result.saved?.projectId).toBe(state.project.id);
    const reopened = await engine.handle('openProject', { projectId: state.project.id });
    expect(reopened.results.map((r) => r.id)).toEqual([result.saved!.resultId]);
    await expect(engine.handle('generate', { ...txt2img, projectId: 'no-such-project' })).rejects.toHaveProperty('code');
  });
});

describe('resolveModelDir', () => {
  it('prefers the given folder, then an installed one under <userDataDir>/models', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-user-'));
    try {
      expect(await resolveModelDir('/some/model', dir)).toEqual({ dir: path.resolve('/some/model'), embedded: false });
      fs.mkdirSync(path.join(dir, 'models', 'b-model'), { recursive: true });
      fs.mkdirSync(path.join(dir, 'models', 'a-partial'), { recursive: true }); // no model_index.json
      fs.writeFileSync(path.join(dir, 'models', 'b-model', 'model_index.json'), '{}');
      expect(await resolveModelDir(undefined, dir)).toEqual({ dir: path.join(dir, 'models', 'b-model'), embedded: false });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without a model folder or an installed model, opens the embedded random-weight test model', async () => {
    const saved = process.env.PENTIMENTO_CACHE_DIR;
    // A cache inside the repository's ignored .cache, so tests never write to the user's cache.
    process.env.PENTIMENTO_CACHE_DIR = path.resolve('.cache', 'engine-default-model');
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-user-'));
    try {
      const embedded = await EngineService.create({ userDataDir: empty, provider: 'cpu' });
      try {
        expect(embedded.usingEmbeddedModel).toBe(true);
        const info = await embedded.handle('getModelInfo', undefined as never);
        expect(info.isTestModel).toBe(true);
        expect(info.dir.startsWith(process.env.PENTIMENTO_CACHE_DIR)).toBe(true);
      } finally {
        await embedded.dispose();
      }
    } finally {
      if (saved === undefined) delete process.env.PENTIMENTO_CACHE_DIR;
      else process.env.PENTIMENTO_CACHE_DIR = saved;
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
