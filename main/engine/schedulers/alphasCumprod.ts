import type { SchedulerConfig } from './SchedulerConfig';

/**
 * β_t for t = 0 … N−1 (Ho et al. 2020's forward-process variances):
 * - linear:        β_t = β₀ + t/(N−1)·(β₁ − β₀)
 * - scaled_linear: β_t = (√β₀ + t/(N−1)·(√β₁ − √β₀))²  (Stable Diffusion's schedule)
 * - squaredcos_cap_v2: β_t = min(1 − ᾱ(t+1)/ᾱ(t), 0.999) with ᾱ(t) = cos²((t/N + 0.008)/1.008 · π/2)
 *   (Nichol & Dhariwal 2021, eq. 17).
 * Computed in float64; diffusers uses float32, which moves ᾱ by about 1e-7 relative.
 */
export function betasFor(config: SchedulerConfig): Float64Array {
  const n = config.num_train_timesteps;
  const betas = new Float64Array(n);
  if (config.trained_betas) {
    betas.set(config.trained_betas);
    return betas;
  }
  const { beta_start: b0, beta_end: b1 } = config;
  switch (config.beta_schedule) {
    case 'linear':
      for (let t = 0; t < n; t++) betas[t] = b0 + (t / (n - 1)) * (b1 - b0);
      break;
    case 'scaled_linear': {
      const s0 = Math.sqrt(b0);
      const s1 = Math.sqrt(b1);
      for (let t = 0; t < n; t++) betas[t] = (s0 + (t / (n - 1)) * (s1 - s0)) ** 2;
      break;
    }
    case 'squaredcos_cap_v2': {
      const alphaBar = (u: number) => Math.cos(((u + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
      for (let t = 0; t < n; t++) betas[t] = Math.min(1 - alphaBar((t + 1) / n) / alphaBar(t / n), 0.999);
      break;
    }
  }
  return betas;
}

/** ᾱ_t = ∏_{s ≤ t} (1 − β_s). */
export function alphasCumprodFor(config: SchedulerConfig): Float64Array {
  const betas = betasFor(config);
  const out = new Float64Array(betas.length);
  let prod = 1;
  for (let t = 0; t < betas.length; t++) {
    prod *= 1 - betas[t];
    out[t] = prod;
  }
  return out;
}

/**
 * The forward process q(x_t | x₀) at an arbitrary train timestep t (not a step index):
 * x_t = √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε — what training losses (e.g. NeTI's) sample.
 */
export function addNoiseAtTimestep(alphasCumprod: Float64Array, original: Float32Array, noise: Float32Array, t: number): Float32Array {
  const a = alphasCumprod[t];
  const sa = Math.sqrt(a);
  const sb = Math.sqrt(1 - a);
  const out = new Float32Array(original.length);
  for (let i = 0; i < out.length; i++) out[i] = sa * original[i] + sb * noise[i];
  return out;
}
