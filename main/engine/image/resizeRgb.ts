import sharp from 'sharp';
import { checkRgbImage, checkSize, type RgbImage } from './RgbImage';

/**
 * Resamples to exactly width × height (aspect not kept) with Lanczos-3, the filter diffusers'
 * PIL preprocessing uses, both into the model's size and back to the photo's original size.
 */
export async function resizeRgb(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  checkRgbImage(image.rgb, image.width, image.height);
  checkSize(width, height, 'Target');
  if (width === image.width && height === image.height) {
    return { rgb: image.rgb.slice(), width, height };
  }
  const data = await sharp(image.rgb, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  return { rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height };
}
