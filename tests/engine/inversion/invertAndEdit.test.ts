import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InversionCache } from '../../../main/engine/inversion/InversionCache';
import { invertAndEdit, reeditInversion } from '../../../main/engine/inversion/invertAndEdit';
import { UNetLossGradient } from '../../../main/engine/inversion/UNetLossGradient';
import { StableDiffusionModel } from '../../../main/engine/model/StableDiffusionModel';
import { testModelDir } from '../../fixtures/models';
import { smallPhoto, testDerivedModels } from './fixtures';

describe('invertAndEdit: cached inversions', () => {
  let model: StableDiffusionModel;
  let lossGradient: UNetLossGradient;
  let dir: string;
  beforeAll(async () => {
    model = await StableDiffusionModel.load(await testModelDir('tiny'), { provider: 'cpu' });
    lossGradient = await UNetLossGradient.open(model, testDerivedModels());
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-inversions-'));
  });
  afterAll(async () => {
    await lossGradient?.dispose();
    await model?.dispose();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reuses the inversion for another η, and with init source for another target prompt (no UNet runs but the edit); re-inverts for other settings', async () => {
    const image = await smallPhoto();
    const cache = new InversionCache(dir);
    const settings = { method: 'pti' as const, steps: 6, innerSteps: 2, sourcePrompt: 'an astronaut', init: 'source' as const };
    const first = await invertAndEdit(model, { image, prompt: 'a cat', eta: 0.5, settings, inversionCache: cache, lossGradient });
    expect(first.inversionCached).toBe(false);
    expect(first.metrics.inversion_cached).toBe(0);
    expect(first.metrics.unet_vjp_calls).toBeGreaterThan(0);
    expect(first.metrics.unet_vjp_calls).toBeLessThanOrEqual(12);
    expect(first.metrics.edit_forward_calls).toBe(6);
    expect(first.width).toBe(64);
    expect(cache.has(first.inversion.key)).toBe(true);

    const vjpBefore = lossGradient.calls;
    const forwardBefore = model.components.unet.calls;
    const second = await invertAndEdit(model, { image, prompt: 'a dog', eta: 0.9, settings, inversionCache: cache, lossGradient });
    expect(second.inversionCached).toBe(true);
    expect(second.inversion.key).toBe(first.inversion.key);
    expect(second.metrics).toMatchObject({ inversion_cached: 1, unet_vjp_calls: 0, inversion_forward_calls: 0, unet_forward_calls: 6 });
    expect(lossGradient.calls).toBe(vjpBefore);
    // The UNet takes batch 2, so each of the 6 edit steps is one run.
    expect(model.components.unet.calls - forwardBefore).toBe(6);
    // The stored inversion is the one computed: same embeddings and trajectory bytes.
    expect(second.inversion.embeddings[5]).toEqual(first.inversion.embeddings[5]);
    expect(second.inversion.reconstruction[6]).toEqual(first.inversion.reconstruction[6]);

    // Re-edit by id gives the same result as the cached request.
    const again = await reeditInversion(model, { inversionId: first.inversion.key, inversionCache: cache, prompt: 'a dog', eta: 0.9 });
    expect(Buffer.from(again.rgb).equals(Buffer.from(second.rgb))).toBe(true);
    expect(again.metrics.unet_vjp_calls).toBe(0);

    // η = 0 reconstructs: the result latent is z̄_S, whose MSE to z*_0 the tuning set.
    const recon = await reeditInversion(model, { inversionId: first.inversion.key, inversionCache: cache, prompt: 'anything', eta: 0 });
    const other = await reeditInversion(model, { inversionId: first.inversion.key, inversionCache: cache, prompt: 'a red car', eta: 1 });
    expect(recon.metrics.latent_mse).toBeLessThan(other.metrics.latent_mse);
    expect(recon.metrics.psnr).toBeGreaterThan(0);

    // Changed settings are another inversion.
    const third = await invertAndEdit(model, { image, prompt: 'a dog', settings: { ...settings, innerSteps: 1 }, inversionCache: cache, lossGradient });
    expect(third.inversionCached).toBe(false);
    expect(third.inversion.key).not.toBe(first.inversion.key);
  });

  it('with init target (the default) the tuning starts from the target prompt: one id per prompt, whatever ran before', async () => {
    const image = await smallPhoto();
    const settings = { method: 'pti' as const, steps: 3, innerSteps: 2 };
    // Two caches, the prompts run in opposite orders: the same prompt gives the same id and pixels.
    const [one, two] = [new InversionCache(fs.mkdtempSync(path.join(dir, 'order-a-'))), new InversionCache(fs.mkdtempSync(path.join(dir, 'order-b-')))];
    const catA = await invertAndEdit(model, { image, prompt: 'a cat', eta: 0.5, settings, inversionCache: one, lossGradient });
    const dogA = await invertAndEdit(model, { image, prompt: 'a dog', eta: 0.5, settings, inversionCache: one, lossGradient });
    expect(dogA.inversionCached).toBe(false);
    expect(dogA.inversion.key).not.toBe(catA.inversion.key);
    expect(dogA.inversion.initPrompt).toBe('a dog');
    const dogB = await invertAndEdit(model, { image, prompt: 'a dog', eta: 0.5, settings, inversionCache: two, lossGradient });
    expect(dogB.inversion.key).toBe(dogA.inversion.key);
    expect(Buffer.from(dogB.rgb).equals(Buffer.from(dogA.rgb))).toBe(true);
    // The tuned embeddings did start from different prompts.
    expect(dogA.inversion.embeddings[0]).not.toEqual(catA.inversion.embeddings[0]);
    // Another η of the same prompt is the cached inversion; re-editing by id takes any prompt.
    const catAgain = await invertAndEdit(model, { image, prompt: 'a cat', eta: 0.9, settings, inversionCache: one, lossGradient });
    expect(catAgain).toMatchObject({ inversionCached: true, inversion: { key: catA.inversion.key } });
    const bird = await reeditInversion(model, { inversionId: catA.inversion.key, inversionCache: one, prompt: 'a bird', eta: 0.5 });
    expect(bird.metrics).toMatchObject({ inversion_cached: 1, unet_vjp_calls: 0 });
    expect(bird.parameters.extra).toMatchObject({ inversionId: catA.inversion.key, initPrompt: 'a cat' });
  });

  it('records the photo\'s size in the parameters and the model\'s working size in extra', async () => {
    const photo = await smallPhoto();
    // 72×40 is fitted to the 64-px inversion grid and restored afterwards.
    const image = { width: 72, height: 40, rgb: new Uint8Array(72 * 40 * 3).map((_, i) => photo.rgb[i % photo.rgb.length]) };
    const cache = new InversionCache(dir);
    const r = await invertAndEdit(model, { image, prompt: 'a cat', eta: 0.5, settings: { method: 'ddim' as const, steps: 3 }, inversionCache: cache, lossGradient });
    expect([r.width, r.height]).toEqual([72, 40]);
    expect([r.parameters.width, r.parameters.height]).toEqual([72, 40]);
    expect(r.parameters.extra).toMatchObject({ modelWidth: 64, modelHeight: 64 });
  });

  it('a mask keeps the photo\'s own pixels away from it, in the first edit and in re-edits from the cache', async () => {
    const image = await smallPhoto(128);
    const W = 128;
    // Edit the left half only (columns < 48); the paste-back feathers 4 px (σ), so columns ≥ 48 + 12 are the photo's.
    const mask = new Float32Array(W * W);
    for (let y = 0; y < W; y++) for (let x = 0; x < 48; x++) mask[y * W + x] = 1;
    const cache = new InversionCache(fs.mkdtempSync(path.join(dir, 'masked-')));
    const settings = { method: 'ddim' as const, steps: 4 };
    const r = await invertAndEdit(model, { image, prompt: 'a red car', eta: 1, mask, settings, inversionCache: cache, lossGradient });
    const again = await reeditInversion(model, { inversionId: r.inversion.key, inversionCache: cache, prompt: 'a blue car', eta: 1, mask });
    const plain = await reeditInversion(model, { inversionId: r.inversion.key, inversionCache: cache, prompt: 'a red car', eta: 1 });
    for (const result of [r, again]) {
      expect(result.parameters.extra).toMatchObject({ masked: true, keptUnmasked: true });
      let far = 0;
      let inside = 0;
      for (let y = 0; y < W; y++) {
        for (let x = 0; x < W; x++) {
          for (let c = 0; c < 3; c++) {
            const i = (y * W + x) * 3 + c;
            if (x >= 60) {
              expect(result.rgb[i]).toBe(image.rgb[i]);
              far++;
            } else if (x < 36) inside = Math.max(inside, Math.abs(result.rgb[i] - image.rgb[i]));
          }
        }
      }
      expect(far).toBe(68 * W * 3);
      // Inside the mask the edit shows (the random-weight model's output is far from the photo).
      expect(inside).toBeGreaterThan(20);
    }
    // Without a mask the reconstruction-based result differs from the photo on the right too.
    let rightDiff = 0;
    for (let y = 0; y < W; y++) for (let x = 60; x < W; x++) rightDiff = Math.max(rightDiff, Math.abs(plain.rgb[(y * W + x) * 3] - image.rgb[(y * W + x) * 3]));
    expect(rightDiff).toBeGreaterThan(20);
    // The re-edit found the photo beside the cached inversion.
    expect(fs.existsSync(path.join(cache.dir, r.inversion.key, 'photo.png'))).toBe(true);
  });

  it('rejects bad requests by name', async () => {
    const image = await smallPhoto();
    await expect(invertAndEdit(model, { image, prompt: 'x', eta: 1.5 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringContaining('eta') });
    await expect(invertAndEdit(model, { image, prompt: 'x', settings: { method: 'foo' as never } })).rejects.toMatchObject({ message: expect.stringContaining('pti, nti, ddim') });
    await expect(invertAndEdit(model, { image, prompt: 'x', settings: { method: 'nti', guidance: 1 } })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(invertAndEdit(model, { image, prompt: 'x', mask: new Float32Array(3) })).rejects.toMatchObject({ message: expect.stringContaining('64×64') });
    await expect(reeditInversion(model, { inversionId: 'f'.repeat(24), inversionCache: new InversionCache(dir), prompt: 'x' })).rejects.toMatchObject({
      code: 'BAD_ARGUMENT',
      message: `No inversion ${'f'.repeat(24)} in ${dir}: it was never made here or has been removed; invert the photo again.`,
    });
    // An entry whose files are damaged is said to be damaged, not missing.
    const cache = new InversionCache(fs.mkdtempSync(path.join(dir, 'damaged-')));
    const made = await invertAndEdit(model, { image, prompt: 'x', settings: { method: 'ddim', steps: 2 }, inversionCache: cache, lossGradient });
    fs.truncateSync(path.join(cache.dir, made.inversion.key, 'trajectory.npy'), 100);
    await expect(reeditInversion(model, { inversionId: made.inversion.key, inversionCache: cache, prompt: 'x' })).rejects.toMatchObject({
      code: 'BAD_ARGUMENT',
      message: expect.stringMatching(/^Inversion [0-9a-f]{24} in .* is damaged \(its files cannot be read\); make it again/),
    });
    // Inverting again replaces it.
    const again = await invertAndEdit(model, { image, prompt: 'x', settings: { method: 'ddim', steps: 2 }, inversionCache: cache, lossGradient });
    expect(again).toMatchObject({ inversionCached: false, inversion: { key: made.inversion.key } });
    expect(cache.load(made.inversion.key)).toBeDefined();
  });
});

describe('invertAndEdit on the torch-layout folder (float timestep, int32 ids)', () => {
  it('runs PTI and null-text', async () => {
    const model = await StableDiffusionModel.load(await testModelDir('tiny-torch'), { provider: 'cpu' });
    try {
      expect(model.components.unet.timestep.dtype).toBe('float32');
      expect(model.components.text_encoder.session.inputs[0].dtype).toBe('int32');
      const image = await smallPhoto();
      const derivedModels = testDerivedModels();
      for (const method of ['pti', 'nti'] as const) {
        const r = await invertAndEdit(model, { image, prompt: 'a cat', eta: 0, settings: { method, steps: 3, innerSteps: 2, sourcePrompt: 'an astronaut' }, derivedModels });
        expect(r.metrics.unet_vjp_calls).toBeGreaterThan(0);
        expect(Number.isFinite(r.metrics.latent_mse)).toBe(true);
        expect(r.parameters.method).toBe(method === 'pti' ? 'prompt-tuning-inversion' : 'null-text-inversion');
      }
    } finally {
      await model.dispose();
    }
  }, 300_000);
});
