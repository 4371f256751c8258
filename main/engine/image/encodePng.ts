import sharp from 'sharp';
import { formatA1111Parameters } from './formatA1111Parameters';
import type { GenerationParameters } from './GenerationParameters';
import { insertPngTextChunks } from './pngTextChunks';
import { PENTIMENTO_TEXT_KEYWORD } from './readParameters';
import { checkRgbImage } from './RgbImage';

/**
 * PNG bytes for an RGB image, with the parameters (when given) as two iTXt chunks:
 * `pentimento` (JSON, keys sorted) for Pentimento and `parameters` (A1111 text) for other
 * tools. Fixed encoder settings and no timestamp make the output a pure function of the
 * pixels and parameters.
 */
export async function encodePng(rgb: Uint8Array, width: number, height: number, parameters?: GenerationParameters): Promise<Buffer> {
  checkRgbImage(rgb, width, height);
  const png = await sharp(rgb, { raw: { width, height, channels: 3 } })
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
