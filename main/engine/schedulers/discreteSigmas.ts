import type { SchedulerConfig } from './SchedulerConfig';
import { spacedTimesteps } from './timestepSpacing';

/**
 * Karras et al. 2022 (EDM) view of a DDPM: x_σ = x₀ + σ·ε with σ_t = √((1 − ᾱ_t)/ᾱ_t), so that
 * x_σ = x_t/√ᾱ_t and the UNet input is x_σ/√(σ² + 1).
 */
export function trainSigmas(alphasCumprod: Float64Array): Float64Array {
  return alphasCumprod.map((a) => Math.sqrt((1 - a) / a));
}

/** np.interp(t, arange(N), values): piecewise-linear in t, clamped at the ends. */
export function interpolateAt(values: Float64Array, t: number): number {
  if (t <= 0) return values[0];
  const last = values.length - 1;
  if (t >= last) return values[last];
  const lo = Math.floor(t);
  return values[lo] + (t - lo) * (values[lo + 1] - values[lo]);
}

/**
 * Karras et al. 2022, eq. 5: σ_i = (σ_max^{1/ρ} + i/(n−1)·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ, ρ = 7,
 * for i = 0 … n−1 (descending).
 */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, n: number, rho = 7): number[] {
  const minInv = sigmaMin ** (1 / rho);
  const maxInv = sigmaMax ** (1 / rho);
  return Array.from({ length: n }, (_, i) => {
    const ramp = n === 1 ? 0 : i / (n - 1);
    return (maxInv + ramp * (minInv - maxInv)) ** rho;
  });
}

/**
 * The (fractional) train timestep whose σ is `sigma`: linear interpolation of t in log σ between
 * the two bracketing train steps (diffusers' _sigma_to_t), clamped to [0, N−1].
 */
export function sigmaToTimestep(sigma: number, logSigmas: Float64Array): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  let lo = 0;
  for (let i = 0; i < logSigmas.length; i++) if (logSigmas[i] <= logSigma) lo = i;
  lo = Math.min(lo, logSigmas.length - 2);
  const hi = lo + 1;
  const w = Math.min(Math.max((logSigmas[lo] - logSigma) / (logSigmas[lo] - logSigmas[hi]), 0), 1);
  return (1 - w) * lo + w * hi;
}

/**
 * Timesteps and σs of diffusers' EulerDiscrete / EulerAncestralDiscrete: σ interpolated at the
 * spaced timesteps, or (Karras) n σs from eq. 5 between the first and last of those with their
 * timesteps mapped back through log σ. A final σ = 0 is appended: `sigmas` has n+1 entries.
 */
export function eulerSigmaSchedule(
  config: SchedulerConfig,
  alphasCumprod: Float64Array,
  n: number,
  karras: boolean,
): { timesteps: number[]; sigmas: Float64Array } {
  const all = trainSigmas(alphasCumprod);
  let timesteps = spacedTimesteps(config.timestep_spacing, n, config.num_train_timesteps, config.steps_offset, false);
  let sigmas = timesteps.map((t) => interpolateAt(all, t));
  if (karras) {
    sigmas = karrasSigmas(sigmas[sigmas.length - 1], sigmas[0], n);
    const logSigmas = all.map(Math.log);
    timesteps = sigmas.map((s) => sigmaToTimestep(s, logSigmas));
  }
  return { timesteps, sigmas: Float64Array.from([...sigmas, 0]) };
}
