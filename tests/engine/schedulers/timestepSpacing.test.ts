import { describe, expect, it } from 'vitest';
import { dpmSolverTimesteps, linspace, roundHalfEven, spacedTimesteps } from '../../../main/engine/schedulers/timestepSpacing';

// Reference lists below were printed by numpy from diffusers' expressions (noted per case).
describe('spacedTimesteps', () => {
  it("'leading' with steps_offset 1: arange(0, 50)·20 + 1 reversed = 981, 961, …, 1", () => {
    const ts = spacedTimesteps('leading', 50, 1000, 1, true);
    expect(ts).toEqual(Array.from({ length: 50 }, (_, i) => 981 - 20 * i));
  });

  it("'trailing' starts at N−1: 50 steps = 999, 979, …, 19; 30 steps as numpy rounds them", () => {
    expect(spacedTimesteps('trailing', 50, 1000, 1, true)).toEqual(Array.from({ length: 50 }, (_, i) => 999 - 20 * i));
    // np.arange(1000, 0, -1000/30).round() - 1
    expect(spacedTimesteps('trailing', 30, 1000, 1, true)).toEqual([
      999, 966, 932, 899, 866, 832, 799, 766, 732, 699, 666, 632, 599, 566, 532, 499, 466, 432, 399, 366, 332, 299, 266, 232, 199,
      166, 132, 99, 66, 32,
    ]);
  });

  it("'linspace': rounded for DDIM, float32 fractions for Euler", () => {
    // np.linspace(0, 999, 50).round()[::-1]
    expect(spacedTimesteps('linspace', 50, 1000, 1, true).slice(0, 6)).toEqual([999, 979, 958, 938, 917, 897]);
    const euler = spacedTimesteps('linspace', 50, 1000, 1, false);
    // np.linspace(0, 999, 50, dtype=np.float32)[::-1]
    expect(euler.slice(0, 4)).toEqual([999, 978.6122436523438, 958.2244873046875, 937.8367309570312]);
    expect(euler[49]).toBe(0);
  });
});

describe('dpmSolverTimesteps', () => {
  it("'linspace': round(linspace(0, 999, n+1))[::-1][:-1] (numpy, half to even at 499.5)", () => {
    expect(dpmSolverTimesteps('linspace', 20, 1000, 1)).toEqual([
      999, 949, 899, 849, 799, 749, 699, 649, 599, 549, 500, 450, 400, 350, 300, 250, 200, 150, 100, 50,
    ]);
  });

  it("'leading': arange(0, n+1)·⌊N/(n+1)⌋ reversed without the 0, plus steps_offset", () => {
    expect(dpmSolverTimesteps('leading', 20, 1000, 1)).toEqual(Array.from({ length: 20 }, (_, i) => 941 - 47 * i));
  });
});

describe('helpers', () => {
  it('roundHalfEven rounds ties to the even neighbour like numpy', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, 2, 3]);
  });

  it('linspace ends exactly at stop', () => {
    expect(linspace(0, 1, 5)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(linspace(3, 9, 1)).toEqual([3]);
  });
});
