import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterEach, describe, expect, it } from 'vitest';
import { DerivedModelCache, type DerivedModelProgress, type DerivedModelRecipe } from '../../../main/engine/graph/DerivedModelCache';
import { GraphBuilder } from '../../../main/engine/graph/GraphBuilder';
import { saveModel } from '../../../main/engine/graph/ModelIO';
import { DataType } from '../../../main/engine/graph/onnx';
import { vjp } from '../../../main/engine/graph/vjp';

const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-derived-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** y = x·W with a 64×8 weight kept in external data (so the derived model must link to it). */
function writeSource(dir: string, scale: number): string {
  const b = new GraphBuilder(17);
  const x = b.input('x', DataType.FLOAT, [1, 64]);
  const w = Float32Array.from({ length: 64 * 8 }, (_, i) => Math.sin(i) * scale);
  b.nodes.push({ name: 'mm', opType: 'MatMul', input: [x, b.initializer('W', w, [64, 8])], output: ['y'], attribute: [] });
  b.output('y', DataType.FLOAT, [1, 8]);
  const file = path.join(dir, 'model.onnx');
  saveModel(b.model(), file, { externalData: { location: 'model.onnx_data', threshold: 16 } });
  return file;
}

function recipe(sourceFile: string, sourceHash: string): DerivedModelRecipe & { derivations: number } {
  const r = {
    derivations: 0,
    name: 'vjp',
    args: { wrt: ['x'], of: ['y'] },
    sourceFile,
    sourceHash,
    derive: (source: { model: Parameters<typeof vjp>[0]; dir: string }) => {
      r.derivations++;
      return vjp(source.model, { wrt: ['x'], of: ['y'] }, source.dir);
    },
  };
  return r;
}

async function xGrad(file: string): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(file);
  const out = await session.run({
    x: new ort.Tensor('float32', new Float32Array(64).fill(1), [1, 64]),
    y_grad: new ort.Tensor('float32', Float32Array.from([1, 0, 0, 0, 0, 0, 0, 0]), [1, 8]),
  });
  await session.release();
  return out.x_grad.data as Float32Array;
}

describe('DerivedModelCache', () => {
  it('builds once, reuses on the second call, and builds anew for a changed source', async () => {
    const src = tmp();
    const cache = new DerivedModelCache(path.join(tmp(), 'derived'));
    const first = recipe(writeSource(src, 0.1), 'hash-a');
    const events: DerivedModelProgress[] = [];
    const a = await cache.ensure(first, (p) => events.push(p));
    expect(a.built).toBe(true);
    expect(events.map((e) => e.stage)).toEqual(['load', 'derive', 'save', 'done']);
    // x_grad = W[:, 0] for the cotangent e₀: the derived model runs on the source's weights.
    const g = await xGrad(a.file);
    expect(g[3]).toBeCloseTo(Math.sin(3 * 8) * 0.1, 6);

    const again = recipe(first.sourceFile, 'hash-a');
    const b = await cache.ensure(again, (p) => events.push(p));
    expect(b).toMatchObject({ built: false, file: a.file });
    expect(again.derivations).toBe(0);
    expect(events[events.length - 1]).toMatchObject({ stage: 'done', cached: true });
    expect(cache.builds).toBe(1);
    // No temporary folders are left beside the entry.
    expect(fs.readdirSync(cache.root)).toHaveLength(1);

    // The source changes: new weights, new content hash, another entry.
    writeSource(src, 0.2);
    const changed = recipe(first.sourceFile, 'hash-b');
    const c = await cache.ensure(changed);
    expect(c.built).toBe(true);
    expect(c.file).not.toBe(a.file);
    expect((await xGrad(c.file))[3]).toBeCloseTo(Math.sin(3 * 8) * 0.2, 6);
    expect(cache.builds).toBe(2);
  });

  it('rebuilds an entry whose weight link dangles, and leaves nothing behind when a derivation fails', async () => {
    const src = tmp();
    const cache = new DerivedModelCache(path.join(tmp(), 'derived'));
    const r = recipe(writeSource(src, 0.1), 'hash-a');
    const a = await cache.ensure(r);
    // Simulate a symlinked weight whose target is gone.
    const dir = path.dirname(a.file);
    const link = fs.readdirSync(dir).find((f) => f.includes('onnx_data'))!;
    fs.rmSync(path.join(dir, link));
    fs.symlinkSync(path.join(src, 'missing.bin'), path.join(dir, link));
    expect((await cache.ensure(r)).built).toBe(true);

    const broken = { ...recipe(r.sourceFile, 'hash-z'), derive: () => { throw new Error('no rule for op Foo'); } };
    await expect(cache.ensure(broken)).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('no rule for op Foo') });
    expect(fs.readdirSync(cache.root)).toEqual([cache.keyOf(r)]);
  });
});
