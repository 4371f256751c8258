import { describe, expect, it } from 'vitest';
import { resample, type ResampleFilter } from '../../../main/engine/image/resample';

/** Intensity-weighted centre of a single-channel image, in pixel-index coordinates. */
function centroid(v: ArrayLike<number>, width: number, height: number): [number, number] {
  let s = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const w = v[y * width + x];
      s += w;
      sx += w * x;
      sy += w * y;
    }
  }
  return [sx / s, sy / s];
}

function blob(width: number, height: number, cx: number, cy: number, sigma: number): Float32Array {
  const v = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) v[y * width + x] = Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma * sigma));
  return v;
}

describe('resample', () => {
  it('bilinear 2→8 upsampling gives the centre-aligned ramp 0, 0, ⅛, ⅜, ⅝, ⅞, 1, 1', () => {
    const out = resample([0, 1], 2, 1, 1, 8, 1, 'triangle');
    expect(Array.from(out)).toEqual([0, 0, 0.125, 0.375, 0.625, 0.875, 1, 1]);
  });

  it('2:1 bilinear shrinking uses the triangle widened to ±2 input pixels (PIL-style antialiasing)', () => {
    // Output 1 is centred at 3 (continuous): samples 1…4 sit at distances 1.5, 0.5, 0.5, 1.5,
    // weights (1 − d/2) = ¼, ¾, ¾, ¼ over a sum of 2. Output 0 is centred at 1: samples 0…2
    // at 0.5, 0.5, 1.5 → ¾, ¾, ¼; the missing tap beyond the edge is renormalised away (sum 1.75).
    const out = resample([0, 0, 8, 8, 0, 0], 6, 1, 1, 3, 1, 'triangle');
    const edge = (8 * 0.25) / 1.75;
    expect(Array.from(out)).toEqual([edge, (8 * 0.75 + 8 * 0.75) / 2, edge].map((v) => Math.fround(v)));
  });

  it.each<[ResampleFilter, number, number, number, number]>([
    ['lanczos3', 451, 300, 448, 304],
    ['lanczos3', 448, 304, 451, 300],
    ['lanczos3', 120, 80, 360, 240],
    ['lanczos3', 640, 427, 512, 344],
    ['triangle', 100, 100, 101, 99],
    ['triangle', 300, 200, 75, 50],
  ])('%s %s×%s → %s×%s keeps a blob where centre alignment puts it', (filter, w, h, W, H) => {
    const src = blob(w, h, w * 0.4 + 0.3, h * 0.55 + 0.2, 6);
    const [cx, cy] = centroid(src, w, h);
    const [ox, oy] = centroid(resample(src, w, h, 1, W, H, filter), W, H);
    // Pixel i covers [i, i+1), so a position x maps to (x + ½)·W/w − ½. libvips' resize
    // misses this by ½ output pixel when upsampling; Lanczos lobes allow a few hundredths.
    expect(Math.abs(ox - ((cx + 0.5) * (W / w) - 0.5))).toBeLessThan(0.03);
    expect(Math.abs(oy - ((cy + 0.5) * (H / h) - 0.5))).toBeLessThan(0.03);
  });

  it('keeps a constant image constant (weights sum to 1, edges included)', () => {
    const out = resample(new Float32Array(7 * 5 * 3).fill(0.3), 7, 5, 3, 23, 2, 'lanczos3');
    expect(out.length).toBe(23 * 2 * 3);
    for (const v of out) expect(v).toBeCloseTo(0.3, 6);
  });

  it('keeps channels apart', () => {
    const rgb = new Float32Array(4 * 4 * 3);
    for (let i = 0; i < 16; i++) rgb.set([10, 20, 30], i * 3);
    const out = resample(rgb, 4, 4, 3, 3, 5, 'lanczos3');
    for (let i = 0; i < 15; i++) {
      expect(out[i * 3]).toBeCloseTo(10, 4);
      expect(out[i * 3 + 1]).toBeCloseTo(20, 4);
      expect(out[i * 3 + 2]).toBeCloseTo(30, 4);
    }
  });
});
