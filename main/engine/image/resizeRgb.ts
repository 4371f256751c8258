import { resample } from './resample';
import { checkRgbImage, checkSize, type RgbImage } from './RgbImage';

/**
 * Resamples to exactly width × height (aspect not kept) with Lanczos-3 and centre-aligned
 * pixels (see resample), both into the model's size and back to the photo's original size;
 * results are rounded and clamped to 0…255.
 */
export async function resizeRgb(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  checkRgbImage(image.rgb, image.width, image.height);
  checkSize(width, height, 'Target');
  if (width === image.width && height === image.height) {
    return { rgb: image.rgb.slice(), width, height };
  }
  const values = resample(image.rgb, image.width, image.height, 3, width, height, 'lanczos3');
  const rgb = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) rgb[i] = Math.min(255, Math.max(0, Math.round(values[i])));
  return { rgb, width, height };
}
