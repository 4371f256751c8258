import { describe, expect, it } from 'vitest';
import { createScheduler } from '../../../main/engine/schedulers/createScheduler';
import { DDIMScheduler } from '../../../main/engine/schedulers/DDIMScheduler';
import { DPMSolverMultistepScheduler } from '../../../main/engine/schedulers/DPMSolverMultistepScheduler';
import { EulerAncestralDiscreteScheduler } from '../../../main/engine/schedulers/EulerAncestralDiscreteScheduler';
import { EulerDiscreteScheduler } from '../../../main/engine/schedulers/EulerDiscreteScheduler';
import { SAMPLER_NAMES, type SamplerName, type Scheduler } from '../../../main/engine/schedulers/Scheduler';
import type { SchedulerConfig } from '../../../main/engine/schedulers/SchedulerConfig';
import { MAX_STEPS } from '../../../main/engine/pipelines/checkInputs';
import { Rng } from '../../../main/engine/util/random';
import { denoise, gaussianDataModel, maxAbsDiff, oracleModel } from './models';

/** σ of each scheduler step (its own σ table where it has one, else from ᾱ). */
function stepSigma(s: Scheduler): (t: number) => number {
  const sigmas = (s as { sigmas?: Float64Array }).sigmas;
  const table = new Map(s.timesteps.map((t, i) => [t, sigmas ? sigmas[i] : Math.sqrt((1 - s.alphasCumprod[t]) / s.alphasCumprod[t])]));
  return (t) => table.get(t)!;
}

describe('createScheduler', () => {
  it('builds each sampler with SD1.5 defaults filled in', () => {
    expect(createScheduler('ddim')).toBeInstanceOf(DDIMScheduler);
    expect(createScheduler('euler')).toBeInstanceOf(EulerDiscreteScheduler);
    expect(createScheduler('euler-a')).toBeInstanceOf(EulerAncestralDiscreteScheduler);
    expect(createScheduler('dpmpp-2m', {}, { karras: true })).toMatchObject({ karras: true });
    const s = createScheduler('ddim', { steps_offset: 0 });
    expect(s.config).toMatchObject({ num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, steps_offset: 0 });
    expect((createScheduler('ddim', {}, { eta: 0.5 }) as DDIMScheduler).eta).toBe(0.5);
  });

  it('takes Karras from the config unless the option overrides it', () => {
    expect((createScheduler('euler', { use_karras_sigmas: true }) as EulerDiscreteScheduler).karras).toBe(true);
    expect((createScheduler('euler', { use_karras_sigmas: true }, { karras: false }) as EulerDiscreteScheduler).karras).toBe(false);
  });

  it('rejects unknown samplers, Karras DDIM, η on other samplers and bad config values', () => {
    const bad = { code: 'BAD_ARGUMENT' };
    expect(() => createScheduler('plms' as SamplerName)).toThrow(expect.objectContaining(bad));
    expect(() => createScheduler('ddim', {}, { karras: true })).toThrow(/no Karras/);
    expect(() => createScheduler('euler', {}, { eta: 1 })).toThrow(/ddim sampler only/);
    expect(() => createScheduler('euler', { beta_schedule: 'cosine' as SchedulerConfig['beta_schedule'] })).toThrow(/beta_schedule/);
    expect(() => createScheduler('euler', { num_train_timesteps: 0 })).toThrow(expect.objectContaining(bad));
  });
});

describe('every sampler', () => {
  it.each(SAMPLER_NAMES)('%s: a 25-step loop with the true ε ends at x₀', (name) => {
    const s = createScheduler(name, { set_alpha_to_one: true });
    s.setTimesteps(25);
    const x0 = Float32Array.from({ length: 4 * 8 * 8 }, (_, i) => Math.sin(i / 5) * 2);
    const noise = new Rng(10).fillNormal(new Float32Array(x0.length));
    const { sample } = denoise(s, oracleModel(x0, stepSigma(s)), s.addNoise(x0, noise, 0), new Rng(12));
    expect(maxAbsDiff(sample, x0)).toBeLessThan(1e-4);
  });

  it.each(SAMPLER_NAMES)('%s: an img2img run from step 10 of 25 ends at x₀ too', (name) => {
    const s = createScheduler(name, { set_alpha_to_one: true });
    s.setTimesteps(25);
    const x0 = Float32Array.from({ length: 64 }, (_, i) => (i % 9) / 4 - 1);
    const noise = new Rng(10).fillNormal(new Float32Array(64));
    const { sample, predictions } = denoise(s, oracleModel(x0, stepSigma(s)), s.addNoise(x0, noise, 10), new Rng(12), 10);
    expect(predictions.length).toBe(15);
    expect(maxAbsDiff(sample, x0)).toBeLessThan(1e-4);
  });
});

