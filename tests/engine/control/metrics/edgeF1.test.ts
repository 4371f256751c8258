import { describe, expect, it } from 'vitest';
import { edgeF1 } from '../../../../main/engine/control/metrics/edgeF1';

/** The one-pixel outline of the square [x0, x0 + side) × [y0, y0 + side) in a w × h map. */
function squareOutline(w: number, h: number, x0: number, y0: number, side: number): Uint8Array {
  const m = new Uint8Array(w * h);
  for (let y = y0; y < y0 + side; y++) {
    for (let x = x0; x < x0 + side; x++) {
      if (x === x0 || y === y0 || x === x0 + side - 1 || y === y0 + side - 1) m[y * w + x] = 1;
    }
  }
  return m;
}

describe('edgeF1', () => {
  it('is 1 for identical edge maps', () => {
    const e = squareOutline(20, 20, 5, 5, 10);
    expect(edgeF1(e, e)).toEqual({ precision: 1, recall: 1, f1: 1 });
  });

  it('counts only exact pixel matches: a 10-pixel square outline shifted one pixel right scores 0.5', () => {
    // 36 outline pixels each; the shift keeps 9 of the 10 pixels of the top and of the bottom row
    // (18 true positives) and moves both columns off the outline: P = R = 18/36.
    const truth = squareOutline(20, 20, 5, 5, 10);
    const shifted = squareOutline(20, 20, 6, 5, 10);
    const r = edgeF1(truth, shifted);
    expect(r.precision).toBe(0.5);
    expect(r.recall).toBe(0.5);
    expect(r.f1).toBe(0.5);
  });

  it('weighs precision and recall: half the truth found, no false edges → P 1, R ½, F1 ⅔', () => {
    const truth = new Uint8Array([1, 1, 1, 1, 0, 0]);
    const predicted = new Uint8Array([1, 1, 0, 0, 0, 0]);
    const r = edgeF1(truth, predicted);
    expect(r.precision).toBe(1);
    expect(r.recall).toBe(0.5);
    expect(r.f1).toBeCloseTo(2 / 3, 15);
  });

  it('treats any non-zero value as an edge, agrees perfectly on two empty maps and scores 0 when only one has edges', () => {
    expect(edgeF1(new Uint8Array([255, 0]), new Uint8Array([1, 0])).f1).toBe(1);
    expect(edgeF1(new Uint8Array(4), new Uint8Array(4)).f1).toBe(1);
    expect(edgeF1(new Uint8Array(4), new Uint8Array([0, 1, 0, 0])).f1).toBe(0);
    expect(edgeF1(new Uint8Array([0, 1, 0, 0]), new Uint8Array(4)).f1).toBe(0);
    expect(() => edgeF1(new Uint8Array(4), new Uint8Array(5))).toThrow(/differ in size/);
  });
});
