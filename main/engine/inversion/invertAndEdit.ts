import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { badArgument } from '../errors';
import { DerivedModelCache, type DerivedModelProgress } from '../graph/DerivedModelCache';
import { withOutputSize, type GenerationParameters } from '../image/GenerationParameters';
import type { RgbImage } from '../image/RgbImage';
import { rgbToTensor } from '../image/rgbToTensor';
import { defaultCacheRoot } from '../model/defaultModel';
import type { StableDiffusionModel } from '../model/StableDiffusionModel';
import { decodeLatents } from '../pipelines/decodeLatents';
import { fitToModel } from '../image/fitToModel';
import { checkRgbImage } from '../image/RgbImage';
import { resizeRgb } from '../image/resizeRgb';
import { DEFAULT_MAX_SIDE, restoreSize } from '../pipelines/fitPhoto';
import type { PipelineResult } from '../pipelines/PipelineRequest';
import { compositeMasked, DEFAULT_MASK_BLUR } from '../pipelines/compositeMasked';
import { resampleMask } from '../pipelines/resampleMask';
import type { CancellationToken } from '../util/cancellation';
import { editInversion } from './editInversion';
import type { Inversion } from './Inversion';
import { inversionKey, photoHash, type InversionCache } from './InversionCache';
import type { InversionProgress } from './InversionProgress';
import { checkEta, checkInversionSettings, DEFAULT_ETA, type InversionMethod, type InversionSettings } from './InversionSettings';
import { invertPhoto } from './invertPhoto';
import { latentMse } from './latentMse';
import { psnr } from './psnr';
import { UNetLossGradient } from './UNetLossGradient';

/** What an edit of a real photo by inversion takes. Omitted values take the spec's defaults. */
export interface InvertEditRequest {
  image: RgbImage;
  /** The target prompt: what the photo should show. */
  prompt: string;
  /** Edit strength in [0, 1]; default by method (DEFAULT_ETA: PTI 0.7, null-text and DDIM 1). */
  eta?: number;
  /**
   * image.width × image.height values in [0, 1] (1 = edit; see loadMask). Outside it the latent
   * follows the reconstruction (spec §2) and the photo's own pixels are pasted back with a
   * DEFAULT_MASK_BLUR feather, so pixels away from the mask are the photo's, bit for bit.
   */
  mask?: Float32Array;
  /** Cap on the longer side when fitting the photo to the model (default 768). */
  maxSide?: number;
  /** The inversion's settings, method included (default PTI). */
  settings?: Partial<InversionSettings>;
  /** Where inversions are kept; without one, every request inverts afresh. */
  inversionCache?: InversionCache;
  /** Where the loss-gradient model is built (default <cache root>/derived). */
  derivedModels?: DerivedModelCache;
  /** An open loss-gradient model to use (default: one per loaded model, opened on first use). */
  lossGradient?: UNetLossGradient;
  cancel?: CancellationToken;
  onProgress?: (p: InversionProgress) => void | Promise<void>;
  onDerivedModel?: (p: DerivedModelProgress) => void;
}

/** A re-edit of a cached inversion with another target prompt, η or mask. */
export interface ReeditRequest {
  /** The `inversion.key` of an earlier result. */
  inversionId: string;
  inversionCache: InversionCache;
  /** That inversion when the caller has already loaded it (not read from the cache again). */
  loaded?: Inversion;
  prompt: string;
  eta?: number;
  /** At the photo's size, as in InvertEditRequest. */
  mask?: Float32Array;
  /** The photo to keep outside the mask; default: the one the inversion cache kept with the entry. */
  image?: RgbImage;
  cancel?: CancellationToken;
  onProgress?: (p: InversionProgress) => void | Promise<void>;
}

