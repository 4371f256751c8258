/**
 * What produced an image, stored in Pentimento's PNGs (iTXt keyword `pentimento`, JSON) so an
 * edit can be reproduced or continued from the file alone.
 */
export interface GenerationParameters {
  prompt: string;
  negativePrompt: string;
  /** The noise seed; absent where nothing is random (edits by inversion). */
  seed?: number;
  steps: number;
  /** Classifier-free guidance scale (A1111's "CFG scale"). */
  guidance: number;
  scheduler: string;
  /** img2img / inpainting denoising strength in [0, 1]. */
  strength?: number;
  /**
   * The saved image's size. When the model ran at another size (photos are fitted to multiples
   * of 8), that one is `extra.modelWidth` × `extra.modelHeight` (see withOutputSize). Files
   * written before this rule may carry the model's size here.
   */
  width: number;
  height: number;
  model: { name: string; hash: string };
  /** Editing method (e.g. 'inpaint', 'instruct-pix2pix'), when not plain text-to-image. */
  method?: string;
  extra?: Record<string, unknown>;
}

/**
 * The parameters describing an output of width × height: their width/height become the output's,
 * and the size the model ran at, when it differs, moves to `extra.modelWidth/modelHeight` — so
 * the metadata matches the file it is in.
 */
export function withOutputSize(parameters: GenerationParameters, width: number, height: number): GenerationParameters {
  if (parameters.width === width && parameters.height === height) return parameters;
  return {
    ...parameters,
    width,
    height,
    extra: { ...parameters.extra, modelWidth: parameters.width, modelHeight: parameters.height },
  };
}

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The value as GenerationParameters when it has every required field with the right type,
 * otherwise undefined: parameters come from files anyone may have edited.
 */
export function parseGenerationParameters(value: unknown): GenerationParameters | undefined {
  if (!isRecord(value)) return undefined;
  const v = value;
  const model = v.model;
  const ok =
    typeof v.prompt === 'string' &&
    typeof v.negativePrompt === 'string' &&
    (v.seed === undefined || isFiniteNumber(v.seed)) &&
    isFiniteNumber(v.steps) &&
    isFiniteNumber(v.guidance) &&
    typeof v.scheduler === 'string' &&
    (v.strength === undefined || isFiniteNumber(v.strength)) &&
    isFiniteNumber(v.width) &&
    isFiniteNumber(v.height) &&
    isRecord(model) &&
    typeof model.name === 'string' &&
    typeof model.hash === 'string' &&
    (v.method === undefined || typeof v.method === 'string') &&
    (v.extra === undefined || isRecord(v.extra));
  if (!ok) return undefined;
  const m = model as { name: string; hash: string };
  return {
    prompt: v.prompt as string,
    negativePrompt: v.negativePrompt as string,
    ...(v.seed !== undefined ? { seed: v.seed as number } : {}),
    steps: v.steps as number,
    guidance: v.guidance as number,
    scheduler: v.scheduler as string,
    ...(v.strength !== undefined ? { strength: v.strength as number } : {}),
    width: v.width as number,
    height: v.height as number,
    model: { name: m.name, hash: m.hash },
    ...(v.method !== undefined ? { method: v.method as string } : {}),
    ...(v.extra !== undefined ? { extra: v.extra as Record<string, unknown> } : {}),
  };
}
