import { badArgument } from '../errors';
import type { Rng } from '../util/random';
import { alphasCumprodFor } from './alphasCumprod';
import { interpolateAt, karrasSigmas, sigmaToTimestep, trainSigmas } from './discreteSigmas';
import { checkStepArgs, checkStepCount, type Scheduler, type StepResult } from './Scheduler';
import type { SchedulerConfig } from './SchedulerConfig';
import { dpmSolverTimesteps, roundHalfEven } from './timestepSpacing';

/**
 * DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++", Algorithm 2), data-prediction multistep
 * solver of order 2, in DDPM sample space x_t = α_t·x₀ + σ_t·ε. With the train-σ s = σ_t/α_t,
 * α_t = 1/√(s²+1), σ_t = s·α_t and half-log-SNR λ_t = log α_t − log σ_t. For a step s → t with
 * h = λ_t − λ_s and x̂₀ predictions D_i:
 *
 *   first order (DDIM):  x_t = (σ_t/σ_s)·x_s − α_t·(e^{−h} − 1)·D_0
 *   second order:        x_t = (σ_t/σ_s)·x_s − α_t·(e^{−h} − 1)·(D_0 + ½·D_1),
 *                        D_1 = (D_0 − D_{−1})/r,  r = h_{−1}/h   (midpoint form)
 *
 * The first step (no history) and the last step are first order: the final σ is 0, where the
 * second-order term is undefined (diffusers' lower_order_final / final_sigmas_type 'zero').
 */
export class DPMSolverMultistepScheduler implements Scheduler {
  readonly name = 'dpmpp-2m' as const;
  readonly config: SchedulerConfig;
  readonly alphasCumprod: Float64Array;
  readonly initNoiseSigma = 1;
  readonly karras: boolean;
  timesteps: number[] = [];
  /** Train-σ at each step and the final one (0 or σ(t=0)); n+1 entries. */
  sigmas: Float64Array = new Float64Array(0);
  numInferenceSteps = 0;
  private lastStepIndex = -1;
  private lastPrediction: Float32Array | null = null;

  constructor(config: SchedulerConfig, karras = config.use_karras_sigmas) {
    this.config = config;
    this.karras = karras;
    this.alphasCumprod = alphasCumprodFor(config);
  }

  setTimesteps(numInferenceSteps: number): void {
    checkStepCount(numInferenceSteps, this.config);
    const all = trainSigmas(this.alphasCumprod);
    let timesteps = this.spacedTimesteps(numInferenceSteps);
    if (!this.karras && !fitsTrainRange(timesteps, this.config.num_train_timesteps)) {
      // Near N steps the spacing repeats a timestep (leading: ⌊N/(n+1)⌋ = 0; linspace: rounding) or
      // passes N−1 (leading + steps_offset): a repeated σ makes h = 0 and r = h₋₁/h divides by zero.
      let max = numInferenceSteps - 1;
      while (max > 1 && !fitsTrainRange(this.spacedTimesteps(max), this.config.num_train_timesteps)) max--;
      throw badArgument(
        `With ${this.config.timestep_spacing} timestep spacing and steps_offset ${this.config.steps_offset}, DPM-Solver++ supports at most ${max} steps; got ${numInferenceSteps}.`,
        { numInferenceSteps, max },
      );
    }
    let sigmas: number[];
    if (this.karras) {
      // Eq. 5 over the full train range, timesteps mapped back through log σ and rounded.
      sigmas = karrasSigmas(all[0], all[all.length - 1], numInferenceSteps);
      const logSigmas = all.map(Math.log);
      timesteps = sigmas.map((s) => roundHalfEven(sigmaToTimestep(s, logSigmas)));
    } else {
      sigmas = timesteps.map((t) => interpolateAt(all, t));
    }
    const finalSigma = this.config.final_sigmas_type === 'zero' ? 0 : all[0];
    this.numInferenceSteps = numInferenceSteps;
    this.timesteps = timesteps;
    this.sigmas = Float64Array.from([...sigmas, finalSigma]);
    this.lastStepIndex = -1;
    this.lastPrediction = null;
  }

