import type { Rng } from '../util/random';

/**
 * ε for the first latent. The seeded draw happens even when the caller supplies noise, so a
 * stochastic sampler's later draws from `rng` are the same either way: supplying exactly the
 * seeded noise reproduces the seeded result.
 */
export function initialNoise(rng: Rng, size: number, supplied?: Float32Array): Float32Array {
  const seeded = rng.fillNormal(new Float32Array(size));
  return supplied ?? seeded;
}