export interface InvertEditResult extends PipelineResult {
  /**
   * latent_mse (result latent vs the photo's latent z*_0), psnr (dB, decoded result vs the
   * photo's VAE round trip, capped at 100), inversion_ms, inversion_cached (0/1), and UNet runs
   * made by this request: unet_forward_calls, unet_vjp_calls (of which inversion_forward_calls
   * and edit_forward_calls), with inversion_forward_ms and inversion_vjp_ms inside them.
   */
  metrics: Record<string, number>;
  inversion: Inversion;
  inversionCached: boolean;
}

/**
 * Photos are fitted to multiples of 64 px (latents of 8): the UNet halves the latent three
 * times and its VJP's Resize gradient needs every upsampling to double exactly. All methods
 * use the same grid so their results compare.
 */
export const INVERSION_GRID = 64;

const METHOD_NAMES: Record<InversionMethod, string> = { pti: 'prompt-tuning-inversion', nti: 'null-text-inversion', ddim: 'ddim-inversion' };
const PSNR_CAP = 100;

// One loss-gradient session per loaded model: building or opening it is the slow part of a first call.
const lossGradients = new WeakMap<StableDiffusionModel, Promise<UNetLossGradient>>();

function lossGradientFor(model: StableDiffusionModel, cache: DerivedModelCache, onProgress?: (p: DerivedModelProgress) => void): Promise<UNetLossGradient> {
  let pending = lossGradients.get(model);
  if (!pending) {
    pending = UNetLossGradient.open(model, cache, onProgress);
    pending.catch(() => lossGradients.delete(model));
    lossGradients.set(model, pending);
  }
  return pending;
}

function checkPrompt(prompt: unknown): string {
  if (typeof prompt !== 'string') throw badArgument(`prompt must be text (the target: what the photo should show), got ${typeof prompt}.`);
  return prompt;
}

function checkMask(mask: Float32Array | undefined, width: number, height: number): void {
  if (mask !== undefined && (!(mask instanceof Float32Array) || mask.length !== width * height)) {
    throw badArgument(`The mask has ${mask?.length ?? 0} values but the ${width}×${height} photo needs ${width * height}; give a mask of the photo's size.`);
  }
}

/**
 * Edits a real photo by text (spec §2): invert it (DDIM, then PTI or null-text tuning), or take
 * the inversion from the cache, then sample the edit from z*_T.
 */
