import { describe, expect, it } from 'vitest';
import { ADE20K_PALETTE, paletteFromLabels } from '../../../main/engine/control/ade20kPalette';
import { conditionSize, resizeCondition } from '../../../main/engine/control/resizeCondition';

describe('conditionSize', () => {
  it('scales the long side to the resolution and rounds both sides to multiples of 64', () => {
    expect(conditionSize(451, 300)).toEqual({ width: 512, height: 320 }); // 300·512/451 = 340.6 → 320
    expect(conditionSize(427, 640)).toEqual({ width: 320, height: 512 }); // 341.5 → 320
    expect(conditionSize(400, 328)).toEqual({ width: 512, height: 448 }); // 419.8 → 448
    expect(conditionSize(512, 512, 768)).toEqual({ width: 768, height: 768 });
    expect(conditionSize(1000, 40)).toEqual({ width: 512, height: 64 }); // never below 64
    expect(() => conditionSize(10, 10, 32)).toThrow(/at least 64/);
  });
});

describe('resizeCondition', () => {
  it('resizes segmentation by nearest neighbour: only classes that were there, as exact palette colours', async () => {
    const labels = new Uint8Array([1, 2, 3, 4]);
    const c = await resizeCondition('segmentation', { rgb: paletteFromLabels(labels), width: 2, height: 2, labels }, 4, 4);
    expect([...c.labels!]).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    expect([...c.rgb.subarray(0, 3)]).toEqual([...ADE20K_PALETTE[1]]);
    expect(new Set(Array.from({ length: 16 }, (_, i) => c.rgb.subarray(i * 3, i * 3 + 3).join()))).toEqual(
      new Set([1, 2, 3, 4].map((k) => ADE20K_PALETTE[k].join())),
    );
  });

  it('reads the classes from the colours when the label map is absent', async () => {
    const c = await resizeCondition('segmentation', { rgb: paletteFromLabels(new Uint8Array([9, 9, 140, 140])), width: 4, height: 1 }, 2, 1);
    expect([...c.labels!]).toEqual([9, 140]);
  });

  it('resamples grey maps and keeps a constant map constant', async () => {
    const rgb = new Uint8Array(5 * 3 * 3).fill(77);
    const c = await resizeCondition('depth', { rgb, width: 5, height: 3 }, 64, 64);
    expect([c.width, c.height]).toEqual([64, 64]);
    expect(c.rgb.every((v) => v === 77)).toBe(true);
    await expect(resizeCondition('depth', { rgb, width: 5, height: 3 }, 0, 64)).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });
});
