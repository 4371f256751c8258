import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodePreviewPng } from '../../../main/engine/image/encodePreviewPng';
import { markedRgb, patternRgb } from '../../fixtures/images';

describe('encodePreviewPng', () => {
  it('shrinks the long side to maxSide keeping aspect, as a decodable PNG and data URL', async () => {
    const p = await encodePreviewPng(markedRgb(512, 320, [30, 60, 90], [0, 0, 0]), 512, 320);
    expect([p.width, p.height]).toEqual([128, 80]);
    const { data, info } = await sharp(p.png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([128, 80, 3]);
    expect(Array.from(data.subarray(0, 3))).toEqual([30, 60, 90]);
    expect(p.dataUrl).toBe(`data:image/png;base64,${p.png.toString('base64')}`);
  });

  it('never enlarges, and keeps at least one pixel per side', async () => {
    const small = await encodePreviewPng(patternRgb(20, 10), 20, 10, 64);
    expect([small.width, small.height]).toEqual([20, 10]);
    const thin = await encodePreviewPng(patternRgb(1000, 2), 1000, 2, 100);
    expect([thin.width, thin.height]).toEqual([100, 1]);
  });

  it('is fast for a 512² frame', async () => {
    const rgb = patternRgb(512, 512);
    const t0 = performance.now();
    await encodePreviewPng(rgb, 512, 512);
    expect(performance.now() - t0).toBeLessThan(500);
  });
});
