import { encodePng, type EncodePngOptions } from './encodePng';
import type { GenerationParameters } from './GenerationParameters';
import { writeFileAtomic } from './writeFileAtomic';

/**
 * Saves a PNG carrying its generation parameters (see encodePng), atomically: a failed save
 * leaves any previous file untouched and no partial or temporary file behind. `options.alpha`
 * makes it RGBA.
 */
export async function savePng(
  path: string,
  rgb: Uint8Array,
  width: number,
  height: number,
  parameters?: GenerationParameters,
  options: EncodePngOptions = {},
): Promise<void> {
  const png = await encodePng(rgb, width, height, parameters, options);
  await writeFileAtomic(path, png);
}
