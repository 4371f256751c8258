import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineEventName, EngineEvents, GenerateRequest, JobProgress, JobResult } from '../../../main/contract/contract';
import { annotatorFile } from '../../../main/engine/control/annotatorSlots';
import { consistencyScore } from '../../../main/engine/control/consistencyScore';
import { extractCondition } from '../../../main/engine/control/extractCondition';
import { saveModel } from '../../../main/engine/graph/ModelIO';
import { parametersFromPng } from '../../../main/engine/image/readParameters';
import { defaultAnnotatorsDir, defaultControlNetDir } from '../../../main/engine/model/defaultModel';
import { EMBEDDED_CONTROLNET_ID } from '../../../main/engine/service/ControlResources';
import { EngineService } from '../../../main/engine/service/EngineService';
import { buildAnnotatorModel } from '../../../models/annotators/generate';
import { generateControlNet } from '../../../models/controlnet/generateControlNet';
import { testModelDir } from '../../fixtures/models';

let engine: EngineService;
let userDataDir: string;
type Event = { event: EngineEventName; payload: EngineEvents[EngineEventName] };
const events: Event[] = [];

beforeAll(async () => {
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-engine-control-'));
  // One installed ControlNet (random weights, the tiny preset) and three of the four annotators:
  // segmentation's slot stays empty for the MODEL_MISSING tests.
  generateControlNet(path.join(userDataDir, 'controlnets', 'tiny-canny'), { preset: 'tiny', seed: 4321 });
  for (const type of ['depth', 'lineart', 'softedge'] as const) saveModel(buildAnnotatorModel(type, { seed: 5 }), annotatorFile(path.join(userDataDir, 'models'), type));
  engine = await EngineService.create({ modelDir: await testModelDir('tiny'), provider: 'cpu', userDataDir });
  engine.on((event, payload) => events.push({ event, payload: payload as EngineEvents[EngineEventName] }));
});
afterAll(async () => {
  await engine?.dispose();
  fs.rmSync(userDataDir, { recursive: true, force: true });
});

function eventsOf(jobId: string): Promise<Event[]> {
  return new Promise((resolve) => {
    const poll = () => {
      const list = events.filter((e) => (e.payload as { jobId?: string }).jobId === jobId);
      if (list.some((e) => e.event === 'result' || e.event === 'failed')) resolve(list);
      else setTimeout(poll, 10);
    };
    poll();
  });
}

async function resultOf(jobId: string): Promise<JobResult> {
  const list = await eventsOf(jobId);
  const failed = list.find((e) => e.event === 'failed');
  expect(failed?.payload).toBeUndefined();
  return list.find((e) => e.event === 'result')!.payload as JobResult;
}

/** 64×48: a bright square on a dark ground, so canny finds its four sides. */
async function squarePhoto(width = 64, height = 48): Promise<{ base64: string; rgb: Uint8Array }> {
  const rgb = new Uint8Array(width * height * 3).fill(30);
  for (let y = 12; y < 36; y++) for (let x = 16; x < 44; x++) rgb.fill(220, (y * width + x) * 3, (y * width + x) * 3 + 3);
  const png = await sharp(Buffer.from(rgb), { raw: { width, height, channels: 3 } }).png().toBuffer();
  return { base64: png.toString('base64'), rgb };
}

async function decode(pngBase64: string): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(Buffer.from(pngBase64, 'base64')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { rgb: new Uint8Array(data), width: info.width, height: info.height };
}

const controlled = async (extra: Partial<GenerateRequest> = {}): Promise<GenerateRequest> => ({
  kind: 'txt2img',
  prompt: 'a box',
  steps: 2,
  seed: 21,
  control: [{ controlnet: 'tiny-canny', type: 'canny', image: { base64: (await squarePhoto()).base64 }, scale: 0.8 }],
  ...extra,
});

