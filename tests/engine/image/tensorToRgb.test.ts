import { describe, expect, it } from 'vitest';
import { tensorToRgb } from '../../../main/engine/image/tensorToRgb';

/** A 1×1 image whose three channels are the given values. */
const pixel = (r: number, g: number, b: number) => Array.from(tensorToRgb(new Float32Array([r, g, b]), 1, 1));

describe('tensorToRgb', () => {
  it('maps −1 → 0, 0 → 128 (127.5 rounds to even), 1 → 255', () => {
    expect(pixel(-1, 0, 1)).toEqual([0, 128, 255]);
  });

  it('rounds exact halves to even', () => {
    // (x/2 + 0.5)·255 = k + 0.5 exactly for x = (2k + 1)/255 − 1 when that is a float32;
    // 0.5/255-steps are not representable, so test through values whose products are exact.
    const xFor = (v: number) => (2 * v) / 255 - 1;
    const candidates = [0.5, 1.5, 2.5, 126.5, 127.5, 128.5, 253.5, 254.5];
    for (const v of candidates) {
      const x = Math.fround(xFor(v));
      const exact = (Math.min(1, Math.max(0, x / 2 + 0.5)) * 255);
      const [got] = pixel(x, 0, 0);
      if (exact === v) expect(got % 2).toBe(0);
      expect(Math.abs(got - exact)).toBeLessThanOrEqual(0.5);
    }
    expect(pixel(0, 0, 0)).toEqual([128, 128, 128]);
  });

  it('clamps outside [−1, 1] and maps NaN to 0', () => {
    expect(pixel(-3, 7, Number.NaN)).toEqual([0, 255, 0]);
    expect(pixel(-Infinity, Infinity, 1.0000001)).toEqual([0, 255, 255]);
  });

  it('reads planes into HWC order and picks the batch item', () => {
    // N=2, C=3, H=1, W=2; item 1 has R plane (1, −1), G (−1, 1), B (0, 0).
    const t = new Float32Array([0, 0, 0, 0, 0, 0, 1, -1, -1, 1, 0, 0]);
    expect(Array.from(tensorToRgb(t, 2, 1, 1))).toEqual([255, 0, 128, 0, 255, 128]);
    expect(Array.from(tensorToRgb(t, 2, 1))).toEqual([128, 128, 128, 128, 128, 128]);
  });

  it('is deterministic: the same tensor gives the same bytes', () => {
    const t = new Float32Array(3 * 64 * 64);
    for (let i = 0; i < t.length; i++) t[i] = Math.sin(i * 12.9898) * 1.2;
    expect(Buffer.from(tensorToRgb(t, 64, 64)).equals(Buffer.from(tensorToRgb(t.slice(), 64, 64)))).toBe(true);
  });

  it('rejects a tensor whose length does not match the size, and a bad batch index', () => {
    expect(() => tensorToRgb(new Float32Array(10), 2, 2)).toThrow(/10 values/);
    expect(() => tensorToRgb(new Float32Array(12), 2, 2, 1)).toThrow(/batchIndex 1/);
  });
});
