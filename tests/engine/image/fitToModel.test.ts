import { describe, expect, it } from 'vitest';
import { fitToModel } from '../../../main/engine/image/fitToModel';

describe('fitToModel', () => {
  it('rounds each side to the nearest multiple of 8 without scaling when no cap applies', () => {
    expect(fitToModel(451, 300)).toEqual({ width: 448, height: 304 });
    expect(fitToModel(512, 512)).toEqual({ width: 512, height: 512 });
    expect(fitToModel(404, 300)).toEqual({ width: 408, height: 304 }); // 50.5 rounds up
  });

  it('never returns 0: a 1×1 image fits to one multiple', () => {
    expect(fitToModel(1, 1)).toEqual({ width: 8, height: 8 });
    expect(fitToModel(3, 1000, { multiple: 64 })).toEqual({ width: 64, height: 1024 });
  });

  it('scales the long side down to maxSide, keeping aspect', () => {
    expect(fitToModel(1024, 768, { maxSide: 512 })).toEqual({ width: 512, height: 384 });
    expect(fitToModel(640, 427, { maxSide: 512 })).toEqual({ width: 512, height: 344 }); // 341.6 → 344
    expect(fitToModel(300, 451, { maxSide: 512 })).toEqual({ width: 304, height: 448 }); // not enlarged
  });

  it('never exceeds maxSide even when rounding would', () => {
    expect(fitToModel(1000, 10, { maxSide: 100 })).toEqual({ width: 96, height: 8 });
    for (let w = 1; w < 2000; w += 37) {
      for (const h of [1, 77, 513, 1999]) {
        const fit = fitToModel(w, h, { maxSide: 516 });
        expect(Math.max(fit.width, fit.height)).toBeLessThanOrEqual(516);
        expect(fit.width % 8 + (fit.height % 8)).toBe(0);
        expect(Math.min(fit.width, fit.height)).toBeGreaterThanOrEqual(8);
      }
    }
  });

  it('rejects impossible sizes and options', () => {
    expect(() => fitToModel(0, 10)).toThrow(/whole numbers ≥ 1/);
    expect(() => fitToModel(10.5, 10)).toThrow(/whole numbers/);
    expect(() => fitToModel(10, 10, { multiple: 0 })).toThrow(/multiple/);
    expect(() => fitToModel(10, 10, { maxSide: 4 })).toThrow(/maxSide/);
  });
});