export async function invertAndEdit(model: StableDiffusionModel, request: InvertEditRequest): Promise<InvertEditResult> {
  const start = performance.now();
  const ortStart = model.runtime.insideMs;
  // 1. Check inputs.
  if (!request || typeof request !== 'object' || !request.image) throw badArgument('invertAndEdit needs an image.');
  const prompt = checkPrompt(request.prompt);
  const settings = checkInversionSettings(request.settings ?? {});
  const eta = checkEta(request.eta ?? DEFAULT_ETA[settings.method]);
  const { image } = request;
  checkMask(request.mask, image.width, image.height);
  if (model.folder.inpaintingUnet) {
    throw badArgument('Inversion editing needs a plain 4-channel UNet; this model folder has an inpainting UNet. Use a regular SD 1.x model.');
  }

  // 2. The photo's latent z*_0 = VAE mean · scaling.
  checkRgbImage(image.rgb, image.width, image.height, 'The photo');
  const maxSide = request.maxSide ?? DEFAULT_MAX_SIDE;
  if (!(Number.isInteger(maxSide) && maxSide >= INVERSION_GRID)) throw badArgument(`maxSide is ${maxSide}; use a whole number ≥ ${INVERSION_GRID}.`);
  const size = fitToModel(image.width, image.height, { multiple: INVERSION_GRID, maxSide });
  const fitted = await resizeRgb(image, size.width, size.height);
  const latentHeight = size.height / 8;
  const latentWidth = size.width / 8;
  const key = inversionKey(photoHash(fitted.rgb, fitted.width, fitted.height), model.folder.hash, settings, prompt);
  const prepareStart = performance.now();

  // 3. Invert, or reuse.
  const forwardBefore = model.components.unet.calls;
  const photo = { width: image.width, height: image.height, fittedWidth: fitted.width, fittedHeight: fitted.height };
  const stored = request.inversionCache?.load(key);
  // Two photos can fit to the same pixels; the result goes back to this one's size.
  let inversion = stored && { ...stored, photo };
  const cached = inversion !== undefined;
  let vjpCalls = 0;
  if (!inversion) {
    const z0 = await model.components.vae_encoder.encode(rgbToTensor(fitted.rgb, fitted.width, fitted.height), fitted.height, fitted.width);
    const lossGradient =
      settings.method === 'ddim'
        ? undefined
        : request.lossGradient ?? await lossGradientFor(model, request.derivedModels ?? new DerivedModelCache(path.join(defaultCacheRoot(), 'derived')), request.onDerivedModel);
    const vjpBefore = lossGradient?.calls ?? 0;
    const run = await invertPhoto(model, {
      z0,
      latentHeight,
      latentWidth,
      settings,
      targetPrompt: prompt,
      lossGradient,
      cancel: request.cancel,
      onProgress: request.onProgress,
    });
    vjpCalls = (lossGradient?.calls ?? 0) - vjpBefore;
    inversion = {
      ...run,
      key,
      model: { name: model.folder.name, hash: model.folder.hash },
      photo,
    };
    request.inversionCache?.save(inversion);
    await request.inversionCache?.savePhoto(key, image);
  }
  const inversionMs = performance.now() - prepareStart;
  const inversionForwardCalls = model.components.unet.calls - forwardBefore;

  // 4–5. Edit, decode, measure.
  const result = await editAndMeasure(model, inversion, { prompt, eta, mask: request.mask, photo: image, cancel: request.cancel, onProgress: request.onProgress });
  result.metrics = {
    ...result.metrics,
    inversion_ms: inversionMs,
    inversion_cached: cached ? 1 : 0,
    unet_forward_calls: inversionForwardCalls + result.metrics.edit_forward_calls,
    unet_vjp_calls: vjpCalls,
    inversion_forward_calls: inversionForwardCalls,
    inversion_forward_ms: cached ? 0 : inversion.stats.forwardMs,
    inversion_vjp_ms: cached ? 0 : inversion.stats.vjpMs,
  };
  result.inversionCached = cached;
  result.timings = { ...result.timings, prepareLatents: prepareStart - start, invert: inversionMs, total: performance.now() - start, insideOrt: model.runtime.insideMs - ortStart };
  return result;
}

/** Re-runs only the edit stage from a cached inversion (another target prompt, η or mask). */
export async function reeditInversion(model: StableDiffusionModel, request: ReeditRequest): Promise<InvertEditResult> {
  const start = performance.now();
  const ortStart = model.runtime.insideMs;
  if (!request || typeof request !== 'object') throw badArgument('reeditInversion needs a request object.');
  const prompt = checkPrompt(request.prompt);
  const inversion = request.loaded?.key === request.inversionId ? request.loaded : request.inversionCache.require(request.inversionId);
  if (inversion.model.hash !== model.folder.hash) {
    throw badArgument(`Inversion ${request.inversionId} was made with model ${inversion.model.name} (${inversion.model.hash}), not the loaded one; run the inversion again.`);
  }
  const eta = checkEta(request.eta ?? DEFAULT_ETA[inversion.settings.method]);
  checkMask(request.mask, inversion.photo.width, inversion.photo.height);
  let photo: RgbImage | undefined;
  if (request.mask) {
    photo = request.image ?? (await request.inversionCache.loadPhoto(request.inversionId));
    if (photo) checkRgbImage(photo.rgb, photo.width, photo.height, 'The photo');
    // A photo of another size than the inversion's is not the one it was made from.
    if (photo && (photo.width !== inversion.photo.width || photo.height !== inversion.photo.height)) photo = undefined;
  }
  const result = await editAndMeasure(model, inversion, { prompt, eta, mask: request.mask, photo, cancel: request.cancel, onProgress: request.onProgress });
  result.metrics = { ...result.metrics, inversion_ms: 0, inversion_cached: 1, unet_forward_calls: result.metrics.edit_forward_calls, unet_vjp_calls: 0, inversion_forward_calls: 0 };
  result.timings = { ...result.timings, total: performance.now() - start, insideOrt: model.runtime.insideMs - ortStart };
  return result;
}

