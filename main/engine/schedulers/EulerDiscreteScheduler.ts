import type { Rng } from '../util/random';
import { alphasCumprodFor } from './alphasCumprod';
import { eulerSigmaSchedule } from './discreteSigmas';
import { checkStepArgs, checkStepCount, type Scheduler, type StepResult } from './Scheduler';
import type { SchedulerConfig } from './SchedulerConfig';

/**
 * Euler's method on the probability-flow ODE in Karras et al. 2022's parameterisation
 * (Algorithm 1 without churn): samples are x_σ = x₀ + σ·ε, the UNet sees x_σ/√(σ²+1) (= x_t),
 * and with D = x̂₀ the derivative is dx/dσ = (x − D)/σ (eq. 3 with σ(t) = t), so
 *
 *   x_{i+1} = x_i + (σ_{i+1} − σ_i)·(x_i − x̂₀)/σ_i,   x̂₀ = x_i − σ_i·ε̂.
 *
 * Optional Karras σ schedule (eq. 5, ρ = 7). σ_n = 0, so the last step returns x̂₀.
 */
export class EulerDiscreteScheduler implements Scheduler {
  readonly name: 'euler' | 'euler-a' = 'euler';
  readonly config: SchedulerConfig;
  readonly alphasCumprod: Float64Array;
  readonly karras: boolean;
  timesteps: number[] = [];
  /** σ_0 … σ_{n−1} and the final σ_n = 0. */
  sigmas: Float64Array = new Float64Array(0);
  numInferenceSteps = 0;

  constructor(config: SchedulerConfig, karras = config.use_karras_sigmas) {
    this.config = config;
    this.karras = karras;
    this.alphasCumprod = alphasCumprodFor(config);
  }

  /** diffusers: σ_max for linspace/trailing spacing, √(σ_max² + 1) for leading. */
  get initNoiseSigma(): number {
    const max = this.sigmas.length ? Math.max(...this.sigmas) : 0;
    return this.config.timestep_spacing === 'leading' ? Math.sqrt(max * max + 1) : max;
  }

  setTimesteps(numInferenceSteps: number): void {
    checkStepCount(numInferenceSteps, this.config);
    const { timesteps, sigmas } = eulerSigmaSchedule(this.config, this.alphasCumprod, numInferenceSteps, this.karras);
    this.numInferenceSteps = numInferenceSteps;
    this.timesteps = timesteps;
    this.sigmas = sigmas;
  }

  scaleModelInput(sample: Float32Array, stepIndex: number): Float32Array {
    checkStepArgs(this, stepIndex, sample);
    const sigma = this.sigmas[stepIndex];
    const scale = 1 / Math.sqrt(sigma * sigma + 1);
    const out = new Float32Array(sample.length);
    for (let i = 0; i < out.length; i++) out[i] = sample[i] * scale;
    return out;
  }

  /** x̂₀ from the model output at noise level σ: ε → x − σ·ε̂; v → x/(σ²+1) − σ/√(σ²+1)·v̂. */
  protected predictOriginal(modelOutput: Float32Array, sample: Float32Array, sigma: number): Float32Array {
    const out = new Float32Array(sample.length);
    if (this.config.prediction_type === 'v_prediction') {
      const c = 1 / (sigma * sigma + 1);
      const cv = -sigma / Math.sqrt(sigma * sigma + 1);
      for (let i = 0; i < out.length; i++) out[i] = modelOutput[i] * cv + sample[i] * c;
    } else {
      for (let i = 0; i < out.length; i++) out[i] = sample[i] - sigma * modelOutput[i];
    }
    return out;
  }

  step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array, _rng?: Rng): StepResult {
    checkStepArgs(this, stepIndex, modelOutput, sample);
    const sigma = this.sigmas[stepIndex];
    const dt = this.sigmas[stepIndex + 1] - sigma;
    const predOriginalSample = this.predictOriginal(modelOutput, sample, sigma);
    const prevSample = new Float32Array(sample.length);
    for (let i = 0; i < prevSample.length; i++) {
      const derivative = (sample[i] - predOriginalSample[i]) / sigma;
      prevSample[i] = sample[i] + derivative * dt;
    }
    return { prevSample, predOriginalSample };
  }

  /** x_σ = x₀ + σ_i·ε at step `stepIndex`. */
  addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array {
    checkStepArgs(this, stepIndex, original, noise);
    const sigma = this.sigmas[stepIndex];
    const out = new Float32Array(original.length);
    for (let i = 0; i < out.length; i++) out[i] = original[i] + sigma * noise[i];
    return out;
  }
}