  private spacedTimesteps(n: number): number[] {
    return dpmSolverTimesteps(this.config.timestep_spacing, n, this.config.num_train_timesteps, this.config.steps_offset);
  }

  scaleModelInput(sample: Float32Array, stepIndex: number): Float32Array {
    checkStepArgs(this, stepIndex, sample);
    return sample;
  }

  step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array, _rng?: Rng): StepResult {
    checkStepArgs(this, stepIndex, modelOutput, sample);
    const n = this.timesteps.length;
    const [alphaS, sigmaS] = alphaSigma(this.sigmas[stepIndex]);
    const [alphaT, sigmaT] = alphaSigma(this.sigmas[stepIndex + 1]);

    // x̂₀ from ε (x̂₀ = (x − σ·ε̂)/α) or v (x̂₀ = α·x − σ·v̂).
    const d0 = new Float32Array(sample.length);
    if (this.config.prediction_type === 'v_prediction') {
      for (let i = 0; i < d0.length; i++) d0[i] = alphaS * sample[i] - sigmaS * modelOutput[i];
    } else {
      for (let i = 0; i < d0.length; i++) d0[i] = (sample[i] - sigmaS * modelOutput[i]) / alphaS;
    }

    const hasHistory = this.lastPrediction !== null && this.lastStepIndex === stepIndex - 1;
    const isLast = stepIndex === n - 1;
    const lowerOrderFinal = isLast && (this.config.final_sigmas_type === 'zero' || (this.config.lower_order_final && n < 15));
    const secondOrder = hasHistory && !lowerOrderFinal;

    const lambdaS = Math.log(alphaS) - Math.log(sigmaS);
    const lambdaT = Math.log(alphaT) - Math.log(sigmaT); // +∞ when σ_t = 0: then e^{−h} = 0 and x_t = D_0
    const h = lambdaT - lambdaS;
    const ratio = sigmaT / sigmaS;
    const dataCoef = -alphaT * Math.expm1(-h);
    const prevSample = new Float32Array(sample.length);
    if (secondOrder) {
      const [alphaPrev, sigmaPrev] = alphaSigma(this.sigmas[stepIndex - 1]);
      const lambdaPrev = Math.log(alphaPrev) - Math.log(sigmaPrev);
      const r = (lambdaS - lambdaPrev) / h;
      const d1Coef = (0.5 * dataCoef) / r;
      const dPrev = this.lastPrediction!;
      for (let i = 0; i < prevSample.length; i++) {
        prevSample[i] = ratio * sample[i] + dataCoef * d0[i] + d1Coef * (d0[i] - dPrev[i]);
      }
    } else {
      for (let i = 0; i < prevSample.length; i++) prevSample[i] = ratio * sample[i] + dataCoef * d0[i];
    }
    this.lastPrediction = d0;
    this.lastStepIndex = stepIndex;
    return { prevSample, predOriginalSample: d0.slice() };
  }

  /** x_t = α_t·x₀ + σ_t·ε at the noise level of step `stepIndex`. */
  addNoise(original: Float32Array, noise: Float32Array, stepIndex: number): Float32Array {
    checkStepArgs(this, stepIndex, original, noise);
    const [alpha, sigma] = alphaSigma(this.sigmas[stepIndex]);
    const out = new Float32Array(original.length);
    for (let i = 0; i < out.length; i++) out[i] = alpha * original[i] + sigma * noise[i];
    return out;
  }
}

/** Strictly decreasing train timesteps within 0 … N−1: each step then has a distinct σ. */
function fitsTrainRange(timesteps: readonly number[], numTrain: number): boolean {
  return timesteps.every((t, i) => t >= 0 && t <= numTrain - 1 && (i === 0 || t < timesteps[i - 1]));
}

/** Train-σ s → (α_t, σ_t) = (1/√(s²+1), s/√(s²+1)). */
function alphaSigma(s: number): [number, number] {
  const alpha = 1 / Math.sqrt(s * s + 1);
  return [alpha, s * alpha];
}
