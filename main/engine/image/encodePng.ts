import sharp from 'sharp';
import { badArgument } from '../errors';
import { formatA1111Parameters } from './formatA1111Parameters';
import type { GenerationParameters } from './GenerationParameters';
import { insertPngTextChunks } from './pngTextChunks';
import { PENTIMENTO_TEXT_KEYWORD } from './readParameters';
import { checkRgbImage } from './RgbImage';

export interface EncodePngOptions {
  /**
   * width × height opacity values: the PNG is then RGBA with this alpha (a transparent photo
   * keeps its transparency through an edit; the pixels under it are the flattened RGB).
   */
  alpha?: Uint8Array;
}

/**
 * PNG bytes for an RGB image (RGBA with `options.alpha`), with the parameters (when given) as
 * two iTXt chunks: `pentimento` (JSON, keys sorted) for Pentimento and `parameters` (A1111
 * text) for other tools. Fixed encoder settings and no timestamp make the output a pure
 * function of the pixels, alpha and parameters.
 */
export async function encodePng(
  rgb: Uint8Array,
  width: number,
  height: number,
  parameters?: GenerationParameters,
  options: EncodePngOptions = {},
): Promise<Buffer> {
  checkRgbImage(rgb, width, height);
  const { alpha } = options;
  if (alpha !== undefined && (!(alpha instanceof Uint8Array) || alpha.length !== width * height)) {
    throw badArgument(`The alpha plane has ${alpha?.length ?? 0} values but the ${width}×${height} image needs ${width * height}.`, { width, height });
  }
  const pixels = alpha ? interleaveAlpha(rgb, alpha) : rgb;
  const png = await sharp(pixels, { raw: { width, height, channels: alpha ? 4 : 3 } })
    .png({ compressionLevel: 6, adaptiveFiltering: false, palette: false, progressive: false })
    .toBuffer();
  if (!parameters) return png;
  return insertPngTextChunks(png, [
    { keyword: PENTIMENTO_TEXT_KEYWORD, text: stableStringify(parameters) },
    { keyword: 'parameters', text: formatA1111Parameters(parameters) },
  ]);
}

/** JSON with object keys sorted, so equal parameters give equal bytes whatever their key order. */
function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function interleaveAlpha(rgb: Uint8Array, alpha: Uint8Array): Uint8Array {
  const rgba = new Uint8Array(alpha.length * 4);
  for (let i = 0; i < alpha.length; i++) {
    rgba[i * 4] = rgb[i * 3];
    rgba[i * 4 + 1] = rgb[i * 3 + 1];
    rgba[i * 4 + 2] = rgb[i * 3 + 2];
    rgba[i * 4 + 3] = alpha[i];
  }
  return rgba;
}