describe('EngineService: ControlNets (Structure mode)', () => {
  it('lists the ControlNets installed under <userDataDir>/controlnets, with the condition their name names', async () => {
    const list = await engine.handle('listControlNets', undefined as never);
    expect(list).toEqual([
      { id: 'tiny-canny', name: 'tiny-canny', file: path.join(userDataDir, 'controlnets', 'tiny-canny', 'model.onnx'), isTestModel: true, conditionType: 'canny' },
    ]);
  });

  it('a canny-controlled generation reports ControlNet++ consistency: the F1 of the result re-extracted against the condition', async () => {
    const { jobId } = await engine.handle('generate', await controlled());
    const result = await resultOf(jobId);
    // txt2img without a size runs at the condition image's size (fitted to multiples of 8).
    expect(result.image).toMatchObject({ width: 64, height: 48 });
    expect(result.consistency).toMatchObject({ type: 'canny', metric: 'f1', higherIsBetter: true });
    expect(result.consistency!.ranked).toBeUndefined();
    expect(result.metrics).toEqual({ consistency: result.consistency!.value });

    // The same score computed here from the condition and the delivered PNG.
    const photo = await squarePhoto();
    const condition = await extractCondition('canny', { rgb: photo.rgb, width: 64, height: 48 });
    const expected = await consistencyScore('canny', condition, await decode(result.image.pngBase64));
    expect(result.consistency!.value).toBeCloseTo(expected.value, 12);
    expect(expected.value).toBeGreaterThanOrEqual(0);
    expect(expected.value).toBeLessThanOrEqual(1);

    const saved = parametersFromPng(Buffer.from(result.image.pngBase64, 'base64'))!;
    expect(saved.extra).toMatchObject({
      // The installed folder's name (the id the UI picks it by) and a content hash, not its path.
      control: [{ type: 'canny', scale: 0.8, start: 0, end: 1, controlnet: 'tiny-canny', controlnetHash: expect.stringMatching(/^[0-9a-f]{16}$/) }],
      consistency: { type: 'canny', metric: 'f1', value: result.consistency!.value },
    });
    // No name given for the condition's image: no source recorded.
    expect((saved.extra!.control as Record<string, unknown>[])[0]).not.toHaveProperty('image');
  });

  it('records the condition source by file name only, as the CLI does, so an opened result can name it', async () => {
    const base64 = (await squarePhoto()).base64;
    const named = await controlled({ control: [{ controlnet: 'tiny-canny', type: 'canny', image: { base64, name: '/home/a/photos/barn.jpg' } }] });
    const saved = parametersFromPng(Buffer.from((await resultOf((await engine.handle('generate', named)).jobId)).image.pngBase64, 'base64'))!;
    expect((saved.extra!.control as Record<string, unknown>[])[0]).toMatchObject({ image: 'barn.jpg', raw: false });
    // Without an image of its own the unit's condition is the job's photo, named by the request.
    const fromPhoto = await controlled({ kind: 'img2img', image: { base64, name: 'porch.png' }, strength: 0.5, control: [{ controlnet: 'tiny-canny', type: 'canny', raw: false }] });
    const viaPhoto = parametersFromPng(Buffer.from((await resultOf((await engine.handle('generate', fromPhoto)).jobId)).image.pngBase64, 'base64'))!;
    expect((viaPhoto.extra!.control as Record<string, unknown>[])[0]).toMatchObject({ image: 'porch.png', raw: false });
  });

  it('best of 3 tries seeds seed…seed+2, ranks them by F1 and returns the best one', async () => {
    const { jobId } = await engine.handle('generate', await controlled({ bestOf: 3, seed: 40 }));
    const list = await eventsOf(jobId);
    const progress = list.filter((e) => e.event === 'progress').map((e) => e.payload as JobProgress);
    expect(progress.map((p) => `${p.step}/${p.totalSteps}`)).toEqual(['1/6', '2/6', '3/6', '4/6', '5/6', '6/6']);
    const result = list.find((e) => e.event === 'result')!.payload as JobResult;
    const ranked = result.consistency!.ranked!;
    expect(ranked.map((r) => r.seed).sort()).toEqual([40, 41, 42]);
    for (let i = 1; i < ranked.length; i++) expect(ranked[i - 1].value).toBeGreaterThanOrEqual(ranked[i].value);
    expect(result.parameters.seed).toBe(ranked[0].seed);
    expect(result.consistency!.value).toBe(ranked[0].value);

    // A single run of the last-ranked seed scores what the ranking says.
    const single = await resultOf((await engine.handle('generate', await controlled({ seed: ranked[2].seed }))).jobId);
    expect(single.consistency!.value).toBeCloseTo(ranked[2].value, 12);
  });

  it('extractCondition previews canny at the generation size, pixel for pixel what the generation uses', async () => {
    const photo = await squarePhoto(100, 60);
    const preview = await engine.handle('extractCondition', { type: 'canny', image: { base64: photo.base64 } });
    // 100×60 fitted to multiples of 8: 104×64.
    expect(preview).toMatchObject({ type: 'canny', testAnnotator: false, image: { width: 104, height: 64 } });
    const shown = await decode(preview.image.pngBase64);
    const direct = await extractCondition('canny', { rgb: photo.rgb, width: 100, height: 60 }, { width: 104, height: 64 });
    expect(Buffer.from(shown.rgb).equals(Buffer.from(direct.rgb))).toBe(true);
    const edges = shown.rgb.filter((v, i) => i % 3 === 0 && v === 255).length;
    expect(edges).toBeGreaterThan(2 * (28 + 24)); // the square's outline, at least
  });

  it('extractCondition runs the depth annotator installed in <userDataDir>/models/annotators', async () => {
    const photo = await squarePhoto();
    const preview = await engine.handle('extractCondition', { type: 'depth', image: { base64: photo.base64 } });
    expect(preview).toMatchObject({ type: 'depth', testAnnotator: false, image: { width: 64, height: 48 } });
    const shown = await decode(preview.image.pngBase64);
    const direct = await extractCondition('depth', { rgb: photo.rgb, width: 64, height: 48 }, { modelsDir: path.join(userDataDir, 'models') });
    expect(Buffer.from(shown.rgb).equals(Buffer.from(direct.rgb))).toBe(true);
    expect(new Set(shown.rgb).size).toBeGreaterThan(2); // a map, not a constant
  });

  it('a missing annotator is MODEL_MISSING naming the file it goes in, for the preview and for a generation', async () => {
    const seg = path.join(userDataDir, 'models', 'annotators', 'seg.onnx');
    const photo = { base64: (await squarePhoto()).base64 };
    await expect(engine.handle('extractCondition', { type: 'segmentation', image: photo })).rejects.toMatchObject({
      code: 'MODEL_MISSING',
      message: expect.stringContaining(seg),
    });
    await expect(
      engine.handle('generate', await controlled({ control: [{ controlnet: 'tiny-canny', type: 'segmentation', image: photo }] })),
    ).rejects.toMatchObject({ code: 'MODEL_MISSING', message: expect.stringContaining(seg) });
    // A raw segmentation map as the first condition still needs the annotator to score the result.
    await expect(
      engine.handle('generate', await controlled({ control: [{ controlnet: 'tiny-canny', type: 'segmentation', image: photo, raw: true }] })),
    ).rejects.toMatchObject({ code: 'MODEL_MISSING' });
  });

  it('rejects bad controlled requests at once with BAD_ARGUMENT', async () => {
    const photo = { base64: (await squarePhoto()).base64 };
    await expect(engine.handle('generate', await controlled({ control: [{ controlnet: 'nope', type: 'canny', image: photo }] }))).rejects.toMatchObject({
      code: 'BAD_ARGUMENT',
      message: expect.stringContaining('tiny-canny'),
    });
    await expect(engine.handle('generate', await controlled({ control: [{ controlnet: 'tiny-canny', type: 'pose' as never, image: photo }] }))).rejects.toMatchObject({
      message: expect.stringContaining('canny, depth, segmentation, lineart, softedge'),
    });
    await expect(engine.handle('generate', await controlled({ control: [{ controlnet: 'tiny-canny', type: 'canny', image: photo, start: 0.6, end: 0.4 }] }))).rejects.toMatchObject({
      message: expect.stringContaining('not before end'),
    });
    await expect(engine.handle('generate', await controlled({ control: [{ controlnet: 'tiny-canny', type: 'canny' }] }))).rejects.toMatchObject({
      message: expect.stringContaining('no condition image'),
    });
    await expect(engine.handle('generate', { kind: 'txt2img', prompt: 'x', bestOf: 2 })).rejects.toMatchObject({ message: expect.stringContaining('consistency') });
    await expect(engine.handle('generate', await controlled({ bestOf: 0 }))).rejects.toMatchObject({ message: expect.stringContaining('bestOf') });
    await expect(engine.handle('extractCondition', { type: 'canny', image: {} } as never)).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });
});

