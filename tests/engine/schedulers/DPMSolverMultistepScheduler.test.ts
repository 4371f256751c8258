import { describe, expect, it } from 'vitest';
import { DPMSolverMultistepScheduler } from '../../../main/engine/schedulers/DPMSolverMultistepScheduler';
import { resolveSchedulerConfig } from '../../../main/engine/schedulers/SchedulerConfig';
import { Rng } from '../../../main/engine/util/random';
import { denoise, maxAbsDiff, oracleModel, sigmaOfTimestep } from './models';

const sd15 = resolveSchedulerConfig({});
const trainSigma = (ac: Float64Array, t: number) => Math.sqrt((1 - ac[t]) / ac[t]);

/** (α_t, σ_t, λ_t) of a train-σ s, written out: α = 1/√(1+s²), σ = s·α, λ = log(α/σ) = −log s. */
const alphaSigmaLambda = (s: number) => [1 / Math.sqrt(1 + s * s), s / Math.sqrt(1 + s * s), -Math.log(s)];

describe('DPMSolverMultistepScheduler', () => {
  it('near N = 1000 steps refuses counts whose timesteps repeat or pass 999 (which gave NaN: h = 0), naming the largest it supports', () => {
    const leading = new DPMSolverMultistepScheduler(sd15);
    // leading: ⌊1000/1000⌋·999 + 1 = 1000 is past the table; ⌊1000/1001⌋ = 0 makes every timestep 1.
    expect(() => leading.setTimesteps(999)).toThrow(/^With leading timestep spacing and steps_offset 1, DPM-Solver\+\+ supports at most 998 steps; got 999\.$/);
    expect(() => leading.setTimesteps(1000)).toThrow(/supports at most 998 steps; got 1000/);
    // linspace: 1001 points over 0…999 round to repeats.
    expect(() => new DPMSolverMultistepScheduler(resolveSchedulerConfig({ timestep_spacing: 'linspace' })).setTimesteps(1000)).toThrow(/at most 999 steps/);
    for (const [config, n] of [[sd15, 998], [resolveSchedulerConfig({ timestep_spacing: 'linspace' }), 999], [resolveSchedulerConfig({ timestep_spacing: 'trailing' }), 1000]] as const) {
      const s = new DPMSolverMultistepScheduler(config);
      s.setTimesteps(n);
      expect(new Set(s.timesteps).size).toBe(n);
      const x0 = Float32Array.from([0.5, -0.25, 0.1]);
      const { sample } = denoise(s, oracleModel(x0, (t) => sigmaOfTimestep(s.alphasCumprod, t)), Float32Array.from([1, -1, 0.5]));
      expect([...sample].every(Number.isFinite)).toBe(true);
      expect(maxAbsDiff(sample, x0)).toBeLessThan(1e-3);
    }
  });

  it("has DPM-Solver 'leading' timesteps (941 … 48 for 20 steps), σ at them, a final σ of 0, initNoiseSigma 1", () => {
    const s = new DPMSolverMultistepScheduler(sd15);
    s.setTimesteps(20);
    expect(s.timesteps[0]).toBe(941);
    expect(s.timesteps[19]).toBe(48);
    expect(s.sigmas[3]).toBeCloseTo(trainSigma(s.alphasCumprod, s.timesteps[3]), 12);
    expect(s.sigmas[20]).toBe(0);
    expect(s.initNoiseSigma).toBe(1);
  });

  it('Karras σ span the whole train range σ(999) → σ(0) by eq. 5 with ρ = 7; timesteps are rounded', () => {
    const s = new DPMSolverMultistepScheduler(sd15, true);
    s.setTimesteps(10);
    const ac = s.alphasCumprod;
    const [max, min] = [trainSigma(ac, 999), trainSigma(ac, 0)];
    for (let i = 0; i < 10; i++) {
      expect(s.sigmas[i]).toBeCloseTo((max ** (1 / 7) + (i / 9) * (min ** (1 / 7) - max ** (1 / 7))) ** 7, 10);
      expect(Number.isInteger(s.timesteps[i])).toBe(true);
    }
    expect(s.timesteps[0]).toBe(999);
    expect(s.timesteps[9]).toBe(0);
  });

  it('first step is first order: x_t = (σ_t/σ_s)·x − α_t(e^{−h} − 1)·x̂₀', () => {
    const s = new DPMSolverMultistepScheduler(sd15);
    s.setTimesteps(20);
    const [as, ss, ls] = alphaSigmaLambda(s.sigmas[0]);
    const [at, st, lt] = alphaSigmaLambda(s.sigmas[1]);
    const [x, eps] = [2.5, 0.6];
    const x0 = (x - ss * eps) / as;
    const r = s.step(Float32Array.from([eps]), 0, Float32Array.from([x]));
    expect(r.predOriginalSample[0]).toBeCloseTo(x0, 5);
    expect(r.prevSample[0]).toBeCloseTo((st / ss) * x - at * (Math.exp(-(lt - ls)) - 1) * x0, 5);
  });

  it('later steps are second order: D₁ = (D₀ − D₋₁)/r with r = h₋₁/h, update adds −½α_t(e^{−h} − 1)·D₁', () => {
    const s = new DPMSolverMultistepScheduler(sd15);
    s.setTimesteps(20);
    const first = s.step(Float32Array.from([0.6]), 0, Float32Array.from([2.5]));
    const [x, eps] = [first.prevSample[0], -0.2];
    const r = s.step(Float32Array.from([eps]), 1, Float32Array.from([x]));
    const [, , lPrev] = alphaSigmaLambda(s.sigmas[0]);
    const [as, ss, ls] = alphaSigmaLambda(s.sigmas[1]);
    const [at, st, lt] = alphaSigmaLambda(s.sigmas[2]);
    const d0 = (x - ss * eps) / as;
    const dPrev = first.predOriginalSample[0];
    const h = lt - ls;
    const d1 = (d0 - dPrev) / ((ls - lPrev) / h);
    const expected = (st / ss) * x - at * (Math.exp(-h) - 1) * d0 - 0.5 * at * (Math.exp(-h) - 1) * d1;
    expect(r.prevSample[0]).toBeCloseTo(expected, 5);
  });

  it('last step returns x̂₀ (first order to σ = 0)', () => {
    const s = new DPMSolverMultistepScheduler(sd15);
    s.setTimesteps(5);
    const x = Float32Array.from([0.4]);
    for (let i = 0; i < 4; i++) s.step(Float32Array.from([0.1 * i]), i, x);
    const r = s.step(Float32Array.from([0.3]), 4, x);
    expect(r.prevSample[0]).toBeCloseTo(r.predOriginalSample[0], 6);
  });

  it('starts afresh (first order) when a run begins mid-schedule, as img2img does', () => {
    const s = new DPMSolverMultistepScheduler(sd15);
    s.setTimesteps(20);
    s.step(Float32Array.from([0.6]), 0, Float32Array.from([2.5]));
    const fresh = new DPMSolverMultistepScheduler(sd15);
    fresh.setTimesteps(20);
    const a = s.step(Float32Array.from([0.3]), 7, Float32Array.from([1]));
    const b = fresh.step(Float32Array.from([0.3]), 7, Float32Array.from([1]));
    expect(a.prevSample[0]).toBe(b.prevSample[0]);
  });

  it('addNoise at step i is α·x₀ + σ·ε, equal to √ᾱ·x₀ + √(1−ᾱ)·ε at integer timesteps', () => {
    const s = new DPMSolverMultistepScheduler(sd15);
    s.setTimesteps(20);
    const a = s.alphasCumprod[s.timesteps[6]];
    expect(s.addNoise(Float32Array.from([0.5]), Float32Array.from([-1]), 6)[0]).toBeCloseTo(0.5 * Math.sqrt(a) - Math.sqrt(1 - a), 6);
  });

  it.each([
    [false, 'epsilon', 20],
    [true, 'epsilon', 10],
    [false, 'v_prediction', 25],
  ] as const)('returns x₀ from the true model output (karras %s, %s, %i steps)', (karras, prediction_type, steps) => {
    const s = new DPMSolverMultistepScheduler(resolveSchedulerConfig({ prediction_type }), karras);
    s.setTimesteps(steps);
    // The solver works with its own σ_i (Karras σs are not at integer timesteps), so the oracle does too.
    const sigmaAtStep = new Map(s.timesteps.map((t, i) => [t, s.sigmas[i]]));
    const x0 = Float32Array.from({ length: 64 }, (_, i) => Math.cos(i * 1.3));
    const model = oracleModel(x0, (t) => sigmaAtStep.get(t) ?? sigmaOfTimestep(s.alphasCumprod, t), prediction_type);
    const { sample, predictions } = denoise(s, model, s.addNoise(x0, new Rng(6).fillNormal(new Float32Array(64)), 0));
    for (const p of predictions) expect(maxAbsDiff(p, x0)).toBeLessThan(1e-4);
    expect(maxAbsDiff(sample, x0)).toBeLessThan(1e-5);
  });
});
