import { fitToModel } from '../image/fitToModel';
import { checkRgbImage, type RgbImage } from '../image/RgbImage';
import { resizeRgb } from '../image/resizeRgb';

export const DEFAULT_MAX_SIDE = 768;

/** A photo resized to the model's grid (multiples of 8, longer side ≤ maxSide), with its latent size. */
export async function fitPhoto(image: RgbImage, maxSide = DEFAULT_MAX_SIDE): Promise<{ fitted: RgbImage; latentHeight: number; latentWidth: number }> {
  checkRgbImage(image.rgb, image.width, image.height, 'The photo');
  const size = fitToModel(image.width, image.height, { multiple: 8, maxSide });
  const fitted = await resizeRgb(image, size.width, size.height);
  return { fitted, latentHeight: size.height / 8, latentWidth: size.width / 8 };
}

/** The model-size result back at the photo's own size. */
export async function restoreSize(result: RgbImage, width: number, height: number): Promise<RgbImage> {
  return resizeRgb(result, width, height);
}
