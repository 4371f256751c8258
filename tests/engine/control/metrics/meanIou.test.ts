import { describe, expect, it } from 'vitest';
import { meanIou } from '../../../../main/engine/control/metrics/meanIou';

describe('meanIou', () => {
  it('averages the IoU over the classes present in either map', () => {
    // class 0: {0,1} vs {0} → 1/2; class 1: {2,3} vs {1,2,3} → 2/3; class 2: {4,5} vs {4} → 1/2;
    // class 3: only predicted → 0. Mean (1/2 + 2/3 + 1/2 + 0)/4 = 5/12.
    expect(meanIou([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 3])).toBeCloseTo(5 / 12, 15);
  });

  it('is 1 for identical maps and 0 for disjoint classes', () => {
    expect(meanIou([4, 4, 7, 9], [4, 4, 7, 9])).toBe(1);
    expect(meanIou([1, 1, 1], [2, 2, 2])).toBe(0);
  });

  it('leaves out classes absent from both maps (a 150-class palette does not dilute the mean)', () => {
    // 2×2 crafted maps: class 5 {0,1} vs {0}: 1/2; class 12 {2,3} vs {1,2,3}: 2/3 → 7/12.
    expect(meanIou(new Uint8Array([5, 5, 12, 12]), new Uint8Array([5, 12, 12, 12]))).toBeCloseTo(7 / 12, 15);
  });
});