describe('EngineService: Structure mode with the embedded test model', () => {
  it('offers the random-weight test ControlNet and annotators generated beside the embedded model, and runs them', async () => {
    const saved = process.env.PENTIMENTO_CACHE_DIR;
    const cacheRoot = path.resolve('.cache', 'engine-default-model');
    process.env.PENTIMENTO_CACHE_DIR = cacheRoot;
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-user-'));
    const embedded = await EngineService.create({ userDataDir: empty, provider: 'cpu' }).finally(() => {
      if (saved === undefined) delete process.env.PENTIMENTO_CACHE_DIR;
      else process.env.PENTIMENTO_CACHE_DIR = saved;
    });
    const got: Event[] = [];
    embedded.on((event, payload) => got.push({ event, payload: payload as EngineEvents[EngineEventName] }));
    try {
      expect(embedded.usingEmbeddedModel).toBe(true);
      expect(await embedded.handle('listControlNets', undefined as never)).toEqual([
        { id: EMBEDDED_CONTROLNET_ID, name: 'Test ControlNet', file: path.join(defaultControlNetDir(cacheRoot), 'model.onnx'), isTestModel: true },
      ]);
      for (const file of ['depth.onnx', 'seg.onnx', 'lineart.onnx', 'hed.onnx']) {
        expect(fs.existsSync(path.join(defaultAnnotatorsDir(cacheRoot), 'annotators', file))).toBe(true);
      }
      const photo = { base64: (await squarePhoto()).base64 };
      const seg = await embedded.handle('extractCondition', { type: 'segmentation', image: photo });
      expect(seg).toMatchObject({ type: 'segmentation', testAnnotator: true, image: { width: 64, height: 48 } });
      expect((await embedded.handle('extractCondition', { type: 'canny', image: photo })).testAnnotator).toBe(false);

      const { jobId } = await embedded.handle('generate', {
        kind: 'txt2img',
        prompt: 'a box',
        steps: 2,
        seed: 1,
        control: [{ controlnet: EMBEDDED_CONTROLNET_ID, type: 'segmentation', image: photo }],
      });
      await new Promise<void>((resolve) => {
        const poll = () => (got.some((e) => e.event === 'result' || e.event === 'failed') ? resolve() : setTimeout(poll, 10));
        poll();
      });
      const failed = got.find((e) => e.event === 'failed');
      expect(failed?.payload).toBeUndefined();
      const result = got.find((e) => e.event === 'result')!.payload as JobResult;
      expect(result.jobId).toBe(jobId);
      expect(result.consistency).toMatchObject({ type: 'segmentation', metric: 'miou', higherIsBetter: true });
      expect(result.consistency!.value).toBeGreaterThanOrEqual(0);
      expect(result.consistency!.value).toBeLessThanOrEqual(1);
    } finally {
      await embedded.dispose();
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
