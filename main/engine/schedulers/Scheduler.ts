import { badArgument } from '../errors';
import type { Rng } from '../util/random';
import type { SchedulerConfig } from './SchedulerConfig';

export type SamplerName = 'ddim' | 'euler' | 'euler-a' | 'dpmpp-2m';

export const SAMPLER_NAMES: readonly SamplerName[] = ['ddim', 'euler', 'euler-a', 'dpmpp-2m'];

export interface StepResult {
  /** The sample at the next (less noisy) step, in the scheduler's own sample space. */
  prevSample: Float32Array;
  /** The model's estimate of the clean sample x₀ at this step (in DDPM latent space). */
  predOriginalSample: Float32Array;
}

/**
 * The contract every sampler follows (diffusers' scheduler API, indexed by step):
 *
 *   scheduler.setTimesteps(steps);
 *   let x = noise × initNoiseSigma;                      // or addNoise(x0, noise, startIndex)
 *   for (i = startIndex; i < timesteps.length; i++) {
 *     const eps = unet(scheduler.scaleModelInput(x, i), timesteps[i], …);
 *     x = scheduler.step(eps, i, x, rng).prevSample;
 *   }
 *
 * Tensors are Float32Array in C order; coefficients are computed in float64. `stepIndex` is
 * always an index into `timesteps` (never a train timestep value). Multistep samplers keep
 * history between calls; a call whose index does not follow the previous one starts afresh.
 */
export interface Scheduler {
  readonly name: SamplerName;
  readonly config: SchedulerConfig;
  /** ᾱ_t for t = 0 … num_train_timesteps − 1 (DDPM's cumulative product of 1 − β). */
  readonly alphasCumprod: Float64Array;
  /** Train timesteps fed to the UNet, descending; may be fractional for σ-based samplers. */
  readonly timesteps: number[];
  /** Standard deviation of the initial sample x_T (1 for DDPM-space samplers). */
  readonly initNoiseSigma: number;
  readonly numInferenceSteps: number;
  setTimesteps(numInferenceSteps: number): void;
  /** The UNet input for step `stepIndex`; may return `sample` itself when no scaling applies. */
  scaleModelInput(sample: Float32Array, stepIndex: number): Float32Array;
  /** One update from step `stepIndex` to `stepIndex + 1`. `rng` is needed by stochastic samplers. */
  step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array, rng?: Rng): StepResult;
  /**
   * `original` noised to the level of step `stepIndex` (a step index, not a train timestep),
   * in this scheduler's sample space — the img2img start.
   */
  addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array;
}

/** Throws BAD_ARGUMENT unless setTimesteps ran, the index is in range and the tensors match. */
export function checkStepArgs(scheduler: Scheduler, stepIndex: number, ...tensors: Float32Array[]): void {
  const n = scheduler.timesteps.length;
  if (n === 0) throw badArgument(`The ${scheduler.name} scheduler has no timesteps yet; call setTimesteps(steps) first.`);
  if (!Number.isInteger(stepIndex) || stepIndex < 0 || stepIndex >= n) {
    throw badArgument(`Step index ${stepIndex} is out of range: the ${scheduler.name} scheduler has steps 0…${n - 1}.`, { stepIndex });
  }
  const length = tensors[0].length;
  for (const t of tensors) {
    if (t.length !== length) {
      throw badArgument(`Tensor sizes differ (${length} vs ${t.length}); the model output, sample and noise must have the same shape.`);
    }
  }
}

export function checkStepCount(numInferenceSteps: number, config: SchedulerConfig): void {
  if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1 || numInferenceSteps > config.num_train_timesteps) {
    throw badArgument(
      `Step count ${numInferenceSteps} is not valid: use an integer from 1 to ${config.num_train_timesteps}.`,
      { numInferenceSteps },
    );
  }
}
