import type { VaeEncoder } from '../model/VaeEncoder';
import { resampleMask } from './resampleMask';

/**
 * The 5 channels an inpainting UNet takes after the latent (diffusers' SD inpainting layout):
 * the mask at latent size (1 = regenerate), then the latent of the masked image — the photo
 * with the region to regenerate set to 0 (mid-grey in [−1, 1]). The mask is binarised at 0.5
 * before masking, as the model was trained on hard masks.
 *
 * `image` is [1,3,H,W] in [−1,1] (or undefined: nothing to keep), `mask` H×W in [0,1].
 */
export async function inpaintingChannels(
  vae: VaeEncoder,
  image: Float32Array | undefined,
  mask: Float32Array,
  width: number,
  height: number,
): Promise<Float32Array> {
  const plane = width * height;
  const hard = mask.map((m) => (m >= 0.5 ? 1 : 0));
  const masked = new Float32Array(3 * plane);
  if (image) {
    for (let c = 0; c < 3; c++) for (let i = 0; i < plane; i++) masked[c * plane + i] = hard[i] ? 0 : image[c * plane + i];
  }
  const maskedLatent = await vae.encode(masked, height, width);
  const latentMask = resampleMask(hard, width, height, width / 8, height / 8);
  const out = new Float32Array(latentMask.length + maskedLatent.length);
  out.set(latentMask, 0);
  out.set(maskedLatent, latentMask.length);
  return out;
}
