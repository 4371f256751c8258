import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consistencyScore } from '../../../main/engine/control/consistencyScore';
import { resizeRgb } from '../../../main/engine/image/resizeRgb';
import { ControlNet, type ControlResiduals } from '../../../main/engine/control/ControlNet';
import type { ConditionImage } from '../../../main/engine/control/ConditionImage';
import { slotsToList } from '../../../main/engine/control/controlnet/residualLayout';
import { conditionTensor } from '../../../main/engine/control/controlnet/conditionTensor';
import { controlledUnet } from '../../../main/engine/model/controlledUnet';
import { StableDiffusionModel } from '../../../main/engine/model/StableDiffusionModel';
import type { UNet } from '../../../main/engine/model/UNet';
import { bestOfSeeds } from '../../../main/engine/pipelines/bestOfSeeds';
import { imageToImage } from '../../../main/engine/pipelines/imageToImage';
import { inpaint } from '../../../main/engine/pipelines/inpaint';
import type { CommonRequest, PipelineResult } from '../../../main/engine/pipelines/PipelineRequest';
import { controlActive, prepareControl, type ControlUnit } from '../../../main/engine/pipelines/prepareControl';
import { textToImage } from '../../../main/engine/pipelines/textToImage';
import { residualUnetModelDir, testControlNetDir, type TestControlNetName } from '../../../models/controlnet/testControlNets';
import { testModelDir } from '../../fixtures/models';

let model: StableDiffusionModel;
let unet: UNet;
const nets = {} as Record<'a' | 'b' | 'torch' | 'wide', ControlNet>;
const cacheRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-control-'));

beforeAll(async () => {
  model = await StableDiffusionModel.load(await testModelDir('tiny'), { provider: 'cpu' });
  unet = await controlledUnet(model, cacheRoot);
  const open = (name: TestControlNetName) => ControlNet.open(model.runtime, testControlNetDir(name));
  [nets.a, nets.b, nets.torch, nets.wide] = await Promise.all([open('tiny'), open('tiny-b'), open('tiny-torch'), open('tiny-wide')]);
});
afterAll(async () => {
  await Promise.all(Object.values(nets).map((n) => n.dispose()));
  await model?.dispose();
  fs.rmSync(cacheRoot, { recursive: true, force: true });
});

/** A canny-style map: the outline of a 32×32 square, white on black. */
function squareEdges(size = 64): ConditionImage {
  const rgb = new Uint8Array(size * size * 3);
  for (let y = 16; y < 48; y++) {
    for (let x = 16; x < 48; x++) {
      if (y === 16 || y === 47 || x === 16 || x === 47) rgb.fill(255, (y * size + x) * 3, (y * size + x) * 3 + 3);
    }
  }
  return { rgb, width: size, height: size };
}

/** A smooth 64×64 test photo. */
function photo() {
  const rgb = new Uint8Array(64 * 64 * 3);
  for (let i = 0; i < 64 * 64; i++) {
    const x = i % 64;
    const y = Math.floor(i / 64);
    rgb.set([4 * x, 4 * y, 128 + 60 * Math.sin(x / 7)], i * 3);
  }
  return { rgb, width: 64, height: 64 };
}

const base = { prompt: 'a red apple on a table', width: 64, height: 64, steps: 2, seed: 11 };

function unit(net: ControlNet, more: Partial<ControlUnit> = {}): ControlUnit {
  return { controlnet: net, type: 'canny', condition: squareEdges(), ...more };
}

async function latentsOf(run: (dump: CommonRequest['dump']) => Promise<PipelineResult>): Promise<{ z: Float32Array; result: PipelineResult }> {
  let z: Float32Array | undefined;
  const result = await run((name, data) => {
    if (name === 'final_latents') z = data.slice();
  });
  return { z: z!, result };
}

