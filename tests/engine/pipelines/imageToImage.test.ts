import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadImage } from '../../../main/engine/image/loadImage';
import { resizeRgb } from '../../../main/engine/image/resizeRgb';
import type { RgbImage } from '../../../main/engine/image/RgbImage';
import { StableDiffusionModel } from '../../../main/engine/model/StableDiffusionModel';
import { imageToImage } from '../../../main/engine/pipelines/imageToImage';
import { testModelDir } from '../../fixtures/models';

const PHOTOS = path.resolve(process.cwd(), 'tests/fixtures/photos');
let model: StableDiffusionModel;
let photo: RgbImage;

beforeAll(async () => {
  model = await StableDiffusionModel.load(await testModelDir('tiny'), { provider: 'cpu' });
  photo = await resizeRgb(await loadImage(path.join(PHOTOS, 'astronaut.png')), 64, 64);
});
afterAll(async () => model?.dispose());

describe('imageToImage', () => {
  it('runs ⌊steps·strength⌋ UNet steps, entered at the matching step of the schedule', async () => {
    for (const [steps, strength, expected] of [
      [4, 0.5, 2],
      [4, 1, 4],
      [4, 0.3, 1],
      [3, 0.75, 2],
    ] as const) {
      const before = model.components.unet.calls;
      let progressTotal = 0;
      const r = await imageToImage(model, {
        prompt: 'a painting',
        image: photo,
        steps,
        strength,
        seed: 1,
        onProgress: (p) => void (progressTotal = p.totalSteps),
      });
      // Guidance 7.5 on a UNet with a symbolic batch: one batch-2 call per step.
      expect(model.components.unet.calls - before).toBe(expected);
      expect(r.stepsRun).toBe(expected);
      expect(progressTotal).toBe(expected);
      expect(r.parameters).toMatchObject({ strength, steps, method: 'img2img' });
    }
  });

  it('lower strength stays closer to the photo', async () => {
    const diff = (img: RgbImage) => img.rgb.reduce((s, v, i) => s + Math.abs(v - photo.rgb[i]), 0) / img.rgb.length;
    const light = await imageToImage(model, { prompt: 'x', image: photo, steps: 10, strength: 0.1, seed: 4 });
    const heavy = await imageToImage(model, { prompt: 'x', image: photo, steps: 10, strength: 1, seed: 4 });
    expect(diff(light)).toBeLessThan(diff(heavy));
  });

  it('strength outside (0, 1] is BAD_ARGUMENT naming strength', async () => {
    for (const strength of [1.5, 0, -0.2]) {
      await expect(imageToImage(model, { prompt: 'x', image: photo, strength })).rejects.toMatchObject({
        code: 'BAD_ARGUMENT',
        message: expect.stringMatching(new RegExp(`strength is ${strength}; use a number in \\(0, 1\\]`)),
      });
    }
  });

  it('a photo of any size comes back at its own size; the model ran at multiples of 8', async () => {
    const odd = await resizeRgb(photo, 45, 30);
    const r = await imageToImage(model, { prompt: 'x', image: odd, steps: 2, seed: 1 });
    expect([r.width, r.height]).toEqual([45, 30]);
    expect(r.rgb.length).toBe(45 * 30 * 3);
    // The parameters describe the file they go into; the model's working size is recorded beside.
    expect([r.parameters.width, r.parameters.height]).toEqual([45, 30]);
    expect(r.parameters.extra).toMatchObject({ modelWidth: 48, modelHeight: 32, testModel: true });
    const square = await imageToImage(model, { prompt: 'x', image: photo, steps: 2, seed: 1 });
    expect([square.parameters.width, square.parameters.height]).toEqual([64, 64]);
    expect(square.parameters.extra).not.toHaveProperty('modelWidth');
  });

  it('runs on the torch layout (float timestep, int32 ids, 8-channel VAE latent)', async () => {
    const torch = await StableDiffusionModel.load(await testModelDir('tiny-torch'), { provider: 'cpu' });
    try {
      const a = await imageToImage(torch, { prompt: 'x', image: photo, steps: 2, seed: 1 });
      const b = await imageToImage(torch, { prompt: 'x', image: photo, steps: 2, seed: 1 });
      expect(a.rgb.length).toBe(64 * 64 * 3);
      expect(Buffer.from(a.rgb).equals(Buffer.from(b.rgb))).toBe(true);
    } finally {
      await torch.dispose();
    }
  });
});
