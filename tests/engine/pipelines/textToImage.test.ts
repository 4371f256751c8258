import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StableDiffusionModel } from '../../../main/engine/model/StableDiffusionModel';
import type { PipelineProgress } from '../../../main/engine/pipelines/PipelineRequest';
import { textToImage } from '../../../main/engine/pipelines/textToImage';
import { CancellationSource } from '../../../main/engine/util/cancellation';
import { randomNormal } from '../../../main/engine/util/random';
import { testModelDir } from '../../fixtures/models';

let model: StableDiffusionModel;

beforeAll(async () => {
  model = await StableDiffusionModel.load(await testModelDir('tiny'), { provider: 'cpu' });
});
afterAll(async () => model?.dispose());

const base = { prompt: 'a red apple on a table', width: 64, height: 64, steps: 2 };

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('textToImage', () => {
  it('returns a 64×64 RGB image with its parameters and timings', async () => {
    const r = await textToImage(model, { ...base, seed: 1 });
    expect([r.width, r.height]).toEqual([64, 64]);
    expect(r.rgb.length).toBe(64 * 64 * 3);
    expect(r.stepsRun).toBe(2);
    expect(r.parameters).toMatchObject({
      prompt: base.prompt,
      negativePrompt: '',
      seed: 1,
      steps: 2,
      guidance: 7.5,
      scheduler: 'ddim', // the generated folder ships PNDMScheduler, which maps to DDIM
      width: 64,
      height: 64,
      method: 'txt2img',
      model: { name: model.folder.name, hash: model.folder.hash },
      extra: { testModel: true },
    });
    // Random weights still give a non-constant picture.
    expect(new Set(r.rgb).size).toBeGreaterThan(10);
    expect(r.timings.insideOrt).toBeGreaterThan(0);
    expect(r.timings.total).toBeGreaterThanOrEqual(r.timings.insideOrt);
    expect(r.timings.denoise).toBeGreaterThan(0);
  });

  it("outputSize restores the result to a photo's size (the model size recorded as extra.modelWidth/Height); a bad one is refused", async () => {
    const atModel = await textToImage(model, { ...base, seed: 3 });
    const restored = await textToImage(model, { ...base, seed: 3, outputSize: { width: 67, height: 61 } });
    expect([restored.width, restored.height]).toEqual([67, 61]);
    expect(restored.rgb.length).toBe(67 * 61 * 3);
    expect(restored.parameters).toMatchObject({ width: 67, height: 61, extra: { modelWidth: 64, modelHeight: 64 } });
    // The same picture, resampled: its mean colour within a level or two of the model-size one.
    const mean = (rgb: Uint8Array) => rgb.reduce((a, v) => a + v, 0) / rgb.length;
    expect(Math.abs(mean(restored.rgb) - mean(atModel.rgb))).toBeLessThan(2);
    await expect(textToImage(model, { ...base, seed: 3, outputSize: { width: 0, height: 61 } })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });

  it('the same seed gives identical pixels; another seed different ones', async () => {
    const a = await textToImage(model, { ...base, seed: 42 });
    const b = await textToImage(model, { ...base, seed: 42 });
    const c = await textToImage(model, { ...base, seed: 43 });
    expect(Buffer.from(a.rgb).equals(Buffer.from(b.rgb))).toBe(true);
    expect(maxAbsDiff(a.rgb, c.rgb)).toBeGreaterThan(10);
  });

  it('supplying exactly the seeded noise reproduces the seeded result, even with an ancestral sampler', async () => {
    const seeded = await textToImage(model, { ...base, seed: 9, scheduler: 'euler-a' });
    const supplied = await textToImage(model, { ...base, seed: 9, scheduler: 'euler-a', noise: randomNormal([1, 4, 8, 8], 9) });
    expect(Buffer.from(supplied.rgb).equals(Buffer.from(seeded.rgb))).toBe(true);
    expect(supplied.parameters.extra).toMatchObject({ noise: 'supplied' });
    const other = await textToImage(model, { ...base, seed: 9, scheduler: 'euler-a', noise: randomNormal([1, 4, 8, 8], 10) });
    expect(maxAbsDiff(other.rgb, seeded.rgb)).toBeGreaterThan(10);
  });

  it('every sampler runs', async () => {
    for (const scheduler of ['ddim', 'euler', 'euler-a', 'dpmpp-2m'] as const) {
      const r = await textToImage(model, { ...base, seed: 5, scheduler });
      expect(r.parameters.scheduler).toBe(scheduler);
      expect(r.rgb.length).toBe(64 * 64 * 3);
    }
  });

  it('guidance in one batch-2 UNet call equals two batch-1 calls', async () => {
    const latents = (split: boolean) => {
      const out: Record<string, Float32Array> = {};
      return textToImage(model, {
        ...base,
        seed: 3,
        steps: 3,
        guidance: 5,
        splitGuidanceBatch: split,
        dump: (name, data) => (out[name] = data.slice()),
      }).then(() => out);
    };
    const before = model.components.unet.calls;
    const batched = await latents(false);
    const mid = model.components.unet.calls;
    const split = await latents(true);
    expect(mid - before).toBe(3); // one call per step
    expect(model.components.unet.calls - mid).toBe(6); // two per step
    const z1 = batched.final_latents;
    const z2 = split.final_latents;
    const scale = Math.max(...Array.from(z1, Math.abs));
    expect(scale).toBeGreaterThan(0.1);
    expect(maxAbsDiff(z1, z2) / scale).toBeLessThan(1e-4);
    expect(batched.text_embeddings.length).toBe(2 * 77 * model.folder.crossAttentionWidth);
  });

  it('guidance ≤ 1 skips the unconditional branch', async () => {
    const before = model.components.unet.calls;
    const dumps: Record<string, number[]> = {};
    await textToImage(model, { ...base, seed: 3, guidance: 1, dump: (n, _d, dims) => (dumps[n] = dims) });
    expect(model.components.unet.calls - before).toBe(2);
    expect(dumps.text_embeddings).toEqual([1, 77, model.folder.crossAttentionWidth]);
  });

  it('reports progress once per step, each with a latent-size preview', async () => {
    const events: PipelineProgress[] = [];
    await textToImage(model, { ...base, width: 96, height: 64, steps: 3, seed: 2, onProgress: (p) => void events.push(p) });
    expect(events.map((e) => [e.step, e.totalSteps])).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    for (const e of events) {
      expect([e.preview.width, e.preview.height]).toEqual([12, 8]);
      expect(e.preview.rgb.length).toBe(12 * 8 * 3);
    }
  });

  it('a cancel takes effect within one step and rejects with CANCELLED', async () => {
    const source = new CancellationSource();
    const before = model.components.unet.calls;
    const run = textToImage(model, {
      ...base,
      steps: 10,
      seed: 1,
      cancel: source.token,
      onProgress: (p) => {
        if (p.step === 2) source.cancel();
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(model.components.unet.calls - before).toBe(2);
  });

  it('bad values are BAD_ARGUMENT naming the value and the valid range', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ steps: 0 }, /steps is 0; use a whole number from 1 to 500/],
      [{ steps: 2.5 }, /steps is 2.5/],
      [{ guidance: -1 }, /guidance is -1; use a number from 0 to 30/],
      [{ guidance: 1e308 }, /guidance is 1e\+308; use a number from 0 to 30/],
      [{ guidance: 30.5 }, /guidance is 30.5; use a number from 0 to 30/],
      [{ guidance: Number.NaN }, /guidance is NaN/],
      [{ width: 65 }, /width is 65; use a multiple of 8/],
      [{ scheduler: 'plms' }, /scheduler is "plms"; choose one of ddim, euler, euler-a, dpmpp-2m/],
      [{ seed: -3 }, /seed is -3/],
      [{ noise: new Float32Array(10) }, /noise has 10 values .* shape \[1, 4, 8, 8\]/],
    ];
    for (const [extra, message] of cases) {
      await expect(textToImage(model, { ...base, ...extra } as never)).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(message) });
    }
  });
});
