import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadImage } from '../../../main/engine/image/loadImage';
import { resizeRgb } from '../../../main/engine/image/resizeRgb';
import type { RgbImage } from '../../../main/engine/image/RgbImage';
import { rgbToTensor } from '../../../main/engine/image/rgbToTensor';
import { StableDiffusionModel } from '../../../main/engine/model/StableDiffusionModel';
import { decodeLatents } from '../../../main/engine/pipelines/decodeLatents';
import { inpaint } from '../../../main/engine/pipelines/inpaint';
import { textToImage } from '../../../main/engine/pipelines/textToImage';
import { testModelDir } from '../../fixtures/models';

const PHOTOS = path.resolve(process.cwd(), 'tests/fixtures/photos');
const S = 64;
let model: StableDiffusionModel;
let photo: RgbImage;
/** The photo through the VAE and back: what inpainting can at best keep. */
let roundTrip: RgbImage;
let z0: Float32Array;

/** Mask of the left half (1 = regenerate). */
const leftHalf = new Float32Array(S * S).map((_, i) => (i % S < S / 2 ? 1 : 0));

beforeAll(async () => {
  model = await StableDiffusionModel.load(await testModelDir('tiny'), { provider: 'cpu' });
  photo = await resizeRgb(await loadImage(path.join(PHOTOS, 'astronaut.png')), S, S);
  z0 = await model.components.vae_encoder.encode(rgbToTensor(photo.rgb, S, S), S, S);
  roundTrip = await decodeLatents(model.components.vae_decoder, z0, S / 8, S / 8);
});
afterAll(async () => model?.dispose());

/** Mean absolute difference over the columns [x0, x1). */
function meanDiff(a: Uint8Array, b: Uint8Array, x0: number, x1: number): number {
  let sum = 0;
  let n = 0;
  for (let y = 0; y < S; y++) {
    for (let x = x0; x < x1; x++) {
      for (let c = 0; c < 3; c++) sum += Math.abs(a[(y * S + x) * 3 + c] - b[(y * S + x) * 3 + c]);
      n += 3;
    }
  }
  return sum / n;
}

describe('inpaint with latent blending (ordinary UNet)', () => {
  it('the final latent equals the source latent wherever the mask is 0', async () => {
    let final = new Float32Array(0);
    await inpaint(model, { prompt: 'x', image: photo, mask: leftHalf, steps: 3, seed: 1, dump: (n, d) => n === 'final_latents' && (final = d.slice()) });
    const plane = (S / 8) * (S / 8);
    let keptMax = 0;
    let changed = 0;
    for (let k = 0; k < final.length; k++) {
      const x = (k % plane) % (S / 8);
      if (x >= S / 16) keptMax = Math.max(keptMax, Math.abs(final[k] - z0[k]));
      else changed = Math.max(changed, Math.abs(final[k] - z0[k]));
    }
    expect(keptMax).toBe(0);
    expect(changed).toBeGreaterThan(0.1);
  });

  it('keeps unmasked pixels close to the VAE round trip of the photo', async () => {
    const r = await inpaint(model, { prompt: 'x', image: photo, mask: leftHalf, steps: 3, seed: 1, keepUnmasked: false });
    const kept = meanDiff(r.rgb, roundTrip.rgb, (3 * S) / 4, S);
    const regenerated = meanDiff(r.rgb, roundTrip.rgb, 0, S / 2);
    // The tiny VAE decoder's mid-block attention lets every latent touch every pixel, so the
    // kept side is not exact, but far closer than the regenerated side.
    expect(kept).toBeLessThan(0.5 * regenerated);
    expect(regenerated).toBeGreaterThan(10);
  });

  it('an all-zero mask returns exactly the VAE decode of the photo latent (without the paste-back)', async () => {
    const r = await inpaint(model, { prompt: 'x', image: photo, mask: new Float32Array(S * S), steps: 3, seed: 1, keepUnmasked: false });
    expect(Buffer.from(r.rgb).equals(Buffer.from(roundTrip.rgb))).toBe(true);
  });

  it('pastes the result into the photo: pixels beyond the feather are the photo\'s exactly', async () => {
    const blur = 2;
    const r = await inpaint(model, { prompt: 'x', image: photo, mask: leftHalf, steps: 3, seed: 1, maskBlur: blur });
    const raw = await inpaint(model, { prompt: 'x', image: photo, mask: leftHalf, steps: 3, seed: 1, keepUnmasked: false });
    const reach = Math.ceil(3 * blur); // the Gaussian kernel's radius
    let keptDiff = 0;
    let insideDiff = 0;
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        for (let c = 0; c < 3; c++) {
          const i = (y * S + x) * 3 + c;
          if (x >= S / 2 + reach) keptDiff = Math.max(keptDiff, Math.abs(r.rgb[i] - photo.rgb[i]));
          if (x < S / 2 - reach) insideDiff = Math.max(insideDiff, Math.abs(r.rgb[i] - raw.rgb[i]));
        }
      }
    }
    expect(keptDiff).toBe(0);
    expect(insideDiff).toBe(0);
    // Inside the feather the two are mixed: strictly between photo and generation somewhere.
    const seam = (8 * S + S / 2) * 3;
    expect(r.rgb[seam]).not.toBe(photo.rgb[seam]);
  });

  it('an all-zero mask returns the photo itself', async () => {
    const r = await inpaint(model, { prompt: 'x', image: photo, mask: new Float32Array(S * S), steps: 3, seed: 1 });
    expect(Buffer.from(r.rgb).equals(Buffer.from(photo.rgb))).toBe(true);
  });

  it('a bad maskBlur is BAD_ARGUMENT naming it', async () => {
    await expect(inpaint(model, { prompt: 'x', image: photo, mask: leftHalf, maskBlur: -1 })).rejects.toMatchObject({
      code: 'BAD_ARGUMENT',
      message: expect.stringContaining('maskBlur'),
    });
  });

  it('a mask of the wrong size is BAD_ARGUMENT', async () => {
    await expect(inpaint(model, { prompt: 'x', image: photo, mask: new Float32Array(10) })).rejects.toMatchObject({
      code: 'BAD_ARGUMENT',
      message: expect.stringContaining('mask'),
    });
  });
});

describe('inpainting UNet (9 input channels)', () => {
  it('runs inpaint and text-to-image, feeding latent + mask + masked-image latent', async () => {
    const m = await StableDiffusionModel.load(await testModelDir('tiny-inpaint'), { provider: 'cpu' });
    try {
      expect(m.components.unet.sample.shape?.[1]).toBe(9);
      const a = await inpaint(m, { prompt: 'x', image: photo, mask: leftHalf, steps: 2, seed: 1 });
      expect(a.rgb.length).toBe(S * S * 3);
      expect(a.parameters.method).toBe('inpaint');
      // The mask channel matters: another mask, another result.
      const b = await inpaint(m, { prompt: 'x', image: photo, mask: new Float32Array(S * S).fill(1), steps: 2, seed: 1 });
      expect(meanDiff(a.rgb, b.rgb, 0, S)).toBeGreaterThan(1);
      const t = await textToImage(m, { prompt: 'x', width: S, height: S, steps: 2, seed: 1 });
      expect(t.rgb.length).toBe(S * S * 3);
    } finally {
      await m.dispose();
    }
  });
});
