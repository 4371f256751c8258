import type { GenerationParameters } from '../image/GenerationParameters';
import type { StableDiffusionModel } from '../model/StableDiffusionModel';
import type { CheckedCommon } from './checkInputs';

/** What goes into the PNG: enough to reproduce the result from the file alone. */
export function generationParameters(
  model: StableDiffusionModel,
  args: CheckedCommon,
  method: 'txt2img' | 'img2img' | 'inpaint',
  size: { width: number; height: number },
  extra: { strength?: number; suppliedNoise?: boolean; control?: Record<string, unknown>[] } = {},
): GenerationParameters {
  const more: Record<string, unknown> = {};
  if (model.folder.isTestModel) more.testModel = true;
  // The seed alone does not reproduce a result made from caller-supplied noise.
  if (extra.suppliedNoise) more.noise = 'supplied';
  if (extra.control) more.control = extra.control;
  return {
    prompt: args.prompt,
    negativePrompt: args.negativePrompt,
    seed: args.seed,
    steps: args.steps,
    guidance: args.guidance,
    scheduler: args.scheduler,
    ...(extra.strength !== undefined ? { strength: extra.strength } : {}),
    width: size.width,
    height: size.height,
    model: { name: model.folder.name, hash: model.folder.hash },
    method,
    ...(Object.keys(more).length ? { extra: more } : {}),
  };
}
