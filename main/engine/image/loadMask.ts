import { decodeImage, type DecodeOptions, type ImageSource } from './decodeImage';
import { resample } from './resample';
import { checkSize } from './RgbImage';

/**
 * An edit mask as H×W floats in [0, 1], 1 = regenerate, resized to width × height.
 *
 * Value = luminance × opacity: Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601, as PIL's
 * `convert('L')` that diffusers applies to masks), multiplied by alpha / 255 when the mask
 * has alpha, i.e. the mask composited over black. White-on-black masks and white strokes
 * on a transparent layer both work; transparent means "keep". An all-black mask is valid
 * (nothing to edit).
 *
 * Resizing is bilinear (triangle filter, centre-aligned) widened by the reduction factor
 * when shrinking, like PIL's BILINEAR, so thin strokes survive downscaling instead of
 * aliasing away.
 */
export async function loadMask(source: ImageSource, width: number, height: number, options: DecodeOptions = {}): Promise<Float32Array> {
  checkSize(width, height, 'Mask target');
  const image = await decodeImage(source, options);
  const pixels = image.width * image.height;
  const { data, channels } = image;
  const value = new Float32Array(pixels);
  for (let i = 0; i < pixels; i++) {
    const p = i * channels;
    const y = (0.299 * data[p] + 0.587 * data[p + 1] + 0.114 * data[p + 2]) / 255;
    value[i] = channels === 4 ? (y * data[p + 3]) / 255 : y;
  }
  if (image.width === width && image.height === height) return value;

  const resized = resample(value, image.width, image.height, 1, width, height, 'triangle');
  for (let i = 0; i < resized.length; i++) resized[i] = Math.min(1, Math.max(0, resized[i]));
  return resized;
}
