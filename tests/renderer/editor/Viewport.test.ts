import { describe, expect, it } from 'vitest';
import { imagePoint, imageToLatent, latentPoint, latentToImage, screenPoint } from '../../../renderer/src/editor/coordinates';
import { comparePercent, fitViewport, imageToScreen, MAX_SCALE, panBy, screenToImage, wheelZoomFactor, zoomAt } from '../../../renderer/src/editor/Viewport';

describe('Viewport', () => {
  it('maps screen to image and back: screen = image · scale + offset', () => {
    const v = { scale: 2.5, offsetX: -100, offsetY: 30 };
    expect(screenToImage(v, screenPoint(200, 180))).toEqual(imagePoint(120, 60));
    expect(imageToScreen(v, imagePoint(120, 60))).toEqual(screenPoint(200, 180));
  });

  it('enlarges a small image by whole factors to fill the view, up to MAX_SCALE', () => {
    expect(fitViewport({ width: 1, height: 1 }, { width: 800, height: 600 }).scale).toBe(MAX_SCALE);
    expect(fitViewport({ width: 100, height: 50 }, { width: 800, height: 600 }, 16)).toEqual({ scale: 7, offsetX: 50, offsetY: 125 });
    // One that fills more than half the view stays at 100 %.
    expect(fitViewport({ width: 400, height: 300 }, { width: 800, height: 600 }, 16).scale).toBe(1);
  });

  it('fits the image centred, a photo that fills half the view or more never above 100 %', () => {
    expect(fitViewport({ width: 451, height: 300 }, { width: 800, height: 600 })).toEqual({ scale: 1, offsetX: 174.5, offsetY: 150 });
    const v = fitViewport({ width: 4000, height: 3000 }, { width: 800, height: 600 }, 16);
    expect(v.scale).toBeCloseTo(568 / 3000, 12);
    expect(v.offsetX).toBeCloseTo((800 - 4000 * v.scale) / 2, 9);
    expect(v.offsetY).toBeCloseTo(16, 9);
  });

  it('zooms about the anchor: the image point under it does not move', () => {
    const v = { scale: 0.7, offsetX: 13, offsetY: -4 };
    const anchor = screenPoint(321, 123);
    const before = screenToImage(v, anchor);
    const z = zoomAt(v, anchor, wheelZoomFactor(-100));
    expect(z.scale).toBeCloseTo(0.7 * 2 ** 0.25, 12);
    const after = screenToImage(z, anchor);
    expect(after.x).toBeCloseTo(before.x, 9);
    expect(after.y).toBeCloseTo(before.y, 9);
    expect(zoomAt(v, anchor, 1e9).scale).toBe(MAX_SCALE);
    expect(panBy(v, 5, -6)).toEqual({ scale: 0.7, offsetX: 18, offsetY: -10 });
  });

  it('latent coordinates are image coordinates / 8', () => {
    expect(imageToLatent(imagePoint(451, 300))).toEqual(latentPoint(56.375, 37.5));
    expect(latentToImage(latentPoint(64, 32))).toEqual(imagePoint(512, 256));
  });
});

describe('comparePercent', () => {
  it('maps a pointer to the divider position in percent of the image width, clamped to 0–100', () => {
    const v = { scale: 2, offsetX: 100, offsetY: 40 };
    // Image x = (screen x − 100) / 2; a 400-px-wide image.
    expect(comparePercent(v, screenPoint(100, 50), 400)).toBe(0);
    expect(comparePercent(v, screenPoint(500, 50), 400)).toBe(50);
    expect(comparePercent(v, screenPoint(740, 50), 400)).toBe(80);
    expect(comparePercent(v, screenPoint(20, 50), 400)).toBe(0);
    expect(comparePercent(v, screenPoint(2000, 50), 400)).toBe(100);
  });
});
