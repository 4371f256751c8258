import { badArgument } from '../errors';
import { SAMPLER_NAMES, type SamplerName } from '../schedulers';
import type { CommonRequest } from './PipelineRequest';
import { MAX_GUIDANCE, MAX_SEED, MAX_STEPS } from '../../contract/limits';

export { MAX_GUIDANCE, MAX_STEPS };

export const DEFAULT_STEPS = 20;
export const DEFAULT_GUIDANCE = 7.5;
export const DEFAULT_STRENGTH = 0.75;
export const MAX_SIDE = 2048;

export interface CheckedCommon {
  prompt: string;
  negativePrompt: string;
  steps: number;
  guidance: number;
  seed: number;
  scheduler: SamplerName;
}

/** A random seed in [0, 2^32): short enough to type back in. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 32);
}

/** Step 1 of every pipeline: each bad value is named, with the valid range or choices. */
export function checkCommon(r: CommonRequest, defaultScheduler: SamplerName): CheckedCommon {
  if (typeof r.prompt !== 'string') throw badArgument(`prompt must be text, got ${typeof r.prompt}.`);
  if (r.negativePrompt !== undefined && typeof r.negativePrompt !== 'string') {
    throw badArgument(`negativePrompt must be text, got ${typeof r.negativePrompt}.`);
  }
  const steps = r.steps ?? DEFAULT_STEPS;
  if (!Number.isInteger(steps) || steps < 1 || steps > MAX_STEPS) {
    throw badArgument(`steps is ${steps}; use a whole number from 1 to ${MAX_STEPS}.`, { field: 'steps', steps });
  }
  const guidance = r.guidance ?? DEFAULT_GUIDANCE;
  if (typeof guidance !== 'number' || !Number.isFinite(guidance) || guidance < 0 || guidance > MAX_GUIDANCE) {
    throw badArgument(`guidance is ${guidance}; use a number from 0 to ${MAX_GUIDANCE} (≤ 1 turns classifier-free guidance off).`, { field: 'guidance', guidance });
  }
  const seed = r.seed ?? randomSeed();
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw badArgument(`seed is ${seed}; use a whole number from 0 to ${MAX_SEED}.`, { field: 'seed', seed });
  }
  const scheduler = r.scheduler ?? defaultScheduler;
  if (!SAMPLER_NAMES.includes(scheduler)) {
    throw badArgument(`scheduler is "${String(scheduler)}"; choose one of ${SAMPLER_NAMES.join(', ')}.`, {
      field: 'scheduler',
      scheduler,
      valid: [...SAMPLER_NAMES],
    });
  }
  if (r.maxSide !== undefined && !(Number.isInteger(r.maxSide) && r.maxSide >= 64 && r.maxSide <= MAX_SIDE)) {
    throw badArgument(`maxSide is ${r.maxSide}; use a whole number from 64 to ${MAX_SIDE}.`, { maxSide: r.maxSide });
  }
  return { prompt: r.prompt, negativePrompt: r.negativePrompt ?? '', steps, guidance, seed, scheduler };
}

export function checkStrength(strength: number): number {
  if (typeof strength !== 'number' || !(strength > 0 && strength <= 1)) {
    throw badArgument(`strength is ${strength}; use a number in (0, 1] — the fraction of the schedule to re-run.`, { field: 'strength', strength });
  }
  return strength;
}

/** Text-to-image size: multiples of 8 (the VAE's downsampling) from 8 to MAX_SIDE. */
export function checkSize(width: number, height: number): void {
  for (const [name, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(v) || v < 8 || v > MAX_SIDE || v % 8 !== 0) {
      throw badArgument(`${name} is ${v}; use a multiple of 8 from 8 to ${MAX_SIDE}.`, { field: name, [name]: v });
    }
  }
}

/** Caller-supplied noise must be exactly the latent's size [1, 4, h/8, w/8]. */
export function checkNoise(noise: Float32Array | undefined, latentHeight: number, latentWidth: number): void {
  if (noise === undefined) return;
  const expected = 4 * latentHeight * latentWidth;
  if (!(noise instanceof Float32Array) || noise.length !== expected) {
    throw badArgument(
      `noise has ${noise?.length ?? 0} values but this ${latentWidth * 8}×${latentHeight * 8} image needs shape ` +
        `[1, 4, ${latentHeight}, ${latentWidth}] = ${expected} values.`,
      { expected: [1, 4, latentHeight, latentWidth] },
    );
  }
  for (let i = 0; i < noise.length; i++) {
    if (!Number.isFinite(noise[i])) throw badArgument(`noise value ${i} is ${noise[i]}; every value must be finite.`);
  }
}
