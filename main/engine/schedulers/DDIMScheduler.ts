import { badArgument } from '../errors';
import type { Rng } from '../util/random';
import { alphasCumprodFor } from './alphasCumprod';
import { checkStepArgs, checkStepCount, type Scheduler, type StepResult } from './Scheduler';
import type { SchedulerConfig } from './SchedulerConfig';
import { spacedTimesteps } from './timestepSpacing';

/**
 * DDIM (Song, Meng, Ermon 2021), eq. 12, in DDPM sample space (x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε):
 *
 *   x_{t−1} = √ᾱ_{t−1}·x̂₀ + √(1 − ᾱ_{t−1} − σ_t²)·ε̂ + σ_t·z,
 *   x̂₀ = (x_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t,
 *   σ_t = η·√((1−ᾱ_{t−1})/(1−ᾱ_t))·√(1 − ᾱ_t/ᾱ_{t−1})            (eq. 16)
 *
 * (The paper's α is our ᾱ.) η = 0 is the deterministic sampler; η = 1 is DDPM's ancestral one.
 * As in diffusers, the previous timestep is t − ⌊N/n⌋, and past the end ᾱ is 1 or ᾱ₀
 * (set_alpha_to_one).
 */
export class DDIMScheduler implements Scheduler {
  readonly name = 'ddim' as const;
  readonly config: SchedulerConfig;
  readonly alphasCumprod: Float64Array;
  readonly initNoiseSigma = 1;
  readonly eta: number;
  timesteps: number[] = [];
  numInferenceSteps = 0;
  private readonly finalAlphaCumprod: number;

  constructor(config: SchedulerConfig, eta = 0) {
    if (!Number.isFinite(eta) || eta < 0) throw badArgument(`DDIM η must be a number ≥ 0, got ${eta}.`, { eta });
    this.config = config;
    this.eta = eta;
    this.alphasCumprod = alphasCumprodFor(config);
    this.finalAlphaCumprod = config.set_alpha_to_one ? 1 : this.alphasCumprod[0];
  }

  setTimesteps(numInferenceSteps: number): void {
    checkStepCount(numInferenceSteps, this.config);
    this.numInferenceSteps = numInferenceSteps;
    this.timesteps = spacedTimesteps(
      this.config.timestep_spacing,
      numInferenceSteps,
      this.config.num_train_timesteps,
      this.config.steps_offset,
      true,
    );
    if (this.timesteps[0] >= this.config.num_train_timesteps) {
      const max = this.config.num_train_timesteps - this.config.steps_offset;
      this.timesteps = [];
      this.numInferenceSteps = 0;
      throw badArgument(`With steps_offset ${this.config.steps_offset}, DDIM supports at most ${max} steps; got ${numInferenceSteps}.`);
    }
  }

  /** The train timestep this step lands on; negative means "past the end" (ᾱ = final ᾱ). */
  prevTimestep(stepIndex: number): number {
    return this.timesteps[stepIndex] - Math.floor(this.config.num_train_timesteps / this.numInferenceSteps);
  }

  /** ᾱ_t at a train timestep, with the final ᾱ for t < 0. */
  alphaCumprodAt(t: number): number {
    return t >= 0 ? this.alphasCumprod[t] : this.finalAlphaCumprod;
  }

  /**
   * For η = 0 and no clipping the step is linear: prevSample = sampleCoef·x_t + outputCoef·model
   * output (ε or v). Gradient-based inversion (Prompt Tuning / null-text) needs exactly these.
   */
  stepCoefficients(stepIndex: number): { sampleCoef: number; outputCoef: number } {
    const a = this.alphaCumprodAt(this.timesteps[stepIndex]);
    const aPrev = this.alphaCumprodAt(this.prevTimestep(stepIndex));
    const [sa, sb, sap, sbp] = [Math.sqrt(a), Math.sqrt(1 - a), Math.sqrt(aPrev), Math.sqrt(1 - aPrev)];
    if (this.config.prediction_type === 'v_prediction') {
      // x̂₀ = √ᾱ·x − √(1−ᾱ)·v,  ε̂ = √ᾱ·v + √(1−ᾱ)·x
      return { sampleCoef: sap * sa + sbp * sb, outputCoef: sbp * sa - sap * sb };
    }
    return { sampleCoef: sap / sa, outputCoef: sbp - (sap * sb) / sa };
  }

  scaleModelInput(sample: Float32Array, stepIndex: number): Float32Array {
    checkStepArgs(this, stepIndex, sample);
    return sample;
  }

  step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array, rng?: Rng): StepResult {
    checkStepArgs(this, stepIndex, modelOutput, sample);
    if (this.eta > 0 && !rng) throw badArgument('DDIM with η > 0 adds noise each step; pass an Rng to step().');
    const a = this.alphaCumprodAt(this.timesteps[stepIndex]);
    const aPrev = this.alphaCumprodAt(this.prevTimestep(stepIndex));
    const sa = Math.sqrt(a);
    const sb = Math.sqrt(1 - a);
    const variance = ((1 - aPrev) / (1 - a)) * (1 - a / aPrev);
    const stdDev = this.eta * Math.sqrt(variance);
    const dirCoef = Math.sqrt(Math.max(1 - aPrev - stdDev * stdDev, 0));
    const sap = Math.sqrt(aPrev);
    const v = this.config.prediction_type === 'v_prediction';
    const clip = this.config.clip_sample ? this.config.clip_sample_range : Infinity;

    const n = sample.length;
    const prevSample = new Float32Array(n);
    const predOriginalSample = new Float32Array(n);
    const noise = stdDev > 0 ? rng!.fillNormal(new Float32Array(n)) : null;
    for (let i = 0; i < n; i++) {
      const x = sample[i];
      const out = modelOutput[i];
      let x0 = v ? sa * x - sb * out : (x - sb * out) / sa;
      const eps = v ? sa * out + sb * x : out;
      if (x0 > clip) x0 = clip;
      else if (x0 < -clip) x0 = -clip;
      predOriginalSample[i] = x0;
      prevSample[i] = sap * x0 + dirCoef * eps + (noise ? stdDev * noise[i] : 0);
    }
    return { prevSample, predOriginalSample };
  }

  addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array {
    checkStepArgs(this, stepIndex, original, noise);
    const a = this.alphasCumprod[this.timesteps[stepIndex]];
    const sa = Math.sqrt(a);
    const sb = Math.sqrt(1 - a);
    const out = new Float32Array(original.length);
    for (let i = 0; i < out.length; i++) out[i] = sa * original[i] + sb * noise[i];
    return out;
  }
}
