import { withOutputSize, type GenerationParameters } from '../image/GenerationParameters';
import type { StableDiffusionModel } from '../model/StableDiffusionModel';
import type { CheckedCommon } from './checkInputs';

/**
 * What goes into the PNG: enough to reproduce the result from the file alone. `width`/`height`
 * are the output file's; the size the model ran at, when different, is `extra.modelWidth/Height`.
 */
export function generationParameters(
  model: StableDiffusionModel,
  args: CheckedCommon,
  method: 'txt2img' | 'img2img' | 'inpaint',
  output: { width: number; height: number },
  modelSize: { width: number; height: number },
  extra: { strength?: number; suppliedNoise?: boolean; control?: Record<string, unknown>[] } = {},
): GenerationParameters {
  const more: Record<string, unknown> = {};
  if (model.folder.isTestModel) more.testModel = true;
  // The seed alone does not reproduce a result made from caller-supplied noise.
  if (extra.suppliedNoise) more.noise = 'supplied';
  if (extra.control) more.control = extra.control;
  return withOutputSize(
    {
      prompt: args.prompt,
      negativePrompt: args.negativePrompt,
      seed: args.seed,
      steps: args.steps,
      guidance: args.guidance,
      scheduler: args.scheduler,
      ...(extra.strength !== undefined ? { strength: extra.strength } : {}),
      width: modelSize.width,
      height: modelSize.height,
      model: { name: model.folder.name, hash: model.folder.hash },
      method,
      ...(Object.keys(more).length ? { extra: more } : {}),
    },
    output.width,
    output.height,
  );
}
