import { badArgument } from '../errors';
import type { StableDiffusionModel } from '../model/StableDiffusionModel';
import { createScheduler } from '../schedulers';
import { Rng } from '../util/random';
import { checkCommon, checkNoise, checkSize } from './checkInputs';
import { decodeLatents } from './decodeLatents';
import { denoise } from './denoise';
import { encodePrompt } from './encodePrompt';
import { generationParameters } from './generationParameters';
import { initialNoise } from './initialNoise';
import { restoreSize } from './fitPhoto';
import { checkSize as checkImageSize } from '../image/RgbImage';
import { inpaintingChannels } from './inpaintingChannels';
import { PipelineClock } from './PipelineClock';
import { prepareControl } from './prepareControl';
import type { PipelineResult, TextToImageRequest } from './PipelineRequest';

export const DEFAULT_TXT2IMG_SIZE = 512;

/** Text-to-image: pure noise, denoised over the whole schedule. */
export async function textToImage(model: StableDiffusionModel, request: TextToImageRequest): Promise<PipelineResult> {
  const clock = new PipelineClock(model.runtime);
  const { unet, vae_encoder, vae_decoder, scheduler: schedulerFolder } = model.components;

  // 1. Check inputs.
  if (!request || typeof request !== 'object') throw badArgument('textToImage needs a request object.');
  const args = checkCommon(request, schedulerFolder.sampler);
  const width = request.width ?? DEFAULT_TXT2IMG_SIZE;
  const height = request.height ?? DEFAULT_TXT2IMG_SIZE;
  checkSize(width, height);
  const output = request.outputSize;
  if (output !== undefined) checkImageSize(output?.width, output?.height, 'outputSize');
  if (model.folder.inpaintingUnet) vae_encoder.require('An inpainting UNet');
  const latentHeight = height / 8;
  const latentWidth = width / 8;
  checkNoise(request.noise, latentHeight, latentWidth);
  const control = request.control ? await prepareControl(request.control, width, height) : undefined;

  // 2. Encode the prompt (and the negative prompt for guidance).
  const prompt = await encodePrompt(model.components, args.prompt, args.negativePrompt, args.guidance);
  request.dump?.('text_embeddings', prompt.data, prompt.dims);
  clock.lap('encodePrompt');

  // 3. Prepare timesteps.
  const scheduler = createScheduler(args.scheduler, schedulerFolder.config);
  scheduler.setTimesteps(args.steps);

  // 4. Prepare latents: x_T = ε · σ_init.
  const rng = new Rng(args.seed);
  const noise = initialNoise(rng, 4 * latentHeight * latentWidth, request.noise);
  const latents = noise.map((v) => v * scheduler.initNoiseSigma);
  request.dump?.('initial_latents', latents, [1, 4, latentHeight, latentWidth]);

  // 5. An inpainting UNet generates from scratch with everything masked and nothing kept.
  const extraChannels = model.folder.inpaintingUnet
    ? await inpaintingChannels(vae_encoder, undefined, new Float32Array(width * height).fill(1), width, height)
    : undefined;
  clock.lap('prepareLatents');

  // 7. Denoise.
  const z = await denoise({
    unet: control?.unet ?? unet,
    control,
    scheduler,
    latents,
    latentHeight,
    latentWidth,
    startIndex: 0,
    prompt,
    guidance: args.guidance,
    rng,
    extraChannels,
    splitGuidanceBatch: request.splitGuidanceBatch,
    onProgress: request.onProgress,
    cancel: request.cancel,
  });
  request.dump?.('final_latents', z, [1, 4, latentHeight, latentWidth]);
  clock.lap('denoise');

  // 8. Decode (and back to the photo's size when the generation size was fitted from one).
  const decoded = await decodeLatents(vae_decoder, z, latentHeight, latentWidth);
  const image = output ? await restoreSize(decoded, output.width, output.height) : decoded;
  clock.lap('decode');

  // 9. Controlled generations: ControlNet++'s consistency of the result with the condition.
  const metrics = control ? { consistency: await control.score(image) } : undefined;
  return {
    ...image,
    parameters: generationParameters(model, args, 'txt2img', image, { width, height }, { suppliedNoise: !!request.noise, control: control?.describe() }),
    timings: clock.finish(),
    ...(metrics ? { metrics } : {}),
    stepsRun: scheduler.timesteps.length,
  };
}
