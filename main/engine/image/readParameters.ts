import { readFile } from 'node:fs/promises';
import { PentimentoError } from '../errors';
import { parseGenerationParameters, type GenerationParameters } from './GenerationParameters';
import { readPngTextChunks } from './pngTextChunks';

/** iTXt keyword under which savePng stores GenerationParameters as JSON. */
export const PENTIMENTO_TEXT_KEYWORD = 'pentimento';

/**
 * The generation parameters a Pentimento PNG carries, without decoding its pixels.
 * Undefined for other formats, PNGs without the chunk, or a chunk that is not valid
 * parameters JSON (a hand-edited file still opens, just without its history).
 */
export async function readParameters(source: string | Uint8Array): Promise<GenerationParameters | undefined> {
  if (typeof source !== 'string') return parametersFromPng(source);
  let data: Buffer;
  try {
    data = await readFile(source);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new PentimentoError('BAD_IMAGE', `${source} was not found. Check the path.`, { source });
    }
    throw new PentimentoError('IO_ERROR', `Could not read ${source}: ${(e as Error).message}`, { source });
  }
  return parametersFromPng(data);
}

export function parametersFromPng(png: Uint8Array): GenerationParameters | undefined {
  const entry = readPngTextChunks(png)?.find((e) => e.keyword === PENTIMENTO_TEXT_KEYWORD);
  if (!entry) return undefined;
  try {
    return parseGenerationParameters(JSON.parse(entry.text));
  } catch {
    return undefined;
  }
}
