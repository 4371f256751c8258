import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fitToModel } from '../../../main/engine/image/fitToModel';
import { loadImage } from '../../../main/engine/image/loadImage';
import { resizeRgb } from '../../../main/engine/image/resizeRgb';
import { PHOTOS, markedRgb } from '../../fixtures/images';

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

/** The image moved one pixel right, the first column repeated. */
function shiftRight(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const out = rgb.slice();
  for (let y = 0; y < height; y++) out.set(rgb.subarray(y * width * 3, (y * width + width - 1) * 3), (y * width + 1) * 3);
  return out;
}

describe('resizeRgb', () => {
  it('chelsea 451×300 → model size → back to 451×300, close to the original', async () => {
    const photo = await loadImage(join(PHOTOS, 'chelsea.png'));
    const fit = fitToModel(photo.width, photo.height, { maxSide: 512 });
    expect(fit).toEqual({ width: 448, height: 304 });
    const small = await resizeRgb(photo, fit.width, fit.height);
    expect(small.rgb.length).toBe(448 * 304 * 3);
    const back = await resizeRgb(small, photo.width, photo.height);
    expect([back.width, back.height, back.rgb.length]).toEqual([451, 300, 451 * 300 * 3]);
    // Resampling twice blurs fur a little; a shift of one pixel costs more than that.
    const error = meanAbsDiff(back.rgb, photo.rgb);
    expect(error).toBeLessThan(4);
    expect(error).toBeLessThan(meanAbsDiff(shiftRight(back.rgb, 451, 300), photo.rgb));
  });

  it('keeps a flat colour flat', async () => {
    const out = await resizeRgb({ rgb: markedRgb(30, 20, [10, 200, 90], [0, 0, 0]), width: 30, height: 20 }, 17, 41);
    expect(out.rgb.length).toBe(17 * 41 * 3);
    for (let i = 0; i < out.rgb.length; i += 3) expect([out.rgb[i], out.rgb[i + 1], out.rgb[i + 2]]).toEqual([10, 200, 90]);
  });

  it('returns a copy at the same size and validates the buffer', async () => {
    const rgb = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const out = await resizeRgb({ rgb, width: 2, height: 1 }, 2, 1);
    expect(Array.from(out.rgb)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(out.rgb).not.toBe(rgb);
    await expect(resizeRgb({ rgb, width: 3, height: 1 }, 2, 1)).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(resizeRgb({ rgb, width: 2, height: 1 }, 0, 1)).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });
});
