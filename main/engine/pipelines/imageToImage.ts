import { badArgument } from '../errors';
import { rgbToTensor } from '../image/rgbToTensor';
import type { StableDiffusionModel } from '../model/StableDiffusionModel';
import { createScheduler, img2imgStart } from '../schedulers';
import { Rng } from '../util/random';
import { checkCommon, checkNoise, checkStrength, DEFAULT_STRENGTH } from './checkInputs';
import { decodeLatents } from './decodeLatents';
import { denoise } from './denoise';
import { encodePrompt } from './encodePrompt';
import { fitPhoto, restoreSize } from './fitPhoto';
import { generationParameters } from './generationParameters';
import { initialNoise } from './initialNoise';
import { inpaintingChannels } from './inpaintingChannels';
import { PipelineClock } from './PipelineClock';
import { prepareControl } from './prepareControl';
import type { ImageToImageRequest, PipelineResult } from './PipelineRequest';

/**
 * Image-to-image (SDEdit, Meng et al. 2022): the photo's latent z₀ is noised to the step where
 * a fraction `strength` of the schedule remains, x = addNoise(z₀, ε, start), and denoised from
 * there; strength 1 starts from (almost) pure noise.
 */
export async function imageToImage(model: StableDiffusionModel, request: ImageToImageRequest): Promise<PipelineResult> {
  const clock = new PipelineClock(model.runtime);
  const { unet, vae_encoder, vae_decoder, scheduler: schedulerFolder } = model.components;

  // 1. Check inputs.
  if (!request || typeof request !== 'object' || !request.image) throw badArgument('imageToImage needs an image.');
  const args = checkCommon(request, schedulerFolder.sampler);
  vae_encoder.require('Image-to-image');
  const strength = checkStrength(request.strength ?? DEFAULT_STRENGTH);
  const { fitted, latentHeight, latentWidth } = await fitPhoto(request.image, request.maxSide);
  checkNoise(request.noise, latentHeight, latentWidth);
  const control = request.control ? await prepareControl(request.control, fitted.width, fitted.height) : undefined;
  const { startIndex } = img2imgStart(args.steps, strength);

  // 2. Encode the prompt.
  const prompt = await encodePrompt(model.components, args.prompt, args.negativePrompt, args.guidance);
  request.dump?.('text_embeddings', prompt.data, prompt.dims);
  clock.lap('encodePrompt');

  // 3. Prepare timesteps: the whole schedule, entered at startIndex.
  const scheduler = createScheduler(args.scheduler, schedulerFolder.config);
  scheduler.setTimesteps(args.steps);

  // 4. Prepare latents: z₀ = VAE mean · scaling, noised to the start step.
  const pixels = rgbToTensor(fitted.rgb, fitted.width, fitted.height);
  const z0 = await vae_encoder.encode(pixels, fitted.height, fitted.width);
  const rng = new Rng(args.seed);
  const noise = initialNoise(rng, z0.length, request.noise);
  const latents = scheduler.addNoise(z0, noise, startIndex);
  request.dump?.('initial_latents', latents, [1, 4, latentHeight, latentWidth]);

  // 5. An inpainting UNet regenerates everything (mask of ones, nothing kept).
  const extraChannels = model.folder.inpaintingUnet
    ? await inpaintingChannels(vae_encoder, undefined, new Float32Array(fitted.width * fitted.height).fill(1), fitted.width, fitted.height)
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
    startIndex,
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

  // 8. Decode, then back to the photo's size.
  const decoded = await decodeLatents(vae_decoder, z, latentHeight, latentWidth);
  const image = await restoreSize(decoded, request.image.width, request.image.height);
  clock.lap('decode');

  // 9. Controlled generations: ControlNet++'s consistency of the result with the condition.
  const metrics = control ? { consistency: await control.score(image) } : undefined;
  return {
    ...image,
    parameters: generationParameters(model, args, 'img2img', image, fitted, { strength, suppliedNoise: !!request.noise, control: control?.describe() }),
    timings: clock.finish(),
    ...(metrics ? { metrics } : {}),
    stepsRun: scheduler.timesteps.length - startIndex,
  };
}
