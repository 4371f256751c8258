import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConditionHasEdges, checkScorable, consistencyScore } from '../../../main/engine/control/consistencyScore';
import { extractCondition } from '../../../main/engine/control/extractCondition';
import { compareConditions } from '../../../main/engine/control/metrics/compareConditions';
import type { RgbImage } from '../../../main/engine/image/RgbImage';
import { OnnxRuntime } from '../../../main/engine/runtime/OnnxRuntime';
import { testAnnotatorsDir } from '../../../models/annotators/generate';

function rgbImage(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): RgbImage {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) rgb.set(pixel(x, y), (y * width + x) * 3);
  return { rgb, width, height };
}

const textured = (seed: number) =>
  rgbImage(64, 64, (x, y) => [(x * 7 + y * seed) % 256, (x * y + seed * 13) % 256, ((x ^ y) * 5 + seed) % 256]);

describe('consistencyScore', () => {
  let runtime: OnnxRuntime;
  let modelsDir: string;
  beforeAll(() => {
    runtime = new OnnxRuntime({ provider: 'cpu' });
    modelsDir = testAnnotatorsDir();
  });
  afterAll(() => runtime.dispose());

  it('canny: F1 1 when the result has the condition\'s edges, 0 when they are one pixel off (no tolerance)', async () => {
    const step = (at: number) => rgbImage(64, 64, (x) => (x >= at ? [220, 220, 220] : [20, 20, 20]));
    const condition = await extractCondition('canny', step(32));
    const same = await consistencyScore('canny', condition, step(32));
    expect(same).toMatchObject({ metric: 'f1', value: 1, higherIsBetter: true });
    // A straight step gives one full-height line; moved by one pixel, no edge pixel coincides.
    expect(condition.rgb.filter((v, i) => i % 3 === 0 && v === 255)).toHaveLength(64);
    expect((await consistencyScore('canny', condition, step(33))).value).toBe(0);
  });

  it('canny: the result is resized to the condition first', async () => {
    const condition = await extractCondition('canny', rgbImage(64, 64, (x, y) => (x >= 16 && x < 48 && y >= 16 && y < 48 ? [255, 255, 255] : [0, 0, 0])));
    const bigger = rgbImage(128, 128, (x, y) => (x >= 32 && x < 96 && y >= 32 && y < 96 ? [255, 255, 255] : [0, 0, 0]));
    const r = await consistencyScore('canny', condition, bigger);
    expect(r.extracted.width).toBe(64);
    expect(r.value).toBeGreaterThan(0.5);
  });

  it('depth: RMSE 0 for the same photo, positive for another; lower is better', async () => {
    const condition = await extractCondition('depth', textured(3), { modelsDir, runtime });
    const same = await consistencyScore('depth', condition, textured(3), { modelsDir, runtime });
    expect(same).toMatchObject({ metric: 'rmse', value: 0, higherIsBetter: false });
    const other = await consistencyScore('depth', condition, textured(11), { modelsDir, runtime });
    expect(other.value).toBeGreaterThan(1);
    expect(other.value).toBe(compareConditions('depth', condition, other.extracted).value);
  });

  it('segmentation: mIoU 1 for the same photo', async () => {
    const condition = await extractCondition('segmentation', textured(5), { modelsDir, runtime });
    const r = await consistencyScore('segmentation', condition, textured(5), { modelsDir, runtime });
    expect(r).toMatchObject({ metric: 'miou', value: 1, higherIsBetter: true });
    expect(r.extracted.labels).toEqual(condition.labels);
  });

  it('lineart and soft edge: MS-SSIM 1 for the same photo, below 1 for another', async () => {
    for (const type of ['lineart', 'softedge'] as const) {
      const condition = await extractCondition(type, textured(2), { modelsDir, runtime });
      expect(await consistencyScore(type, condition, textured(2), { modelsDir, runtime })).toMatchObject({
        metric: 'ms_ssim',
        value: 1,
        higherIsBetter: true,
      });
      const other = await consistencyScore(type, condition, textured(40), { modelsDir, runtime });
      expect(other.value).toBeGreaterThan(0);
      expect(other.value).toBeLessThan(1);
    }
  });

  it('compareConditions refuses conditions of different sizes', () => {
    const a = rgbImage(64, 64, () => [0, 0, 0]);
    const b = rgbImage(32, 64, () => [0, 0, 0]);
    expect(() => compareConditions('lineart', a, b)).toThrow(/differ in size/);
  });
});

describe('checkScorable', () => {
  it('takes aspect ratios within 2% and sides from 8 px; refuses others naming both sizes', () => {
    expect(() => checkScorable({ width: 100, height: 100 }, { width: 101, height: 100 })).not.toThrow();
    expect(() => checkScorable({ width: 8, height: 8 }, { width: 64, height: 64 })).not.toThrow();
    expect(() => checkScorable({ width: 110, height: 100 }, { width: 64, height: 64 })).toThrow(/^The condition is 110×100 but the result 64×64: their aspect ratios differ by more than 2%/);
    expect(() => checkScorable({ width: 7, height: 7 }, { width: 64, height: 64 })).toThrow(/^The condition is 7×7; a condition scored needs at least 8 px on each side\.$/);
  });

  it('consistencyScore refuses a condition of another shape rather than stretch the result', async () => {
    const result = { rgb: new Uint8Array(64 * 96 * 3), width: 64, height: 96 };
    await expect(consistencyScore('canny', { rgb: new Uint8Array(3000 * 20 * 3), width: 3000, height: 20 }, result)).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });

  it('a canny condition without edge pixels is refused (F1 undefined); one edge pixel is enough; other types pass', () => {
    const blank = { rgb: new Uint8Array(16 * 16 * 3), width: 16, height: 16 };
    expect(() => checkConditionHasEdges('canny', blank)).toThrow(/no edge pixels/);
    expect(() => checkConditionHasEdges('depth', blank)).not.toThrow();
    const one = { ...blank, rgb: blank.rgb.slice().fill(255, 0, 3) };
    expect(() => checkConditionHasEdges('canny', one)).not.toThrow();
  });
});
