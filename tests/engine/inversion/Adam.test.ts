import { describe, expect, it } from 'vitest';
import { Adam } from '../../../main/engine/inversion/Adam';
import { checkEta, checkInversionSettings, DEFAULT_INVERSION_SETTINGS } from '../../../main/engine/inversion/InversionSettings';
import { guidedLoss, guidedLossTerms } from '../../../main/engine/inversion/guidedLoss';

describe('Adam', () => {
  it('moves each parameter by lr against the sign of its gradient on the first step', () => {
    const p = Float32Array.from([1, -2, 3]);
    new Adam(3, 0.1).step(p, Float32Array.from([5, -0.001, 0]));
    expect(p[0]).toBeCloseTo(0.9, 6);
    expect(p[1]).toBeCloseTo(-1.9, 4);
    expect(p[2]).toBe(3);
  });

  it('follows the bias-corrected moments on a second step', () => {
    const p = Float32Array.from([0]);
    const adam = new Adam(1, 1);
    adam.step(p, Float32Array.from([1]));
    adam.step(p, Float32Array.from([3]));
    // m = 0.9·0.1 + 0.1·3 = 0.39, v = 0.999·0.001 + 0.001·9 = 0.009999; m̂ = 0.39/0.19, v̂ = 0.009999/0.001999
    const step2 = 0.39 / 0.19 / (Math.sqrt(0.009999 / 0.001999) + 1e-8);
    expect(p[0]).toBeCloseTo(-1 - step2, 5);
  });

  it('minimises a quadratic', () => {
    const p = Float32Array.from([3, -4]);
    const adam = new Adam(2, 0.1);
    for (let k = 0; k < 500; k++) adam.step(p, Float32Array.from([2 * p[0], 2 * p[1]]));
    expect(Math.hypot(p[0], p[1])).toBeLessThan(0.05);
  });
});

describe('guided loss terms', () => {
  it('s·ε − r is the DDIM step error for each tuned branch', () => {
    const step = { sampleCoef: 1.1, outputCoef: -0.3 };
    const z = Float32Array.from([0.5, -1]);
    const target = Float32Array.from([0.2, 0.7]);
    const epsU = Float32Array.from([0.1, 0.4]);
    const epsC = Float32Array.from([-0.6, 0.9]);
    const w = 7.5;
    const guided = epsU.map((u, i) => u + w * (epsC[i] - u));
    const error = z.map((v, i) => 1.1 * v - 0.3 * guided[i] - target[i]);
    const expected = (error[0] ** 2 + error[1] ** 2) / 2;
    expect(guidedLoss(guidedLossTerms(step, z, target, epsU.map((v) => (1 - w) * v), w), epsC)).toBeCloseTo(expected, 5);
    expect(guidedLoss(guidedLossTerms(step, z, target, epsC.map((v) => w * v), 1 - w), epsU)).toBeCloseTo(expected, 5);
  });
});

describe('inversion settings', () => {
  it("fills the spec's defaults", () => {
    expect(checkInversionSettings({})).toEqual({ method: 'pti', ...DEFAULT_INVERSION_SETTINGS });
    expect(DEFAULT_INVERSION_SETTINGS).toMatchObject({ steps: 50, guidance: 7.5, innerSteps: 10, lr: 0.01, lrDecay: 0.01, earlyStop: 1e-5, earlyStopSlope: 2e-5, init: 'target' });
  });

  it.each([
    [{ steps: 0 }, 'steps'],
    [{ steps: 2.5 }, 'steps'],
    [{ innerSteps: -1 }, 'innerSteps'],
    [{ lr: Number.NaN }, 'lr'],
    [{ guidance: -1 }, 'guidance'],
    [{ init: 'photo' }, 'init'],
    [{ method: 'sdedit' }, 'method'],
  ])('rejects %o naming %s', (bad, name) => {
    expect(() => checkInversionSettings(bad as never)).toThrow(name);
  });

  it('η is a number in [0, 1]', () => {
    expect(checkEta(0.3)).toBe(0.3);
    expect(() => checkEta(-0.1)).toThrow('eta');
    expect(() => checkEta('1')).toThrow('eta');
  });
});
