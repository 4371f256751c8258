import { describe, expect, it } from 'vitest';
import { EulerDiscreteScheduler } from '../../../main/engine/schedulers/EulerDiscreteScheduler';
import { resolveSchedulerConfig } from '../../../main/engine/schedulers/SchedulerConfig';
import { Rng } from '../../../main/engine/util/random';
import { denoise, maxAbsDiff, oracleModel, sigmaOfTimestep } from './models';

const sd15 = resolveSchedulerConfig({});
const sigmaOf = (ac: Float64Array, t: number) => Math.sqrt((1 - ac[t]) / ac[t]);

describe('EulerDiscreteScheduler', () => {
  it('uses σ = √((1−ᾱ)/ᾱ) at the leading timesteps, a final 0, and initNoiseSigma √(σ_max²+1)', () => {
    const s = new EulerDiscreteScheduler(sd15);
    s.setTimesteps(50);
    const ac = s.alphasCumprod;
    expect(s.timesteps[0]).toBe(981);
    expect(s.timesteps[49]).toBe(1);
    expect(s.sigmas.length).toBe(51);
    for (const i of [0, 17, 49]) expect(s.sigmas[i]).toBeCloseTo(sigmaOf(ac, s.timesteps[i]), 12);
    expect(s.sigmas[50]).toBe(0);
    expect(s.initNoiseSigma).toBeCloseTo(Math.sqrt(sigmaOf(ac, 981) ** 2 + 1), 12);
  });

  it("interpolates σ linearly at fractional 'linspace' timesteps; initNoiseSigma is then σ_max (as diffusers)", () => {
    const s = new EulerDiscreteScheduler(resolveSchedulerConfig({ timestep_spacing: 'linspace' }));
    s.setTimesteps(50);
    const ac = s.alphasCumprod;
    const t = s.timesteps[1];
    const lo = Math.floor(t);
    expect(t).not.toBe(lo);
    const expected = sigmaOf(ac, lo) + (t - lo) * (sigmaOf(ac, lo + 1) - sigmaOf(ac, lo));
    expect(s.sigmas[1]).toBeCloseTo(expected, 12);
    expect(s.sigmas[0]).toBeCloseTo(sigmaOf(ac, 999), 12);
    expect(s.initNoiseSigma).toBeCloseTo(sigmaOf(ac, 999), 12);
  });

  it('Karras σ: (σ_max^{1/7} + i/(n−1)(σ_min^{1/7} − σ_max^{1/7}))^7 between the spaced ends, timesteps mapped back through log σ', () => {
    const plain = new EulerDiscreteScheduler(sd15);
    plain.setTimesteps(25);
    const s = new EulerDiscreteScheduler(sd15, true);
    s.setTimesteps(25);
    const [max, min] = [plain.sigmas[0], plain.sigmas[24]];
    for (let i = 0; i < 25; i++) {
      const expected = (max ** (1 / 7) + (i / 24) * (min ** (1 / 7) - max ** (1 / 7))) ** 7;
      expect(s.sigmas[i]).toBeCloseTo(expected, 10);
      // The timestep is where log σ of the train table equals log σ_i.
      expect(sigmaOfTimestep(s.alphasCumprod, s.timesteps[i]) / s.sigmas[i]).toBeCloseTo(1, 10);
    }
    expect(s.timesteps[0]).toBeCloseTo(plain.timesteps[0], 9);
    expect(s.timesteps[24]).toBeCloseTo(plain.timesteps[24], 9);
    expect(s.sigmas[25]).toBe(0);
  });

  it('scales the model input by 1/√(σ²+1) and steps x + (σ_{i+1} − σ_i)·ε̂', () => {
    const s = new EulerDiscreteScheduler(sd15);
    s.setTimesteps(20);
    const [si, sn] = [s.sigmas[7], s.sigmas[8]];
    expect(s.scaleModelInput(Float32Array.from([3]), 7)[0]).toBeCloseTo(3 / Math.sqrt(si * si + 1), 6);
    const r = s.step(Float32Array.from([0.5]), 7, Float32Array.from([4]));
    expect(r.predOriginalSample[0]).toBeCloseTo(4 - si * 0.5, 5);
    expect(r.prevSample[0]).toBeCloseTo(4 + (sn - si) * 0.5, 5);
  });

  it('v-prediction: x̂₀ = x/(σ²+1) − σ/√(σ²+1)·v', () => {
    const s = new EulerDiscreteScheduler(resolveSchedulerConfig({ prediction_type: 'v_prediction' }));
    s.setTimesteps(20);
    const sigma = s.sigmas[5];
    const r = s.step(Float32Array.from([0.3]), 5, Float32Array.from([2]));
    expect(r.predOriginalSample[0]).toBeCloseTo(2 / (sigma ** 2 + 1) - (sigma / Math.sqrt(sigma ** 2 + 1)) * 0.3, 6);
  });

  it('addNoise at step i is x₀ + σ_i·ε', () => {
    const s = new EulerDiscreteScheduler(sd15);
    s.setTimesteps(50);
    expect(s.addNoise(Float32Array.from([0.5]), Float32Array.from([-2]), 30)[0]).toBeCloseTo(0.5 - 2 * s.sigmas[30], 5);
  });

  it.each([
    ['leading', false, 'epsilon'],
    ['trailing', false, 'v_prediction'],
    ['leading', true, 'epsilon'],
  ] as const)('returns x₀ from the true model output (%s, karras %s, %s)', (timestep_spacing, karras, prediction_type) => {
    const s = new EulerDiscreteScheduler(resolveSchedulerConfig({ timestep_spacing, prediction_type }), karras);
    s.setTimesteps(20);
    const x0 = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i * 0.7));
    const eps = new Rng(4).fillNormal(new Float32Array(64));
    const model = oracleModel(x0, (t) => sigmaOfTimestep(s.alphasCumprod, t), prediction_type);
    const { sample, predictions } = denoise(s, model, s.addNoise(x0, eps, 0));
    for (const p of predictions) expect(maxAbsDiff(p, x0)).toBeLessThan(1e-4);
    expect(maxAbsDiff(sample, x0)).toBeLessThan(1e-5);
  });
});
