import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../main/engine/graph/ModelIO';
import { DataType, valueElemType, valueShape } from '../../main/engine/graph/onnx';
import { controlNetOutputNames } from '../../models/controlnet/buildControlNet';
import { generateControlNet, isGeneratedControlNetComplete } from '../../models/controlnet/generateControlNet';
import { testControlNetDir, testControlNetOptions } from '../../models/controlnet/testControlNets';

// Residuals of an 8×8 latent for the tiny preset (block channels 32/64/64/64), in diffusers'
// down_block_res_samples order, then the mid block.
const SHAPES: [number, number][] = [
  [32, 8], [32, 8], [32, 8], [32, 4],
  [64, 4], [64, 4], [64, 2],
  [64, 2], [64, 2], [64, 1],
  [64, 1], [64, 1],
  [64, 1],
];

function noise(n: number, seed: number): Float32Array {
  // A fixed, non-trivial pattern (the tests compare runs of the same feeds, not statistics).
  return Float32Array.from({ length: n }, (_, i) => Math.sin(0.7 * i + seed) * Math.cos(0.13 * i * (seed + 1)));
}

function feeds(opts: { torch?: boolean; scale?: number; batch?: number; width?: number } = {}): Record<string, ort.Tensor> {
  const batch = opts.batch ?? 1;
  const width = opts.width ?? 32;
  const f: Record<string, ort.Tensor> = {
    sample: new ort.Tensor('float32', noise(batch * 4 * 64, 1), [batch, 4, 8, 8]),
    timestep: opts.torch ? new ort.Tensor('float32', Float32Array.from([500]), []) : new ort.Tensor('int64', BigInt64Array.from([500n]), [1]),
    encoder_hidden_states: new ort.Tensor('float32', noise(batch * 77 * width, 2), [batch, 77, width]),
    controlnet_cond: new ort.Tensor('float32', noise(batch * 3 * 64 * 64, 3).map((v) => (v + 1) / 2), [batch, 3, 64, 64]),
  };
  if (opts.scale !== undefined) f.conditioning_scale = new ort.Tensor('float32', Float32Array.from([opts.scale]), []);
  return f;
}

