import type { RgbImage } from '../image/RgbImage';

/**
 * A linear map from SD 1.x's 4 latent channels to RGB in about [−1, 1] (the widely used
 * "latent RGB factors" fitted by least squares on VAE decodes). Previews then cost a 4×3
 * matrix per latent pixel instead of a VAE call. Rows: latent channel; columns: R, G, B.
 */
const LATENT_RGB = [
  [0.298, 0.207, 0.208],
  [0.187, 0.286, 0.173],
  [-0.158, 0.189, 0.264],
  [-0.184, -0.271, -0.473],
];

/** Preview of latents [1,4,h,w] (unscaled z, as the UNet sees them) at latent resolution h × w. */
export function latentPreview(z: Float32Array, latentHeight: number, latentWidth: number): RgbImage {
  const plane = latentHeight * latentWidth;
  const rgb = new Uint8Array(plane * 3);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      let v = 0;
      for (let k = 0; k < 4; k++) v += z[k * plane + i] * LATENT_RGB[k][c];
      const byte = Math.round((v + 1) * 127.5);
      rgb[i * 3 + c] = Number.isNaN(byte) ? 0 : Math.min(255, Math.max(0, byte));
    }
  }
  return { rgb, width: latentWidth, height: latentHeight };
}
