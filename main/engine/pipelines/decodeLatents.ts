import type { RgbImage } from '../image/RgbImage';
import { tensorToRgb } from '../image/tensorToRgb';
import type { VaeDecoder } from '../model/VaeDecoder';

/** Step 8: z → VAE decoder → 8-bit RGB at 8× the latent size. */
export async function decodeLatents(vae: VaeDecoder, z: Float32Array, latentHeight: number, latentWidth: number): Promise<RgbImage> {
  const image = await vae.decode(z, latentHeight, latentWidth);
  const height = image.dims[2];
  const width = image.dims[3];
  return { rgb: tensorToRgb(image.data, width, height), width, height };
}
