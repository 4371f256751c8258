import { describe, expect, it } from 'vitest';
import { EulerAncestralDiscreteScheduler } from '../../../main/engine/schedulers/EulerAncestralDiscreteScheduler';
import { resolveSchedulerConfig } from '../../../main/engine/schedulers/SchedulerConfig';
import { Rng } from '../../../main/engine/util/random';
import { denoise, gaussianDataModel, maxAbsDiff, oracleModel, sigmaOfTimestep } from './models';

const sd15 = resolveSchedulerConfig({});

describe('EulerAncestralDiscreteScheduler', () => {
  it('steps to σ_down and adds σ_up·z, with σ_up² + σ_down² = σ_{i+1}²', () => {
    const s = new EulerAncestralDiscreteScheduler(sd15);
    s.setTimesteps(20);
    const [from, to] = [s.sigmas[6], s.sigmas[7]];
    const up = Math.sqrt((to * to * (from * from - to * to)) / (from * from));
    const down = Math.sqrt(to * to - up * up);
    const [x, eps] = [1.5, -0.4];
    const r = s.step(Float32Array.from([eps]), 6, Float32Array.from([x]), new Rng(8));
    const z = new Rng(8).normal();
    expect(r.predOriginalSample[0]).toBeCloseTo(x - from * eps, 5);
    expect(r.prevSample[0]).toBeCloseTo(x + (down - from) * eps + up * z, 5);
    expect(up * up + down * down).toBeCloseTo(to * to, 12);
  });

  it('is deterministic: the same seed gives identical output twice, another seed differs', () => {
    const run = (seed: number) => {
      const s = new EulerAncestralDiscreteScheduler(sd15);
      s.setTimesteps(15);
      const model = gaussianDataModel(0.2, 0.5, (t) => sigmaOfTimestep(s.alphasCumprod, t));
      const rng = new Rng(seed);
      const start = rng.fillNormal(new Float32Array(256)).map((v) => v * s.initNoiseSigma);
      return denoise(s, model, start, rng).sample;
    };
    const a = run(77);
    expect(Buffer.from(run(77).buffer).equals(Buffer.from(a.buffer))).toBe(true);
    expect(maxAbsDiff(run(78), a)).toBeGreaterThan(0.1);
  });

  it('samples the data distribution: N(0.2, 0.5²) data → outputs converging to that mean and spread as steps grow', () => {
    const spread = (steps: number) => {
      const s = new EulerAncestralDiscreteScheduler(sd15);
      s.setTimesteps(steps);
      const model = gaussianDataModel(0.2, 0.5, (t) => sigmaOfTimestep(s.alphasCumprod, t));
      const rng = new Rng(3);
      const n = 20000;
      const start = rng.fillNormal(new Float32Array(n)).map((v) => v * s.initNoiseSigma);
      const out = denoise(s, model, start, rng).sample;
      const mean = out.reduce((a, b) => a + b, 0) / n;
      return { mean, sd: Math.sqrt(out.reduce((a, b) => a + (b - mean) ** 2, 0) / n) };
    };
    // First-order SDE discretisation shrinks the spread at few steps (0.43 at 30 steps).
    const coarse = spread(30);
    const fine = spread(300);
    expect(Math.abs(fine.mean - 0.2)).toBeLessThan(0.012); // standard error 0.0035
    expect(Math.abs(fine.sd - 0.5)).toBeLessThan(0.02);
    expect(Math.abs(fine.sd - 0.5)).toBeLessThan(Math.abs(coarse.sd - 0.5) / 3);
  });

  it('returns x₀ from the true ε (the injected noise is cancelled by the next prediction)', () => {
    const s = new EulerAncestralDiscreteScheduler(sd15, true);
    s.setTimesteps(12);
    const x0 = Float32Array.from({ length: 32 }, (_, i) => (i % 7) / 3 - 1);
    const model = oracleModel(x0, (t) => sigmaOfTimestep(s.alphasCumprod, t));
    const { sample } = denoise(s, model, s.addNoise(x0, new Rng(2).fillNormal(new Float32Array(32)), 0), new Rng(9));
    expect(maxAbsDiff(sample, x0)).toBeLessThan(1e-5);
  });

  it('requires an Rng', () => {
    const s = new EulerAncestralDiscreteScheduler(sd15);
    s.setTimesteps(5);
    expect(() => s.step(new Float32Array(1), 0, new Float32Array(1))).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });
});
