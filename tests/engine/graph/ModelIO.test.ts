import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../main/engine/graph/GraphBuilder';
import { checkExternalData, loadModel, saveModel, tensorArray } from '../../../main/engine/graph/ModelIO';
import { DataType, valueShape } from '../../../main/engine/graph/onnx';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../../../main/engine/graph/fp16';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-io-'));
}

/** y = x @ W + b with a 64×32 weight (big enough to go external). */
function linearModel() {
  const b = new GraphBuilder(17);
  const x = b.input('x', DataType.FLOAT, ['batch', 64]);
  const w = Float32Array.from({ length: 64 * 32 }, (_, i) => Math.sin(i) * 0.1);
  const bias = Float32Array.from({ length: 32 }, (_, i) => i * 0.01);
  const y = b.scope('proj', () => {
    const mm = b.op('MatMul', [x, b.param('weight', w, [64, 32])]);
    return b.op('Add', [mm, b.param('bias', bias, [32])]);
  });
  b.nodes[b.nodes.length - 1].output[0] = 'y';
  b.output('y', DataType.FLOAT, ['batch', 32]);
  return { model: b.model(), w, bias, y };
}

function reference(xv: Float32Array, w: Float32Array, bias: Float32Array): Float32Array {
  const out = new Float32Array(32);
  for (let j = 0; j < 32; j++) {
    let s = bias[j];
    for (let k = 0; k < 64; k++) s += xv[k] * w[k * 32 + j];
    out[j] = s;
  }
  return out;
}

describe('ModelIO', () => {
  it('saves with external data that onnxruntime runs, and reloads it', async () => {
    const dir = tmpDir();
    const { model, w, bias } = linearModel();
    const file = path.join(dir, 'model.onnx');
    saveModel(model, file, { externalData: { location: 'weights.pb', threshold: 128 } });
    expect(fs.statSync(path.join(dir, 'weights.pb')).size).toBeGreaterThanOrEqual(64 * 32 * 4);
    expect(fs.statSync(file).size).toBeLessThan(4096);

    const loaded = loadModel(file);
    const wt = loaded.model.graph.initializer.find((t) => t.name === 'proj.weight')!;
    expect(wt.dataLocation).toBe(1);
    expect(Array.from(tensorArray(wt, loaded.dir) as Float32Array)).toEqual(Array.from(w));

    const session = await ort.InferenceSession.create(file);
    const xv = Float32Array.from({ length: 64 }, (_, i) => (i % 7) - 3);
    const { y } = await session.run({ x: new ort.Tensor('float32', xv, [1, 64]) });
    const ref = reference(xv, w, bias);
    const got = y.data as Float32Array;
    for (let j = 0; j < 32; j++) expect(got[j]).toBeCloseTo(ref[j], 4);
    await session.release();
  });

  it('names the weights file when it is truncated or missing', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'model.onnx');
    saveModel(linearModel().model, file, { externalData: { location: 'weights.pb', threshold: 128 } });
    const weights = path.join(dir, 'weights.pb');
    fs.truncateSync(weights, 1000);
    expect(() => loadModel(file)).toThrow(/weights\.pb' is truncated: tensor 'proj\.weight' needs bytes/);
    fs.rmSync(weights);
    expect(() => loadModel(file)).toThrow(/weights\.pb' is missing/);
  });

  it('rejects empty and non-ONNX files with BAD_MODEL and missing ones with MODEL_MISSING', () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'empty.onnx'), '');
    fs.writeFileSync(path.join(dir, 'text.onnx'), 'this is not a protobuf at all, just words\n'.repeat(5));
    expect(() => loadModel(path.join(dir, 'empty.onnx'))).toThrow(expect.objectContaining({ code: 'BAD_MODEL' }));
    expect(() => loadModel(path.join(dir, 'text.onnx'))).toThrow(expect.objectContaining({ code: 'BAD_MODEL' }));
    expect(() => loadModel(path.join(dir, 'nope.onnx'))).toThrow(expect.objectContaining({ code: 'MODEL_MISSING' }));
  });

  it('saves a derived model elsewhere that references the source weights without copying them', async () => {
    const src = tmpDir();
    const dst = tmpDir();
    const { model } = linearModel();
    saveModel(model, path.join(src, 'model.onnx'), { externalData: { location: 'weights.pb', threshold: 128 } });
    const loaded = loadModel(path.join(src, 'model.onnx'));
    saveModel(loaded.model, path.join(dst, 'derived.onnx'), { sourceDir: loaded.dir });
    const derived = loadModel(path.join(dst, 'derived.onnx'));
    checkExternalData(derived);
    const linked = fs.readdirSync(dst).find((f) => f.endsWith('weights.pb'))!;
    expect(fs.statSync(path.join(dst, linked)).ino).toBe(fs.statSync(path.join(src, 'weights.pb')).ino);
    const session = await ort.InferenceSession.create(path.join(dst, 'derived.onnx'));
    expect(session.outputNames).toEqual(['y']);
    await session.release();
  });

  it('round-trips float16 bits exactly for representable values and rounds to nearest even', () => {
    for (const v of [0, 1, -2, 0.5, 65504, 6.103515625e-5, 5.960464477539063e-8, -0.333251953125]) {
      expect(float16BitsToFloat32(float32ToFloat16Bits(v))).toBe(v);
    }
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(float32ToFloat16Bits(1e6)).toBe(0x7c00);
  });
});

describe('valueShape', () => {
  it('reads symbolic and static dims of a decoded model (protobufjs defaults are not values)', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'model.onnx');
    saveModel(linearModel().model, file);
    const { model } = loadModel(file);
    expect(valueShape(model.graph.input[0])).toEqual(['batch', 64]);
    expect(valueShape(model.graph.output[0])).toEqual(['batch', 32]);
  });
});

describe('models over 2 GB', () => {
  it('reads and runs a tensor stored past the 2 GiB mark of a (sparse) weights file', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'model.onnx');
    const { model, w, bias } = linearModel();
    saveModel(model, file, { externalData: { location: 'weights.pb', threshold: 128 } });
    const loaded = loadModel(file);
    const wt = loaded.model.graph.initializer.find((t) => t.name === 'proj.weight')!;
    const bytes = Buffer.from(tensorArray(wt, loaded.dir).buffer as ArrayBuffer);
    // Move the weight to offset 2^31 + 4096 of a 2.2 GB sparse file (no real disk use).
    const big = path.join(dir, 'big.pb');
    const offset = 2 ** 31 + 4096;
    const fd = fs.openSync(big, 'w');
    fs.writeSync(fd, bytes, 0, bytes.length, offset);
    fs.ftruncateSync(fd, offset + bytes.length + 100 * 2 ** 20);
    fs.closeSync(fd);
    wt.externalData = [
      { key: 'location', value: 'big.pb' },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(bytes.length) },
    ];
    saveModel(loaded.model, file);
    const again = loadModel(file);
    const wt2 = again.model.graph.initializer.find((t) => t.name === 'proj.weight')!;
    expect(Array.from(tensorArray(wt2, again.dir) as Float32Array)).toEqual(Array.from(w));

    const session = await ort.InferenceSession.create(file);
    const xv = Float32Array.from({ length: 64 }, (_, i) => (i % 5) - 2);
    const { y } = await session.run({ x: new ort.Tensor('float32', xv, [1, 64]) });
    const ref = reference(xv, w, bias);
    for (let j = 0; j < 32; j++) expect((y.data as Float32Array)[j]).toBeCloseTo(ref[j], 4);
    await session.release();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
