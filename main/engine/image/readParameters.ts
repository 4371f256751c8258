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

/**
 * What a PNG's parameters chunk records, for the editor to restore field by field: the
 * parameters when they are complete and well-typed; the JSON object as written when some field
 * is missing or of the wrong type (the editor takes the fields it can and names the others);
 * an empty object when the chunk is there but not a JSON object (the editor says the
 * parameters could not be read); undefined when there is no chunk.
 */
const MAX_RECORDED_CHARS = 256 * 1024;

export function recordedParametersFromPng(png: Uint8Array): Record<string, unknown> | undefined {
  const entry = readPngTextChunks(png)?.find((e) => e.keyword === PENTIMENTO_TEXT_KEYWORD);
  if (!entry) return undefined;
  // Pentimento writes a few KiB; a chunk far larger is not parameters worth keeping in a project.
  if (entry.text.length > MAX_RECORDED_CHARS) return {};
  let value: unknown;
  try {
    value = JSON.parse(entry.text);
  } catch {
    return {};
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  return { ...(parseGenerationParameters(value) ?? (value as Record<string, unknown>)) };
}
