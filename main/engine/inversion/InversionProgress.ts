import type { RgbImage } from '../image/RgbImage';

/**
 * One outer step done: `invert` (DDIM inversion), `tune` (one timestep's embedding tuned), or
 * `edit` (one denoising step of the edit). Steps count from 1 within each stage.
 */
export interface InversionProgress {
  stage: 'invert' | 'tune' | 'edit';
  step: number;
  totalSteps: number;
  /** `tune`: optimiser iterations run at this timestep (fewer than the setting when it stopped early). */
  innerIterations?: number;
  /** `tune`: the loss at the last iteration. */
  loss?: number;
  /** The current latent at latent resolution (no VAE call). */
  preview: RgbImage;
}
