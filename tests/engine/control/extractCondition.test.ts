import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADE20K_PALETTE } from '../../../main/engine/control/ade20kPalette';
import { annotatorFile } from '../../../main/engine/control/annotatorSlots';
import { extractCondition, rawCondition } from '../../../main/engine/control/extractCondition';
import { GraphBuilder } from '../../../main/engine/graph/GraphBuilder';
import { saveModel } from '../../../main/engine/graph/ModelIO';
import { DataType } from '../../../main/engine/graph/onnx';
import type { RgbImage } from '../../../main/engine/image/RgbImage';
import { OnnxRuntime } from '../../../main/engine/runtime/OnnxRuntime';
import { buildAnnotatorModel, testAnnotatorsDir } from '../../../models/annotators/generate';

function rgbImage(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): RgbImage {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) rgb.set(pixel(x, y), (y * width + x) * 3);
  return { rgb, width, height };
}

/** A 1×1 convolution annotator with given weights [out, 3] and biases, input [1,3,H,W]. */
function saveConv1x1(file: string, weights: number[][], bias: number[], opts: { squeeze?: boolean; fixed?: number } = {}): void {
  const g = new GraphBuilder();
  const size = opts.fixed ?? 'h';
  const input = g.input('image', DataType.FLOAT, [1, 3, size, opts.fixed ?? 'w']);
  const w = g.initializer('w', Float32Array.from(weights.flat()), [weights.length, 3, 1, 1]);
  const b = g.initializer('b', Float32Array.from(bias), [bias.length]);
  if (opts.squeeze) {
    const conv = g.op('Conv', [input, w, b]);
    g.node('Squeeze', [conv, g.constInt64([1])], {}, { outputs: ['depth'] });
    g.output('depth', DataType.FLOAT, [1, size, opts.fixed ?? 'w']);
  } else {
    g.op('Conv', [input, w, b], {}, { outputs: ['out'] });
    g.output('out', DataType.FLOAT, [1, weights.length, size, opts.fixed ?? 'w']);
  }
  saveModel(g.model(), file);
}

