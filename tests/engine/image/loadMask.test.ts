import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMask } from '../../../main/engine/image/loadMask';
import { encodeLossless, greyPng, makeTempDir, raw, rgbaPng, type TempDir } from '../../fixtures/images';

let tmp: TempDir;
beforeAll(() => {
  tmp = makeTempDir();
});
afterAll(() => tmp.remove());

/** width × height grey mask, white where x < split. */
function leftWhite(width: number, height: number, split: number): Uint8Array {
  const v = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < split; x++) v[y * width + x] = 255;
  return v;
}

describe('loadMask', () => {
  it('keeps a same-size grey mask exactly: v / 255', async () => {
    const m = await loadMask(await greyPng(new Uint8Array([0, 51, 204, 255]), 2, 2), 2, 2);
    expect(Array.from(m)).toEqual([0, 51 / 255, 204 / 255, 1].map(Math.fround));
  });

  it('resizes a mask of another size, keeping each half on its side', async () => {
    const path = tmp.write('mask.png', await greyPng(leftWhite(100, 50, 50), 100, 50));
    const m = await loadMask(path, 40, 20);
    expect(m.length).toBe(40 * 20);
    for (let y = 0; y < 20; y++) {
      for (let x = 0; x < 40; x++) {
        const v = m[y * 40 + x];
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
        if (x < 18) expect(v).toBeCloseTo(1, 4);
        if (x >= 22) expect(v).toBeCloseTo(0, 4);
      }
    }
    // The two columns either side of the edge are mirror images: 0.5 at the boundary.
    expect(m[19] + m[20]).toBeCloseTo(1, 3);
  });

  it('upscales bilinearly: a 2×1 black|white mask gives a monotone ramp', async () => {
    const m = await loadMask(await greyPng(new Uint8Array([0, 255]), 2, 1), 8, 1);
    for (let i = 1; i < 8; i++) expect(m[i]).toBeGreaterThanOrEqual(m[i - 1]);
    expect(m[0]).toBeCloseTo(0, 4);
    expect(m[7]).toBeCloseTo(1, 4);
    expect(m[3] + m[4]).toBeCloseTo(1, 3);
  });

  it('accepts an all-black mask (nothing to edit)', async () => {
    const m = await loadMask(await greyPng(new Uint8Array(64 * 48), 64, 48), 32, 24);
    expect(m.every((v) => v === 0)).toBe(true);
  });

  it('uses BT.601 luminance of RGB masks', async () => {
    const rgb = new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255]);
    const m = await loadMask(await encodeLossless(rgb, 3, 1, 'png'), 3, 1);
    expect(m[0]).toBeCloseTo(0.299, 5);
    expect(m[1]).toBeCloseTo(0.587, 5);
    expect(m[2]).toBeCloseTo(0.114, 5);
  });

  it('multiplies by alpha: white strokes on a transparent layer', async () => {
    const rgba = new Uint8Array([255, 255, 255, 255, 255, 255, 255, 0, 255, 255, 255, 64, 0, 0, 0, 255]);
    const m = await loadMask(await raw(rgba, 4, 1, 4).png().toBuffer(), 4, 1);
    expect(Array.from(m).map((v) => +v.toFixed(5))).toEqual([1, 0, +(64 / 255).toFixed(5), 0]);
    const half = await loadMask(await rgbaPng(2, 2, [255, 255, 255, 128]), 2, 2);
    expect(half[0]).toBeCloseTo(128 / 255, 5);
  });

  it('reports a broken mask file as BAD_IMAGE', async () => {
    await expect(loadMask(tmp.write('mask.png.txt', 'not a mask'), 8, 8)).rejects.toMatchObject({ code: 'BAD_IMAGE' });
    await expect(loadMask(new Uint8Array([1]), 0, 8)).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });
});
