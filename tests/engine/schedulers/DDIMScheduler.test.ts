import { describe, expect, it } from 'vitest';
import { DDIMScheduler } from '../../../main/engine/schedulers/DDIMScheduler';
import { resolveSchedulerConfig } from '../../../main/engine/schedulers/SchedulerConfig';
import { Rng } from '../../../main/engine/util/random';
import { denoise, maxAbsDiff, oracleModel, sigmaOfTimestep } from './models';

const sd15 = resolveSchedulerConfig({});

describe('DDIMScheduler', () => {
  it('uses SD1.5 leading timesteps 981 … 1 for 50 steps, with initNoiseSigma 1', () => {
    const s = new DDIMScheduler(sd15);
    s.setTimesteps(50);
    expect(s.timesteps[0]).toBe(981);
    expect(s.timesteps[49]).toBe(1);
    expect(s.initNoiseSigma).toBe(1);
    expect(s.prevTimestep(0)).toBe(961);
    expect(s.prevTimestep(49)).toBe(-19);
  });

  it('η = 0 step matches eq. 12 computed by hand for one element', () => {
    const s = new DDIMScheduler(sd15);
    s.setTimesteps(50);
    const ac = s.alphasCumprod;
    const x = 0.8;
    const eps = -0.3;
    const r = s.step(Float32Array.from([eps]), 10, Float32Array.from([x]));
    const t = 781;
    const tPrev = 761;
    expect(s.timesteps[10]).toBe(t);
    const x0 = (x - Math.sqrt(1 - ac[t]) * eps) / Math.sqrt(ac[t]);
    const expected = Math.sqrt(ac[tPrev]) * x0 + Math.sqrt(1 - ac[tPrev]) * eps;
    expect(r.predOriginalSample[0]).toBeCloseTo(x0, 5);
    expect(r.prevSample[0]).toBeCloseTo(expected, 5);
  });

  it('last step lands on ᾱ₀ (set_alpha_to_one false) or 1 (true)', () => {
    const x = Float32Array.from([0.5]);
    const eps = Float32Array.from([0.2]);
    const a = new DDIMScheduler(sd15);
    a.setTimesteps(50);
    const ac = a.alphasCumprod;
    const x0 = (0.5 - Math.sqrt(1 - ac[1]) * 0.2) / Math.sqrt(ac[1]);
    expect(a.step(eps, 49, x).prevSample[0]).toBeCloseTo(Math.sqrt(ac[0]) * x0 + Math.sqrt(1 - ac[0]) * 0.2, 6);
    const b = new DDIMScheduler(resolveSchedulerConfig({ set_alpha_to_one: true }));
    b.setTimesteps(50);
    expect(b.step(eps, 49, x).prevSample[0]).toBeCloseTo(x0, 6);
  });

  it('v-prediction: x̂₀ = √ᾱ·x − √(1−ᾱ)·v and ε̂ = √ᾱ·v + √(1−ᾱ)·x', () => {
    const s = new DDIMScheduler(resolveSchedulerConfig({ prediction_type: 'v_prediction' }));
    s.setTimesteps(20);
    const ac = s.alphasCumprod;
    const t = s.timesteps[3];
    const tPrev = s.prevTimestep(3);
    const [x, v] = [1.1, 0.4];
    const x0 = Math.sqrt(ac[t]) * x - Math.sqrt(1 - ac[t]) * v;
    const eps = Math.sqrt(ac[t]) * v + Math.sqrt(1 - ac[t]) * x;
    const r = s.step(Float32Array.from([v]), 3, Float32Array.from([x]));
    expect(r.predOriginalSample[0]).toBeCloseTo(x0, 6);
    expect(r.prevSample[0]).toBeCloseTo(Math.sqrt(ac[tPrev]) * x0 + Math.sqrt(1 - ac[tPrev]) * eps, 6);
  });

  it('stepCoefficients reproduce step() for ε and v prediction', () => {
    for (const prediction_type of ['epsilon', 'v_prediction'] as const) {
      const s = new DDIMScheduler(resolveSchedulerConfig({ prediction_type }));
      s.setTimesteps(25);
      for (const i of [0, 12, 24]) {
        const { sampleCoef, outputCoef } = s.stepCoefficients(i);
        const r = s.step(Float32Array.from([0.7]), i, Float32Array.from([-1.3]));
        expect(r.prevSample[0]).toBeCloseTo(sampleCoef * -1.3 + outputCoef * 0.7, 5);
      }
    }
  });

  it('η > 0 adds σ_t·z with σ_t = η√((1−ᾱ_prev)/(1−ᾱ_t))√(1−ᾱ_t/ᾱ_prev) and shrinks the ε direction', () => {
    const eta = 0.8;
    const s = new DDIMScheduler(sd15, eta);
    s.setTimesteps(10);
    const ac = s.alphasCumprod;
    const [t, tPrev] = [s.timesteps[4], s.prevTimestep(4)];
    const x = Float32Array.from([0.3, -0.6]);
    const eps = Float32Array.from([0.9, 0.1]);
    const r = s.step(eps, 4, x, new Rng(11));
    const z = new Rng(11).fillNormal(new Float32Array(2));
    const std = eta * Math.sqrt((1 - ac[tPrev]) / (1 - ac[t])) * Math.sqrt(1 - ac[t] / ac[tPrev]);
    for (let i = 0; i < 2; i++) {
      const x0 = (x[i] - Math.sqrt(1 - ac[t]) * eps[i]) / Math.sqrt(ac[t]);
      const expected = Math.sqrt(ac[tPrev]) * x0 + Math.sqrt(1 - ac[tPrev] - std * std) * eps[i] + std * z[i];
      expect(r.prevSample[i]).toBeCloseTo(expected, 5);
    }
    expect(() => s.step(eps, 4, x)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });

  it('clip_sample clamps x̂₀ to ±clip_sample_range', () => {
    const s = new DDIMScheduler(resolveSchedulerConfig({ clip_sample: true, clip_sample_range: 1 }));
    s.setTimesteps(10);
    const r = s.step(Float32Array.from([-3, 3]), 5, Float32Array.from([0, 0]));
    expect(Array.from(r.predOriginalSample)).toEqual([1, -1]);
  });

  it('addNoise at step i is √ᾱ·x₀ + √(1−ᾱ)·ε with ᾱ of timesteps[i]', () => {
    const s = new DDIMScheduler(sd15);
    s.setTimesteps(50);
    const a = s.alphasCumprod[s.timesteps[13]];
    const out = s.addNoise(Float32Array.from([0.5]), Float32Array.from([-1]), 13);
    expect(out[0]).toBeCloseTo(0.5 * Math.sqrt(a) - Math.sqrt(1 - a), 6);
  });

  it('recovers x₀ exactly from the true ε, ending at √ᾱ₀·x₀ + √(1−ᾱ₀)·ε', () => {
    const s = new DDIMScheduler(sd15);
    s.setTimesteps(30);
    const x0 = Float32Array.from({ length: 64 }, (_, i) => Math.cos(i) * 1.5);
    const eps = new Rng(1).fillNormal(new Float32Array(64));
    const model = oracleModel(x0, (t) => sigmaOfTimestep(s.alphasCumprod, t));
    const { sample, predictions } = denoise(s, model, s.addNoise(x0, eps, 0));
    for (const p of predictions) expect(maxAbsDiff(p, x0)).toBeLessThan(1e-4);
    const a0 = s.alphasCumprod[0];
    const expected = x0.map((v, i) => Math.sqrt(a0) * v + Math.sqrt(1 - a0) * eps[i]);
    expect(maxAbsDiff(sample, expected)).toBeLessThan(1e-4);
  });

  it('rejects bad step counts, indices and tensor sizes', () => {
    const s = new DDIMScheduler(sd15);
    expect(() => s.step(new Float32Array(1), 0, new Float32Array(1))).toThrow(/setTimesteps/);
    expect(() => s.setTimesteps(0)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
    expect(() => s.setTimesteps(1000)).toThrow(/at most 999 steps/);
    s.setTimesteps(10);
    expect(() => s.step(new Float32Array(1), 10, new Float32Array(1))).toThrow(/out of range/);
    expect(() => s.step(new Float32Array(2), 0, new Float32Array(1))).toThrow(/sizes differ/);
    expect(() => new DDIMScheduler(sd15, -1)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });
});