const txt2img = (more: Partial<Parameters<typeof textToImage>[1]> = {}) => latentsOf((dump) => textToImage(model, { ...base, dump, ...more }));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('controlled generation', () => {
  it('builds the ControlNet-ready UNet once per model, in the derived cache', async () => {
    expect(unet.control?.residuals.down).toHaveLength(12);
    expect(unet.session.file.startsWith(path.join(cacheRoot, 'derived'))).toBe(true);
    expect(await controlledUnet(model, cacheRoot)).toBe(unet);
  });

  it('scale 0 reproduces the uncontrolled output (with CFG in one batch-2 call)', async () => {
    const plain = await txt2img();
    const callsBefore = nets.a.calls;
    const zero = await txt2img({ control: { unet, units: [unit(nets.a, { scale: 0 })] } });
    expect(nets.a.calls - callsBefore).toBe(2); // it ran, one batch-2 call per step
    expect(maxAbsDiff(zero.z, plain.z)).toBeLessThanOrEqual(1e-6);
    expect(Buffer.from(zero.result.rgb).equals(Buffer.from(plain.result.rgb))).toBe(true);
  });

  it('scale 1 changes the image, and the result reports its canny F1 and its ControlNet', async () => {
    const plain = await txt2img();
    const one = await txt2img({ control: { unet, units: [unit(nets.a)] } });
    expect(maxAbsDiff(one.z, plain.z)).toBeGreaterThan(1e-3);
    const c = one.result.metrics?.consistency;
    expect(c).toMatchObject({ type: 'canny', metric: 'f1', higherIsBetter: true });
    expect(c!.value).toBeGreaterThanOrEqual(0);
    expect(c!.value).toBeLessThanOrEqual(1);
    // A name (its folder's) and a content hash, never its path (the PNG would differ per install).
    expect(one.result.parameters.extra?.control).toEqual([
      { type: 'canny', scale: 1, start: 0, end: 1, controlnet: 'tiny', controlnetHash: nets.a.contentHash, conditionHash: expect.stringMatching(/^[0-9a-f]{16}$/) },
    ]);
    expect(nets.a.contentHash).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(one.result.parameters)).not.toContain(path.dirname(nets.a.file));
    expect(plain.result.metrics).toBeUndefined();
  });

  it("records the unit's name when given, and the same hash for a copy of the ControlNet elsewhere; another ControlNet hashes differently", async () => {
    const prepared = await prepareControl({ unet, units: [unit(nets.a, { name: 'test' })] }, 64, 64);
    expect(prepared.describe()[0]).toMatchObject({ controlnet: 'test', controlnetHash: nets.a.contentHash });
    const copy = path.join(cacheRoot, 'elsewhere', 'my-canny');
    fs.cpSync(path.dirname(nets.a.file), copy, { recursive: true });
    const moved = await ControlNet.open(model.runtime, copy);
    try {
      expect(moved.name).toBe('my-canny');
      expect(moved.contentHash).toBe(nets.a.contentHash);
    } finally {
      await moved.dispose();
    }
    expect(nets.b.contentHash).not.toBe(nets.a.contentHash);
  });

  it('two ControlNets sum their residuals', async () => {
    // At one step: the prepared residuals of A and B are A's plus B's, each run alone.
    const both = await prepareControl({ unet, units: [unit(nets.a, { scale: 0.5 }), unit(nets.b, { scale: 1.5 })] }, 64, 64);
    const step = {
      sample: Float32Array.from({ length: 4 * 64 }, (_, i) => Math.sin(i)),
      batch: 1,
      latentHeight: 8,
      latentWidth: 8,
      t: 601,
      context: Float32Array.from({ length: 77 * 32 }, (_, i) => Math.cos(i / 3)),
      contextDims: [1, 77, 32],
      step: 0,
      totalSteps: 2,
    };
    const cond = conditionTensor(squareEdges());
    const alone = (net: ControlNet, scale: number) =>
      net.residuals({ ...step, sampleDims: [1, 4, 8, 8], timestep: step.t, condition: cond.data, conditionDims: cond.dims, scale });
    const [ra, rb, sum] = [await alone(nets.a, 0.5), await alone(nets.b, 1.5), (await both.residuals(step)) as ControlResiduals];
    slotsToList(sum).forEach((t, i) => {
      const a = slotsToList(ra)[i].data;
      const b = slotsToList(rb)[i].data;
      expect(maxAbsDiff(t.data, a.map((v, k) => v + b[k]))).toBe(0);
    });

    // Through the whole pipeline: two halves of A are A; B at scale 0 adds nothing; B adds something.
    const whole = await txt2img({ control: { unet, units: [unit(nets.a)] } });
    const halves = await txt2img({ control: { unet, units: [unit(nets.a, { scale: 0.5 }), unit(nets.a, { scale: 0.5 })] } });
    const withZeroB = await txt2img({ control: { unet, units: [unit(nets.a), unit(nets.b, { scale: 0 })] } });
    const withB = await txt2img({ control: { unet, units: [unit(nets.a), unit(nets.b)] } });
    expect(maxAbsDiff(halves.z, whole.z)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(withZeroB.z, whole.z)).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(withB.z, whole.z)).toBeGreaterThan(1e-3);
  });

  it('a torch-exported ControlNet (other names, float scalar timestep) drives the default UNet', async () => {
    const plain = await txt2img();
    const zero = await txt2img({ control: { unet, units: [unit(nets.torch, { scale: 0 })] } });
    const one = await txt2img({ control: { unet, units: [unit(nets.torch, { scale: 1 })] } });
    expect(maxAbsDiff(zero.z, plain.z)).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(one.z, plain.z)).toBeGreaterThan(1e-3);
    // Same weights as the optimum export: the same image, up to float rounding.
    const optimum = await txt2img({ control: { unet, units: [unit(nets.a, { scale: 1 })] } });
    expect(maxAbsDiff(one.z, optimum.z)).toBeLessThan(1e-3);
  });

  it('a ControlNet made for another cross-attention width is refused, naming both models', async () => {
    const err = await textToImage(model, { ...base, control: { unet, units: [unit(nets.wide)] } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BAD_MODEL' });
    expect((err as Error).message).toContain(nets.wide.file);
    // The UNet is named as it is in the model folder, not as the ControlNet-ready copy in the cache.
    expect((err as Error).message).toContain(`does not fit the UNet ${model.folder.parts.unet.file}:`);
    expect((err as Error).message).not.toContain(unet.session.file);
    expect((err as Error).message).toMatch(/cross-attention width 48 vs the UNet's 32/);
  });

  it('skips a ControlNet outside its start/end fraction of the steps', async () => {
    expect([0, 1, 2, 3].map((i) => controlActive(i, 4, 0.25, 0.75))).toEqual([false, true, true, false]);
    const plain = await txt2img();
    const before = nets.a.calls;
    const never = await txt2img({ control: { unet, units: [unit(nets.a, { start: 0, end: 0.4 })] } });
    expect(nets.a.calls).toBe(before);
    expect(maxAbsDiff(never.z, plain.z)).toBeLessThanOrEqual(1e-6);
    const late = await txt2img({ control: { unet, units: [unit(nets.a, { start: 0.5, end: 1 })] } });
    expect(nets.a.calls - before).toBe(1);
    expect(maxAbsDiff(late.z, plain.z)).toBeGreaterThan(1e-4);
    await expect(textToImage(model, { ...base, control: { unet, units: [unit(nets.a, { start: 0.6, end: 0.5 })] } })).rejects.toThrow(/start 0.6 is not before end 0.5/);
    await expect(textToImage(model, { ...base, control: { unet, units: [unit(nets.a, { scale: Number.NaN })] } })).rejects.toThrow(/scale is NaN/);
  });

  it('guidance as two batch-1 calls gives the batch-2 result', async () => {
    const one = await txt2img({ control: { unet, units: [unit(nets.a)] } });
    const split = await txt2img({ control: { unet, units: [unit(nets.a)] }, splitGuidanceBatch: true });
    expect(maxAbsDiff(split.z, one.z)).toBeLessThanOrEqual(1e-5);
  });

  it('a UNet exported with residual inputs gives the surgery-made UNet\'s result', async () => {
    const exported = await StableDiffusionModel.load(await residualUnetModelDir(), { provider: 'cpu' });
    try {
      const ready = await controlledUnet(exported, cacheRoot);
      expect(ready).toBe(exported.components.unet);
      const a = await ControlNet.open(exported.runtime, testControlNetDir('tiny'));
      const viaExport = await latentsOf((dump) => textToImage(exported, { ...base, dump, control: { unet: ready, units: [unit(a)] } }));
      const viaSurgery = await txt2img({ control: { unet, units: [unit(nets.a)] } });
      expect(maxAbsDiff(viaExport.z, viaSurgery.z)).toBeLessThanOrEqual(1e-5);
      // Uncontrolled, the export's UNet is fed zero residuals and equals the plain model.
      const plainExport = await latentsOf((dump) => textToImage(exported, { ...base, dump }));
      expect(maxAbsDiff(plainExport.z, (await txt2img()).z)).toBeLessThanOrEqual(1e-6);
      await a.dispose();
    } finally {
      await exported.dispose();
    }
  });

  it('guides image-to-image and inpainting: scale 0 changes nothing, scale 1 changes the result', async () => {
    const image = photo();
    const mask = new Float32Array(64 * 64).map((_, i) => (i % 64 < 32 ? 1 : 0));
    const runs = [
      (more: Partial<CommonRequest>) => latentsOf((dump) => imageToImage(model, { ...base, image, strength: 1, dump, ...more })),
      (more: Partial<CommonRequest>) => latentsOf((dump) => inpaint(model, { ...base, image, mask, dump, ...more })),
    ];
    for (const run of runs) {
      const plain = await run({});
      const zero = await run({ control: { unet, units: [unit(nets.a, { scale: 0 })] } });
      const one = await run({ control: { unet, units: [unit(nets.a)] } });
      expect(maxAbsDiff(zero.z, plain.z)).toBeLessThanOrEqual(1e-6);
      expect(maxAbsDiff(one.z, plain.z)).toBeGreaterThan(1e-4);
      expect(one.result.metrics?.consistency?.metric).toBe('f1');
    }
  });

  it('a photo whose fitting to multiples of 8 changes its aspect ratio (100×37 runs at 104×40) is scored at the generation size', async () => {
    const rgb = new Uint8Array(100 * 37 * 3).map((_, i) => ((i % 300) < 150 ? 30 : 220));
    const image = { rgb, width: 100, height: 37 };
    // The condition at the generation size, as the engine extracts it.
    const edges = { rgb: new Uint8Array(104 * 40 * 3), width: 104, height: 40 };
    for (let y = 0; y < 40; y++) edges.rgb.fill(255, (y * 104 + 50) * 3, (y * 104 + 51) * 3);
    const r = await imageToImage(model, { ...base, image, strength: 1, control: { unet, units: [unit(nets.a, { condition: edges })] } });
    expect([r.width, r.height]).toEqual([100, 37]);
    // The score compares the result resized back to 104×40 with the condition (the check on aspect ratios threw, 3.8% apart).
    const expected = await consistencyScore('canny', edges, await resizeRgb(r, 104, 40));
    expect(r.metrics?.consistency).toMatchObject({ metric: 'f1', value: expected.value });
  });

  it('best of N ranks seeds by consistency and returns the best one\'s result', async () => {
    const control = { unet, units: [unit(nets.a)] };
    const { best, ranked } = await bestOfSeeds(3, 20, (seed) => textToImage(model, { ...base, seed, control }));
    expect(ranked.map((c) => c.seed).sort()).toEqual([20, 21, 22]);
    for (let k = 1; k < ranked.length; k++) expect(ranked[k - 1].consistency).toBeGreaterThanOrEqual(ranked[k].consistency);
    expect(best.parameters.seed).toBe(ranked[0].seed);
    expect(best.metrics?.consistency?.value).toBe(ranked[0].consistency);
    const again = await textToImage(model, { ...base, seed: ranked[0].seed, control });
    expect(Buffer.from(again.rgb).equals(Buffer.from(best.rgb))).toBe(true);
    await expect(bestOfSeeds(2, 1, (seed) => textToImage(model, { ...base, seed }))).rejects.toThrow(/give at least one ControlNet/);
    await expect(bestOfSeeds(0, 1, (seed) => textToImage(model, { ...base, seed }))).rejects.toThrow(/best-of is 0/);
    // Seeds seed … seed+N−1 must all be exact integers: refused before any run.
    let runs = 0;
    const count = (seed: number) => (runs++, textToImage(model, { ...base, seed, control }));
    await expect(bestOfSeeds(3, Number.MAX_SAFE_INTEGER - 1, count)).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringContaining(`up to ${Number.MAX_SAFE_INTEGER - 2}`) });
    expect(runs).toBe(0);
  });
});