describe('extractCondition', () => {
  let dir: string;
  let runtime: OnnxRuntime;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'pentimento-control-'));
    runtime = new OnnxRuntime({ provider: 'cpu' });
  });
  afterAll(async () => {
    await runtime.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('canny: white one-pixel edges on black, at the generation size', async () => {
    const photo = rgbImage(64, 64, (x, y) => (x >= 16 && x < 48 && y >= 16 && y < 48 ? [200, 60, 30] : [10, 10, 10]));
    const c = await extractCondition('canny', photo);
    expect([c.width, c.height]).toEqual([64, 64]);
    const values = new Set(c.rgb);
    expect([...values].sort((a, b) => a - b)).toEqual([0, 255]);
    // The photo is resized first, so at 128×128 the lines are still thin: about 4 sides × 64 px.
    const big = await extractCondition('canny', photo, { width: 128, height: 128 });
    const edgeCount = big.rgb.filter((v, i) => i % 3 === 0 && v === 255).length;
    expect(edgeCount).toBeGreaterThan(4 * 60);
    expect(edgeCount).toBeLessThan(4 * 64 * 2);
  });

  it('depth: feeds RGB in 0…1 as [1,3,H,W] and min-max normalises the output (near = bright)', async () => {
    const modelsDir = path.join(dir, 'mean');
    // Depth = mean of R, G, B; a horizontal ramp in red only.
    saveConv1x1(annotatorFile(modelsDir, 'depth'), [[1 / 3, 1 / 3, 1 / 3]], [0], { squeeze: true });
    const photo = rgbImage(64, 64, (x) => [x * 4, 0, 0]);
    const c = await extractCondition('depth', photo, { modelsDir, runtime });
    for (let x = 0; x < 64; x++) {
      const expected = Math.round((x / 63) * 255);
      expect(Math.abs(c.rgb[(10 * 64 + x) * 3] - expected), `x=${x}`).toBeLessThanOrEqual(1);
      expect(c.rgb[(10 * 64 + x) * 3 + 1]).toBe(c.rgb[(10 * 64 + x) * 3]);
    }
  });

  it('segmentation: argmax over 150 logits, painted with the ADE20K palette, with the label map', async () => {
    const modelsDir = path.join(dir, 'seg');
    // Class 5 where red > ½, class 0 elsewhere; every other class far below.
    const weights = Array.from({ length: 150 }, (_, c) => (c === 5 ? [1, 0, 0] : c === 0 ? [-1, 0, 0] : [0, 0, 0]));
    const bias = Array.from({ length: 150 }, (_, c) => (c === 5 ? -0.5 : c === 0 ? 0.5 : -10));
    saveConv1x1(annotatorFile(modelsDir, 'segmentation'), weights, bias);
    const photo = rgbImage(64, 64, (x) => (x < 32 ? [255, 0, 0] : [0, 90, 0]));
    const c = await extractCondition('segmentation', photo, { modelsDir, runtime, width: 128, height: 64 });
    expect([c.width, c.height]).toEqual([128, 64]);
    expect(c.labels![3 * 128 + 10]).toBe(5);
    expect(c.labels![3 * 128 + 100]).toBe(0);
    expect([...c.rgb.subarray((3 * 128 + 10) * 3, (3 * 128 + 10) * 3 + 3)]).toEqual([...ADE20K_PALETTE[5]]);
    expect([...c.rgb.subarray((3 * 128 + 100) * 3, (3 * 128 + 100) * 3 + 3)]).toEqual([...ADE20K_PALETTE[0]]);
    expect(new Set(c.labels)).toEqual(new Set([0, 5]));
  });

  it('honours a fixed input size: the photo is resized to it and the condition to the generation size', async () => {
    const modelsDir = path.join(dir, 'fixed');
    saveConv1x1(annotatorFile(modelsDir, 'depth'), [[1 / 3, 1 / 3, 1 / 3]], [0], { squeeze: true, fixed: 32 });
    const photo = rgbImage(96, 48, (x) => [Math.round((x * 255) / 95), 0, 0]);
    const c = await extractCondition('depth', photo, { modelsDir, runtime, width: 128, height: 64 });
    expect([c.width, c.height]).toEqual([128, 64]);
    // Still a left-to-right ramp from near black to near white.
    const row = Array.from({ length: 128 }, (_, x) => c.rgb[(32 * 128 + x) * 3]);
    expect(row[0]).toBeLessThan(10);
    expect(row[127]).toBeGreaterThan(245);
    for (let x = 8; x < 120; x += 8) expect(row[x + 8]).toBeGreaterThan(row[x]);
  });

  it('lineart and soft edge from the generated annotators: grey maps in 0…255 at the requested size', async () => {
    const modelsDir = testAnnotatorsDir();
    const photo = rgbImage(80, 60, (x, y) => [(x * 3) % 256, (y * 4) % 256, ((x + y) * 2) % 256]);
    for (const type of ['lineart', 'softedge'] as const) {
      const c = await extractCondition(type, photo, { modelsDir, runtime, width: 64, height: 64 });
      expect([c.width, c.height, c.rgb.length]).toEqual([64, 64, 64 * 64 * 3]);
      for (let i = 0; i < c.rgb.length; i += 3) expect(c.rgb[i + 1]).toBe(c.rgb[i]);
      expect(new Set(c.rgb).size).toBeGreaterThan(4);
    }
  });

  it('names the missing file, where it goes and what to put there', async () => {
    const photo = rgbImage(16, 16, () => [0, 0, 0]);
    const empty = path.join(dir, 'empty');
    await expect(extractCondition('softedge', photo, { modelsDir: empty })).rejects.toMatchObject({
      code: 'MODEL_MISSING',
      message: expect.stringContaining(path.join(empty, 'annotators', 'hed.onnx')),
    });
    await expect(extractCondition('depth', photo)).rejects.toMatchObject({
      code: 'MODEL_MISSING',
      message: expect.stringMatching(/<models>\/annotators\/depth\.onnx.*DPT.*--models/),
    });
  });

  it('rejects an annotator with the wrong number of output channels as BAD_MODEL', async () => {
    const modelsDir = path.join(dir, 'wrong');
    saveModel(buildAnnotatorModel('depth'), annotatorFile(modelsDir, 'segmentation'));
    await expect(extractCondition('segmentation', rgbImage(16, 16, () => [1, 2, 3]), { modelsDir, runtime })).rejects.toMatchObject({
      code: 'BAD_MODEL',
      message: expect.stringContaining('must output 150 channels'),
    });
  });
});

describe('rawCondition', () => {
  it('inverts a black-on-white sketch for stroke types and keeps white-on-black ones', () => {
    const sketch = rgbImage(8, 8, (x) => (x === 3 ? [0, 0, 0] : [250, 250, 250]));
    for (const type of ['lineart', 'softedge', 'canny'] as const) {
      const c = rawCondition(type, sketch);
      expect(c.rgb[3 * 3]).toBe(255);
      expect(c.rgb[0]).toBe(5);
    }
    const lines = rgbImage(8, 8, (x) => (x === 3 ? [255, 255, 255] : [0, 0, 0]));
    expect(rawCondition('lineart', lines).rgb).toEqual(lines.rgb);
    // Depth is never inverted: a bright map is near, not a sketch.
    expect(rawCondition('depth', sketch).rgb).toEqual(sketch.rgb);
  });

  it('snaps a segmentation map to the palette and reads its classes', () => {
    const [a, b] = [ADE20K_PALETTE[2], ADE20K_PALETTE[87]];
    const seg = rgbImage(4, 1, (x) => (x < 2 ? [a[0] + 3, a[1] - 2, a[2]] : [b[0], b[1], b[2]]));
    const c = rawCondition('segmentation', seg);
    expect([...c.labels!]).toEqual([2, 2, 87, 87]);
    expect([...c.rgb.subarray(0, 3)]).toEqual([...a]);
  });

  it('is resized to the generation size by extractCondition', async () => {
    const sketch = rgbImage(30, 20, () => [255, 255, 255]);
    const c = await extractCondition('lineart', sketch, { raw: true, width: 64, height: 128 });
    expect([c.width, c.height]).toEqual([64, 128]);
    expect(c.rgb.every((v) => v === 0)).toBe(true);
  });
});
