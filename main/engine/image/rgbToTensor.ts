import { checkRgbImage } from './RgbImage';

/**
 * HWC uint8 → NCHW float32 (N = 1) in [−1, 1]: x = 2·(v / 255) − 1, the VAE encoder's input
 * range (diffusers' `2.0 * image - 1.0`).
 */
export function rgbToTensor(rgb: Uint8Array, width: number, height: number): Float32Array {
  checkRgbImage(rgb, width, height);
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    out[i] = (2 * rgb[i * 3]) / 255 - 1;
    out[plane + i] = (2 * rgb[i * 3 + 1]) / 255 - 1;
    out[2 * plane + i] = (2 * rgb[i * 3 + 2]) / 255 - 1;
  }
  return out;
}
