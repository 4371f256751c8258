import { describe, expect, it } from 'vitest';
import { rgbToTensor } from '../../../main/engine/image/rgbToTensor';
import { tensorToRgb } from '../../../main/engine/image/tensorToRgb';

describe('rgbToTensor', () => {
  it('lays out NCHW planes with x = 2·v/255 − 1', () => {
    // 2×1 image: pixel 0 = (0, 255, 51), pixel 1 = (102, 153, 204).
    const t = rgbToTensor(new Uint8Array([0, 255, 51, 102, 153, 204]), 2, 1);
    const expected = [0, 102, 255, 153, 51, 204].map((v) => Math.fround((2 * v) / 255 - 1));
    expect(Array.from(t)).toEqual(expected);
    expect(t[0]).toBe(-1);
    expect(t[2]).toBe(1);
  });

  it('inverts exactly through tensorToRgb for all 256 values', () => {
    const rgb = new Uint8Array(256 * 3);
    for (let v = 0; v < 256; v++) rgb.set([v, 255 - v, (v * 7) & 255], v * 3);
    expect(Array.from(tensorToRgb(rgbToTensor(rgb, 16, 16), 16, 16))).toEqual(Array.from(rgb));
  });

  it('rejects a buffer of the wrong length', () => {
    expect(() => rgbToTensor(new Uint8Array(5), 1, 2)).toThrow(/5 bytes/);
  });
});