async function editAndMeasure(
  model: StableDiffusionModel,
  inv: Inversion,
  args: { prompt: string; eta: number; mask?: Float32Array; photo?: RgbImage; cancel?: CancellationToken; onProgress?: (p: InversionProgress) => void | Promise<void> },
): Promise<InvertEditResult> {
  const { latentHeight, latentWidth, photo } = inv;
  const latentMask = args.mask
    ? resampleMask(
        resampleMask(args.mask, photo.width, photo.height, photo.fittedWidth, photo.fittedHeight),
        photo.fittedWidth,
        photo.fittedHeight,
        latentWidth,
        latentHeight,
      )
    : undefined;
  const editStart = performance.now();
  const { latent, forwardCalls } = await editInversion(model, inv, { prompt: args.prompt, eta: args.eta, latentMask, cancel: args.cancel, onProgress: args.onProgress });
  const denoiseMs = performance.now() - editStart;

  const decodeStart = performance.now();
  const { vae_decoder } = model.components;
  const decoded = await decodeLatents(vae_decoder, latent, latentHeight, latentWidth);
  const roundTrip = await decodeLatents(vae_decoder, inv.trajectory[0], latentHeight, latentWidth);
  const resized = await restoreSize(decoded, photo.width, photo.height);
  // Outside the mask the photo's own pixels, as inpainting does (the latent blend alone leaves
  // the reconstruction there, which is the photo only as far as the inversion and the VAE allow).
  const keptUnmasked = args.mask !== undefined && args.photo !== undefined;
  // (A new object: resizing to the same size may hand back `decoded`, which psnr reads below.)
  const restored = keptUnmasked
    ? { ...resized, rgb: compositeMasked(args.photo!.rgb, resized.rgb, args.mask!, photo.width, photo.height, DEFAULT_MASK_BLUR) }
    : resized;
  const decodeMs = performance.now() - decodeStart;

  const s = inv.settings;
  const extra: Record<string, unknown> = {
    eta: args.eta,
    sourcePrompt: s.sourcePrompt,
    inversionId: inv.key,
    ...(s.method !== 'ddim' ? { innerSteps: s.innerSteps, lr: s.lr, lrDecay: s.lrDecay, earlyStop: s.earlyStop, earlyStopSlope: s.earlyStopSlope } : {}),
    ...(s.method === 'pti' ? { init: s.init, initPrompt: inv.initPrompt } : {}),
    ...(s.invertAt !== 'from' ? { invertAt: s.invertAt } : {}),
    ...(args.mask ? { masked: true, keptUnmasked } : {}),
    ...(model.folder.isTestModel ? { testModel: true } : {}),
  };
  const parameters: GenerationParameters = withOutputSize({
    prompt: args.prompt,
    negativePrompt: '',
    // No seed: nothing is random; the result follows from the photo, the model and these settings.
    steps: s.steps,
    guidance: s.guidance,
    scheduler: 'ddim',
    width: photo.fittedWidth,
    height: photo.fittedHeight,
    model: inv.model,
    method: METHOD_NAMES[s.method],
    extra,
  }, photo.width, photo.height);
  return {
    ...restored,
    parameters,
    timings: { total: 0, insideOrt: 0, encodePrompt: 0, prepareLatents: 0, denoise: denoiseMs, decode: decodeMs },
    stepsRun: s.steps,
    metrics: {
      latent_mse: latentMse(latent, inv.trajectory[0]),
      psnr: Math.min(PSNR_CAP, psnr(decoded.rgb, roundTrip.rgb)),
      edit_forward_calls: forwardCalls,
    },
    inversion: inv,
    inversionCached: true,
  };
}
