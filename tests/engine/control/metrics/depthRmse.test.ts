import { describe, expect, it } from 'vitest';
import { depthRmse } from '../../../../main/engine/control/metrics/depthRmse';

describe('depthRmse', () => {
  it('min-max normalises each map to 0…255 before the RMSE', () => {
    // a → [0, 85, 170, 255]; b (min 5, max 35) → [0, 0, 170, 255]; one difference of 85 in four pixels.
    expect(depthRmse([0, 10, 20, 30], [5, 5, 25, 35])).toBeCloseTo(Math.sqrt((85 * 85) / 4), 12);
  });

  it('ignores the scale and shift of relative depth', () => {
    const a = [3, 1, 4, 1, 5, 9, 2, 6];
    expect(depthRmse(a, a.map((v) => 2.5 * v - 7))).toBeCloseTo(0, 12);
  });

  it('scores an inverted map by hand: [0, 1, 2] vs [2, 1, 0] → differences 255, 0, 255', () => {
    expect(depthRmse([0, 1, 2], [2, 1, 0])).toBeCloseTo(Math.sqrt((2 * 255 * 255) / 3), 12);
  });

  it('maps a constant map to 0 and rejects maps of different sizes', () => {
    expect(depthRmse([7, 7, 7, 7], [0, 0, 0, 255])).toBeCloseTo(255 / 2, 12);
    expect(() => depthRmse([1, 2], [1, 2, 3])).toThrow(/same non-empty size/);
  });
});
