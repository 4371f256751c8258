import { badArgument } from '../errors';

/** 8-bit sRGB pixels, HWC, 3 channels, rows top to bottom. */
export interface RgbImage {
  rgb: Uint8Array;
  width: number;
  height: number;
}

export function checkSize(width: number, height: number, what: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw badArgument(`${what} size must be whole numbers ≥ 1, got ${width}×${height}.`, { width, height });
  }
}

/** Throws BAD_ARGUMENT unless the buffer holds exactly width × height × 3 bytes. */
export function checkRgbImage(rgb: Uint8Array, width: number, height: number, what = 'image'): void {
  checkSize(width, height, what);
  if (rgb.length !== width * height * 3) {
    throw badArgument(
      `${what} has ${rgb.length} bytes but ${width}×${height} RGB needs ${width * height * 3}.`,
      { width, height, length: rgb.length },
    );
  }
}
