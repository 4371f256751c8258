import { badArgument } from '../errors';
import { checkSize } from './RgbImage';

export interface FitOptions {
  /** Each side becomes a multiple of this (8 for SD 1.5: the VAE downsamples by 8). */
  multiple?: number;
  /** Cap on the longer side; larger images are scaled down to it, keeping aspect. */
  maxSide?: number;
}

/**
 * The size to run the model at for a width × height photo:
 * 1. s = maxSide / max(width, height) when that side is larger than maxSide, else 1
 *    (never upscaled);
 * 2. each side → round(side · s / multiple) · multiple (halves round up), at least one
 *    multiple;
 * 3. a side that rounding pushed above maxSide drops to the largest multiple ≤ maxSide.
 * Aspect changes by at most half a multiple per side; resizeRgb maps there and back.
 */
export function fitToModel(width: number, height: number, options: FitOptions = {}): { width: number; height: number } {
  checkSize(width, height, 'Image');
  const multiple = options.multiple ?? 8;
  const { maxSide } = options;
  if (!Number.isInteger(multiple) || multiple < 1) throw badArgument(`multiple must be a whole number ≥ 1, got ${multiple}.`);
  if (maxSide !== undefined && !(Number.isFinite(maxSide) && maxSide >= multiple)) {
    throw badArgument(`maxSide must be at least the multiple (${multiple}), got ${maxSide}.`);
  }
  const longSide = Math.max(width, height);
  const s = maxSide !== undefined && longSide > maxSide ? maxSide / longSide : 1;
  const cap = maxSide !== undefined ? Math.floor(maxSide / multiple) * multiple : Infinity;
  const side = (n: number) => Math.min(cap, Math.max(multiple, Math.round((n * s) / multiple) * multiple));
  return { width: side(width), height: side(height) };
}
