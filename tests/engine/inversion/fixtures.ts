/** Shared set-up of the inversion tests: a small photo, its latent, and the derived-model cache. */
import path from 'node:path';
import { DerivedModelCache } from '../../../main/engine/graph/DerivedModelCache';
import { loadImage } from '../../../main/engine/image/loadImage';
import type { RgbImage } from '../../../main/engine/image/RgbImage';
import { resizeRgb } from '../../../main/engine/image/resizeRgb';
import { rgbToTensor } from '../../../main/engine/image/rgbToTensor';
import type { StableDiffusionModel } from '../../../main/engine/model/StableDiffusionModel';

/**
 * Derived models are keyed by their source's content hash, so one folder serves every run:
 * building the tiny UNet's loss-gradient model takes ~20 s, opening it in onnxruntime ~30 s.
 */
export function testDerivedModels(): DerivedModelCache {
  return new DerivedModelCache(path.resolve(process.cwd(), '.cache', 'test-derived'));
}

/** astronaut.png at 64×64: an 8×8 latent keeps each UNet run in the tens of milliseconds. */
export async function smallPhoto(size = 64): Promise<RgbImage> {
  const photo = await loadImage(path.resolve(process.cwd(), 'tests/fixtures/photos/astronaut.png'));
  return resizeRgb(photo, size, size);
}

export async function photoLatent(model: StableDiffusionModel, photo: RgbImage): Promise<Float32Array> {
  return model.components.vae_encoder.encode(rgbToTensor(photo.rgb, photo.width, photo.height), photo.height, photo.width);
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
