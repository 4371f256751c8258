import type { GenerationParameters } from '../image/GenerationParameters';
import type { RgbImage } from '../image/RgbImage';
import type { SamplerName } from '../schedulers';
import type { CancellationToken } from '../util/cancellation';
import type { ControlRequest, GenerationMetrics } from './prepareControl';

/** One denoising step done: `step` counts from 1 to `totalSteps` (the steps actually run). */
export interface PipelineProgress {
  step: number;
  totalSteps: number;
  /** The current estimate of the final image at latent resolution (no VAE call; see latentPreview). */
  preview: RgbImage;
}

/** What every pipeline takes besides its images. Omitted values take the documented defaults. */
export interface CommonRequest {
  prompt: string;
  negativePrompt?: string;
  /** Inference steps of the schedule (default 20); img2img runs ⌊steps·strength⌋ of them. */
  steps?: number;
  /** Classifier-free guidance scale w (default 7.5); w ≤ 1 runs the conditional branch only. */
  guidance?: number;
  /** Seed of the initial noise and of stochastic samplers; a random one when omitted (reported). */
  seed?: number;
  /** Sampler (default: the one matching the folder's scheduler_config.json). */
  scheduler?: SamplerName;
  /** Initial noise ε [1,4,h/8,w/8] instead of the seeded one. */
  noise?: Float32Array;
  /** Cap on the longer side when fitting a photo to the model (default 768; never upscaled). */
  maxSide?: number;
  /** Force two batch-1 UNet calls for guidance even when the UNet takes batch 2. */
  splitGuidanceBatch?: boolean;
  /** ControlNets guiding the generation (then `metrics.consistency` scores the result). */
  control?: ControlRequest;
  onProgress?: (p: PipelineProgress) => void | Promise<void>;
  cancel?: CancellationToken;
  /** Receives intermediate tensors by name: text_embeddings, initial_latents, final_latents. */
  dump?: (name: string, data: Float32Array, dims: number[]) => void;
}

export interface TextToImageRequest extends CommonRequest {
  width?: number;
  height?: number;
  /**
   * The size the result is restored to, when the generation size was fitted from a photo's (a
   * controlled generation whose condition photo gave the size): the photo's own, as photo edits do.
   */
  outputSize?: { width: number; height: number };
}

export interface ImageToImageRequest extends CommonRequest {
  image: RgbImage;
  /** Fraction of the schedule to re-run, in (0, 1] (default 0.75). */
  strength?: number;
}

export interface InpaintRequest extends CommonRequest {
  image: RgbImage;
  /** image.width × image.height values in [0, 1]; 1 = regenerate (see loadMask). */
  mask: Float32Array;
  /** Default 1: the masked region is regenerated from noise. */
  strength?: number;
  /**
   * Paste the result into the photo through the feathered mask, so unmasked pixels stay the
   * photo's exactly (default true). False returns the whole decoded image.
   */
  keepUnmasked?: boolean;
  /** Feather of that paste, Gaussian σ in photo pixels (default 4). */
  maskBlur?: number;
}

export interface PipelineTimings {
  /** Pipeline wall time, ms. */
  total: number;
  /** Time inside onnxruntime's run(), ms; total / insideOrt is the overhead factor. */
  insideOrt: number;
  encodePrompt: number;
  prepareLatents: number;
  denoise: number;
  decode: number;
  [key: string]: number;
}

export interface PipelineResult {
  /** Output pixels at the input photo's size (txt2img: the requested size). */
  rgb: Uint8Array;
  width: number;
  height: number;
  parameters: GenerationParameters;
  timings: PipelineTimings;
  /** Denoising steps run (UNet evaluations per branch). */
  stepsRun: number;
  /** Controlled generations: the result's consistency with the (first) condition. */
  metrics?: GenerationMetrics;
}
