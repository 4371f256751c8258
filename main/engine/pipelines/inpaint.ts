import { badArgument } from '../errors';
import { rgbToTensor } from '../image/rgbToTensor';
import type { StableDiffusionModel } from '../model/StableDiffusionModel';
import { createScheduler, img2imgStart } from '../schedulers';
import { Rng } from '../util/random';
import { checkCommon, checkNoise, checkStrength } from './checkInputs';
import { compositeMasked, DEFAULT_MASK_BLUR } from './compositeMasked';
import { decodeLatents } from './decodeLatents';
import { denoise } from './denoise';
import { encodePrompt } from './encodePrompt';
import { fitPhoto, restoreSize } from './fitPhoto';
import { generationParameters } from './generationParameters';
import { initialNoise } from './initialNoise';
import { inpaintingChannels } from './inpaintingChannels';
import { PipelineClock } from './PipelineClock';
import { prepareControl } from './prepareControl';
import type { InpaintRequest, PipelineResult } from './PipelineRequest';
import { resampleMask } from './resampleMask';

/**
 * Inpainting: regenerate where the mask is 1, keep the photo where it is 0.
 *
 * - Ordinary UNet — latent blending (RePaint-style, as diffusers' legacy inpaint pipeline):
 *   after step i, outside the mask the sample is replaced by the source latent noised to the
 *   next step, x ← m·x + (1 − m)·addNoise(z₀, ε, i+1) (z₀ itself after the last step), with m
 *   the mask averaged over each latent pixel's 8×8 footprint. An all-zero mask therefore
 *   returns exactly the VAE decode of z₀.
 * - Inpainting UNet (9 input channels): the latent, the latent-size mask and the masked
 *   photo's latent go in together; the model itself keeps the unmasked region.
 * Either way the decoded result is then pasted into the photo through the feathered mask
 * (compositeMasked), so pixels away from the mask are the photo's, bit for bit.
 */
export async function inpaint(model: StableDiffusionModel, request: InpaintRequest): Promise<PipelineResult> {
  const clock = new PipelineClock(model.runtime);
  const { unet, vae_encoder, vae_decoder, scheduler: schedulerFolder } = model.components;

  // 1. Check inputs.
  if (!request || typeof request !== 'object' || !request.image) throw badArgument('inpaint needs an image.');
  const args = checkCommon(request, schedulerFolder.sampler);
  vae_encoder.require('Inpainting');
  const strength = checkStrength(request.strength ?? 1);
  const keepUnmasked = request.keepUnmasked ?? true;
  const maskBlur = request.maskBlur ?? DEFAULT_MASK_BLUR;
  if (!(Number.isFinite(maskBlur) && maskBlur >= 0 && maskBlur <= 64)) {
    throw badArgument(`maskBlur must be a number of pixels from 0 to 64 (got ${request.maskBlur}).`);
  }
  const { image } = request;
  if (!(request.mask instanceof Float32Array) || request.mask.length !== image.width * image.height) {
    throw badArgument(
      `The mask has ${request.mask?.length ?? 0} values but the ${image.width}×${image.height} photo needs ${image.width * image.height}; give a mask of the photo's size.`,
    );
  }
  const { fitted, latentHeight, latentWidth } = await fitPhoto(image, request.maxSide);
  checkNoise(request.noise, latentHeight, latentWidth);
  const control = request.control ? await prepareControl(request.control, fitted.width, fitted.height) : undefined;
  const { startIndex } = img2imgStart(args.steps, strength);

  // 2. Encode the prompt.
  const prompt = await encodePrompt(model.components, args.prompt, args.negativePrompt, args.guidance);
  request.dump?.('text_embeddings', prompt.data, prompt.dims);
  clock.lap('encodePrompt');

  // 3. Prepare timesteps.
  const scheduler = createScheduler(args.scheduler, schedulerFolder.config);
  scheduler.setTimesteps(args.steps);

  // 4. Prepare latents.
  const mask = resampleMask(request.mask, image.width, image.height, fitted.width, fitted.height);
  const pixels = rgbToTensor(fitted.rgb, fitted.width, fitted.height);
  const z0 = await vae_encoder.encode(pixels, fitted.height, fitted.width);
  const rng = new Rng(args.seed);
  const noise = initialNoise(rng, z0.length, request.noise);
  const fromNoise = model.folder.inpaintingUnet && strength === 1;
  const latents = fromNoise ? noise.map((v) => v * scheduler.initNoiseSigma) : scheduler.addNoise(z0, noise, startIndex);
  request.dump?.('initial_latents', latents, [1, 4, latentHeight, latentWidth]);

  // 5–6. The inpainting UNet's extra channels, or the latent-blending rule.
  let extraChannels: Float32Array | undefined;
  let afterStep: ((x: Float32Array, i: number) => Float32Array) | undefined;
  if (model.folder.inpaintingUnet) {
    extraChannels = await inpaintingChannels(vae_encoder, pixels, mask, fitted.width, fitted.height);
  } else {
    const m = resampleMask(mask, fitted.width, fitted.height, latentWidth, latentHeight);
    const plane = m.length;
    const last = scheduler.timesteps.length - 1;
    afterStep = (x, i) => {
      const kept = i < last ? scheduler.addNoise(z0, noise, i + 1) : z0;
      const out = new Float32Array(x.length);
      for (let k = 0; k < x.length; k++) {
        const w = m[k % plane];
        out[k] = w * x[k] + (1 - w) * kept[k];
      }
      return out;
    };
  }
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
    afterStep,
    splitGuidanceBatch: request.splitGuidanceBatch,
    onProgress: request.onProgress,
    cancel: request.cancel,
  });
  request.dump?.('final_latents', z, [1, 4, latentHeight, latentWidth]);
  clock.lap('denoise');

  // 8. Decode, then back to the photo's size.
  const decoded = await decodeLatents(vae_decoder, z, latentHeight, latentWidth);
  const result = await restoreSize(decoded, image.width, image.height);
  if (keepUnmasked) {
    result.rgb = compositeMasked(image.rgb, result.rgb, request.mask, image.width, image.height, maskBlur);
  }
  clock.lap('decode');

  // 9. Controlled generations: ControlNet++'s consistency of the result with the condition.
  const metrics = control ? { consistency: await control.score(result) } : undefined;
  return {
    ...result,
    parameters: generationParameters(model, args, 'inpaint', result, fitted, { strength, suppliedNoise: !!request.noise, control: control?.describe() }),
    timings: clock.finish(),
    ...(metrics ? { metrics } : {}),
    stepsRun: scheduler.timesteps.length - startIndex,
  };
}
