import type { Scheduler } from '../../../main/engine/schedulers/Scheduler';
import type { Rng } from '../../../main/engine/util/random';

/**
 * Deterministic stand-ins for the UNet, written from the forward process alone
 * (x_t = √ᾱ·x₀ + √(1−ᾱ)·ε, σ = √((1−ᾱ)/ᾱ)) — not from any sampler's update rule.
 */
export type Model = (input: Float32Array, timestep: number) => Float32Array;

/** σ of a train timestep t: ᾱ-table σ at integer t, log-σ interpolation between (the inverse of Karras timestep mapping). */
export function sigmaOfTimestep(alphasCumprod: Float64Array, t: number): number {
  const sigma = (i: number) => Math.sqrt((1 - alphasCumprod[i]) / alphasCumprod[i]);
  const lo = Math.min(Math.floor(t), alphasCumprod.length - 2);
  const w = t - lo;
  return Math.exp((1 - w) * Math.log(sigma(lo)) + w * Math.log(sigma(lo + 1)));
}

/** A model that knows x₀: returns the exact ε (or v) for its input at the noise level σ(t). */
export function oracleModel(x0: Float32Array, sigmaAt: (t: number) => number, prediction: 'epsilon' | 'v_prediction' = 'epsilon'): Model {
  return (input, t) => {
    const s = sigmaAt(t);
    const a = 1 / (1 + s * s); // ᾱ
    const out = new Float32Array(input.length);
    for (let i = 0; i < out.length; i++) {
      const eps = (input[i] - Math.sqrt(a) * x0[i]) / Math.sqrt(1 - a);
      out[i] = prediction === 'epsilon' ? eps : Math.sqrt(a) * eps - Math.sqrt(1 - a) * x0[i];
    }
    return out;
  };
}

/**
 * The exact ε-prediction for data x₀ ~ N(μ, s²) per element: in σ-space x̃ = x_t/√ᾱ the optimal
 * denoiser is D = μ + s²/(s²+σ²)·(x̃ − μ), and ε̂ = (x̃ − D)/σ. Its probability-flow ODE maps
 * x̃_T = μ + √(s²+σ_T²)·z to x₀ = μ + s·z exactly.
 */
export function gaussianDataModel(mu: number, s: number, sigmaAt: (t: number) => number): Model {
  return (input, t) => {
    const sigma = sigmaAt(t);
    const sqrtA = 1 / Math.sqrt(1 + sigma * sigma);
    const out = new Float32Array(input.length);
    for (let i = 0; i < out.length; i++) {
      const xt = input[i] / sqrtA;
      const d = mu + ((s * s) / (s * s + sigma * sigma)) * (xt - mu);
      out[i] = (xt - d) / sigma;
    }
    return out;
  };
}

/** The standard loop from `startIndex`, returning the final sample and every x̂₀. */
export function denoise(scheduler: Scheduler, model: Model, sample: Float32Array, rng?: Rng, startIndex = 0) {
  let x = sample;
  const predictions: Float32Array[] = [];
  for (let i = startIndex; i < scheduler.timesteps.length; i++) {
    const output = model(scheduler.scaleModelInput(x, i), scheduler.timesteps[i]);
    const r = scheduler.step(output, i, x, rng);
    predictions.push(r.predOriginalSample);
    x = r.prevSample;
  }
  return { sample: x, predictions };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