async function run(dir: string, f: Record<string, ort.Tensor>): Promise<ort.Tensor[]> {
  const session = await ort.InferenceSession.create(path.join(dir, 'model.onnx'), { intraOpNumThreads: 1 });
  const out = await session.run(f);
  const list = session.outputNames.map((n) => out[n]);
  await session.release();
  return list;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('generated ControlNet', () => {
  let dirs: Record<'tiny' | 'tiny-torch' | 'tiny-noscale' | 'tiny-wide', string>;
  beforeAll(() => {
    dirs = {
      tiny: testControlNetDir('tiny'),
      'tiny-torch': testControlNetDir('tiny-torch'),
      'tiny-noscale': testControlNetDir('tiny-noscale'),
      'tiny-wide': testControlNetDir('tiny-wide'),
    };
  });

  it('declares the optimum and torch I/O: inputs, dtypes, output names and channels', () => {
    const optimum = loadModel(path.join(dirs.tiny, 'model.onnx')).model.graph;
    expect(optimum.input.map((v) => v.name)).toEqual(['sample', 'timestep', 'encoder_hidden_states', 'controlnet_cond', 'conditioning_scale']);
    expect(valueElemType(optimum.input[1])).toBe(DataType.INT64);
    expect(valueShape(optimum.input[2])?.[2]).toBe(32);
    expect(valueShape(optimum.input[3])?.[1]).toBe(3);
    expect(valueShape(optimum.input[4])).toEqual([]);
    const names = controlNetOutputNames('optimum');
    expect(optimum.output.map((v) => v.name)).toEqual([...names.down, names.mid]);
    expect(optimum.output.map((v) => valueShape(v)?.[1])).toEqual(SHAPES.map((s) => s[0]));

    const torch = loadModel(path.join(dirs['tiny-torch'], 'model.onnx')).model.graph;
    expect(torch.output.map((v) => v.name)).toEqual([...Array.from({ length: 12 }, (_, i) => `down_block_res_sample_${i}`), 'mid_block_res_sample']);
    const t = torch.input.find((v) => v.name === 'timestep')!;
    expect(valueElemType(t)).toBe(DataType.FLOAT);
    expect(valueShape(t)).toEqual([]);
    expect(torch.node.every((n) => n.name!.startsWith('/c/'))).toBe(true);

    expect(loadModel(path.join(dirs['tiny-noscale'], 'model.onnx')).model.graph.input.map((v) => v.name)).not.toContain('conditioning_scale');
    const wide = loadModel(path.join(dirs['tiny-wide'], 'model.onnx')).model.graph;
    expect(valueShape(wide.input.find((v) => v.name === 'encoder_hidden_states')!)?.[2]).toBe(48);
    const config = JSON.parse(fs.readFileSync(path.join(dirs['tiny-wide'], 'config.json'), 'utf8'));
    expect(config).toMatchObject({ _class_name: 'ControlNetModel', cross_attention_dim: 48, conditioning_embedding_out_channels: [4, 8, 8, 16] });
  });

  it('returns 12 down residuals and the mid residual at the skip resolutions, non-zero at scale 1', async () => {
    const out = await run(dirs.tiny, feeds({ scale: 1, batch: 2 }));
    expect(out.map((t) => t.dims)).toEqual(SHAPES.map(([c, s]) => [2, c, s, s]));
    for (const t of out) {
      expect(maxAbs(t.data as Float32Array)).toBeGreaterThan(0.05);
      expect([...(t.data as Float32Array)].every(Number.isFinite)).toBe(true);
    }
  });

  it('multiplies every residual by conditioning_scale; scale 0 gives exact zeros', async () => {
    const one = await run(dirs.tiny, feeds({ scale: 1 }));
    const scaled = await run(dirs.tiny, feeds({ scale: 0.25 }));
    const zero = await run(dirs.tiny, feeds({ scale: 0 }));
    one.forEach((t, i) => {
      const a = t.data as Float32Array;
      // 0.25 is a power of two: x·0.25 is exact in float32.
      expect(maxAbsDiff(scaled[i].data as Float32Array, a.map((v) => v * 0.25))).toBe(0);
      expect(maxAbs(zero[i].data as Float32Array)).toBe(0);
    });
    // Without a scale input the graph returns the scale-1 residuals.
    const plain = await run(dirs['tiny-noscale'], feeds());
    plain.forEach((t, i) => expect(maxAbsDiff(t.data as Float32Array, one[i].data as Float32Array)).toBe(0));
  });

  it('the torch export computes the same residuals as the optimum one (same seed)', async () => {
    const a = await run(dirs.tiny, feeds({ scale: 1 }));
    const b = await run(dirs['tiny-torch'], feeds({ torch: true, scale: 1 }));
    a.forEach((t, i) => {
      const x = t.data as Float32Array;
      expect(maxAbsDiff(x, b[i].data as Float32Array)).toBeLessThan(1e-4 * Math.max(1, maxAbs(x)));
    });
  });

  it('the condition changes the residuals, through the conditioning embedding', async () => {
    const base = feeds({ scale: 1 });
    const other = { ...base, controlnet_cond: new ort.Tensor('float32', new Float32Array(3 * 64 * 64).fill(0.5), [1, 3, 64, 64]) };
    const a = await run(dirs.tiny, base);
    const b = await run(dirs.tiny, other);
    a.forEach((t, i) => expect(maxAbsDiff(t.data as Float32Array, b[i].data as Float32Array)).toBeGreaterThan(1e-2));
  });

  it('is deterministic: equal options give byte-identical files, another seed other weights', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-cn-'));
    try {
      const hash = (dir: string) =>
        Object.fromEntries(fs.readdirSync(dir).map((f) => [f, createHash('sha256').update(fs.readFileSync(path.join(dir, f))).digest('hex')]));
      const a = generateControlNet(path.join(root, 'a'), testControlNetOptions['tiny-torch']);
      const b = generateControlNet(path.join(root, 'b'), testControlNetOptions['tiny-torch']);
      const c = generateControlNet(path.join(root, 'c'), { ...testControlNetOptions['tiny-torch'], seed: 7 });
      expect(Object.keys(hash(a.dir)).sort()).toEqual(['config.json', 'model.onnx', 'weights.pb']);
      expect(hash(a.dir)).toEqual(hash(b.dir));
      expect(hash(c.dir)['weights.pb']).not.toBe(hash(a.dir)['weights.pb']);
      expect(isGeneratedControlNetComplete(a.dir, testControlNetOptions['tiny-torch'])).toBe(true);
      expect(isGeneratedControlNetComplete(a.dir, testControlNetOptions.tiny)).toBe(false);
      expect(() => generateControlNet(a.dir, testControlNetOptions.tiny)).toThrow(/already exists and is not empty/);
      expect(() => generateControlNet(path.join(root, 'd'), { preset: 'tiny', seed: -1 })).toThrow(/Seed -1 is not valid/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