describe('probability-flow ODE of Gaussian data (x₀ ~ N(0.3, 0.6²), exact endpoint 0.3 + 0.6·z)', () => {
  const mu = 0.3;
  const sd = 0.6;
  const z = Float32Array.from({ length: 41 }, (_, i) => -3 + 0.15 * i);

  function solveError(name: SamplerName, steps: number, karras: boolean) {
    const s = createScheduler(name, { set_alpha_to_one: true }, name === 'ddim' ? {} : { karras });
    s.setTimesteps(steps);
    const sigmaAt = stepSigma(s);
    const s0 = sigmaAt(s.timesteps[0]);
    // Start on the marginal at σ₀: x̃ = μ + √(s² + σ₀²)·z in σ-space, ×√ᾱ = 1/√(1+σ₀²) for DDPM-space samplers.
    const xT = z.map((v) => mu + Math.sqrt(sd * sd + s0 * s0) * v);
    const start = s instanceof EulerDiscreteScheduler ? xT : xT.map((v) => v / Math.sqrt(1 + s0 * s0));
    const out = denoise(s, gaussianDataModel(mu, sd, sigmaAt), start).sample;
    return { out, error: maxAbsDiff(out, z.map((v) => mu + sd * v)) };
  }

  it('DDIM (η = 0) and Euler are the same method on the same timesteps', () => {
    expect(maxAbsDiff(solveError('ddim', 20, false).out, solveError('euler', 20, false).out)).toBeLessThan(1e-5);
  });

  it('Euler converges at first order and DPM-Solver++(2M) at second order (Karras σ)', () => {
    const euler = [10, 20, 50].map((n) => solveError('euler', n, true).error);
    const dpm = [10, 20, 50].map((n) => solveError('dpmpp-2m', n, true).error);
    // Doubling the steps halves a first-order error and quarters a second-order one.
    expect(euler[0] / euler[1]).toBeGreaterThan(1.5);
    expect(euler[0] / euler[1]).toBeLessThan(2.5);
    expect(dpm[0] / dpm[1]).toBeGreaterThan(3.2);
    expect(dpm[1]).toBeLessThan(euler[1] / 4);
    expect(dpm[2]).toBeLessThan(5e-3);
  });

  it('DPM-Solver++(2M) beats Euler at equal steps on the default schedule as well', () => {
    for (const n of [10, 20, 50]) expect(solveError('dpmpp-2m', n, false).error).toBeLessThan(solveError('euler', n, false).error);
  });
});

describe('MAX_STEPS', () => {
  it('every sampler runs MAX_STEPS steps to finite samples with every timestep spacing and steps_offset 0 or 1 (the bound the CLI documents)', () => {
    const x0 = Float32Array.from([0.5, -0.25, 0.1]);
    for (const name of SAMPLER_NAMES) {
      for (const timestep_spacing of ['leading', 'trailing', 'linspace'] as const) {
        for (const steps_offset of [0, 1]) {
          const s = createScheduler(name, { timestep_spacing, steps_offset });
          s.setTimesteps(MAX_STEPS);
          expect(new Set(s.timesteps).size, `${name} ${timestep_spacing} ${steps_offset}`).toBe(MAX_STEPS);
          const noise = Float32Array.from([1, -1, 0.5]).map((v) => v * s.initNoiseSigma);
          const { sample } = denoise(s, oracleModel(x0, stepSigma(s)), noise, new Rng(1));
          expect([...sample].every(Number.isFinite), `${name} ${timestep_spacing} ${steps_offset}`).toBe(true);
        }
      }
    }
  });
});
