import { decodeImage, type DecodeOptions, type ImageSource, type SourceFormat } from './decodeImage';
import type { GenerationParameters } from './GenerationParameters';
import { parametersFromPng } from './readParameters';

export type LoadImageOptions = DecodeOptions;

export interface LoadedImage {
  /** 8-bit sRGB, HWC, 3 channels; transparent sources are composited over white. */
  rgb: Uint8Array;
  width: number;
  height: number;
  /** H×W opacity, present when the source had an alpha channel (even if fully opaque). */
  alpha?: Uint8Array;
  sourceFormat: SourceFormat;
  /** Present when the file is a PNG that Pentimento saved with its generation parameters. */
  parameters?: GenerationParameters;
}

/**
 * Opens an image for editing: PNG, JPEG, WebP, TIFF, AVIF or GIF (first frame), upright per
 * EXIF, as 8-bit sRGB. Failures are BAD_IMAGE naming the file (see decodeImage).
 */
export async function loadImage(source: ImageSource, options: LoadImageOptions = {}): Promise<LoadedImage> {
  const image = await decodeImage(source, options);
  const { width, height } = image;
  let rgb = image.data;
  let alpha: Uint8Array | undefined;
  if (image.channels === 4) {
    ({ rgb, alpha } = flattenOntoWhite(image.data, width * height));
  }
  const parameters = image.sourceFormat === 'png' ? parametersFromPng(image.encoded) : undefined;
  return {
    rgb,
    width,
    height,
    ...(alpha ? { alpha } : {}),
    sourceFormat: image.sourceFormat,
    ...(parameters ? { parameters } : {}),
  };
}

/**
 * Straight-alpha "over" onto white, c' = (c·a + 255·(255 − a)) / 255, rounded half up, in
 * integers so every platform gives the same bytes.
 */
function flattenOntoWhite(rgba: Uint8Array, pixels: number): { rgb: Uint8Array; alpha: Uint8Array } {
  const rgb = new Uint8Array(pixels * 3);
  const alpha = new Uint8Array(pixels);
  for (let i = 0; i < pixels; i++) {
    const a = rgba[i * 4 + 3];
    alpha[i] = a;
    for (let c = 0; c < 3; c++) {
      rgb[i * 3 + c] = Math.floor((rgba[i * 4 + c] * a + 255 * (255 - a) + 127) / 255);
    }
  }
  return { rgb, alpha };
}
