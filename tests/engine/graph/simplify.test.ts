import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../main/engine/graph/GraphBuilder';
import { DataType } from '../../../main/engine/graph/onnx';
import { simplify } from '../../../main/engine/graph/simplify';
import { floatTensor, session } from './gradCheck';

const F = DataType.FLOAT;
const ops = (m: { graph: { node: { opType: string }[] } }, op: string) => m.graph.node.filter((n) => n.opType === op).length;

/** y = Reshape(x·2 + x·2, Shape(x)) + Identity(Identity(x)); z = Reshape(x, [Shape(c)[0], -1]) with a static c. */
function duplicated() {
  const b = new GraphBuilder(17);
  const x = b.input('x', F, ['n', 3]);
  const c = b.input('c', F, [2, 5]);
  const two = b.constant(Float32Array.from([2]), []);
  const twoAgain = b.constant(Float32Array.from([2]), []);
  const sum = b.op('Add', [b.op('Mul', [x, two]), b.op('Mul', [x, twoAgain])]);
  const back = b.op('Reshape', [sum, b.op('Shape', [x])]);
  const same = b.op('Reshape', [back, b.op('Shape', [x])]);
  b.output(b.op('Add', [same, b.op('Identity', [b.op('Identity', [x])])]), F);
  const rows = b.op('Gather', [b.op('Shape', [c]), b.constant(BigInt64Array.from([0n]), [1])], { axis: 0 });
  const target = b.op('Concat', [rows, b.constant(BigInt64Array.from([-1n]), [1])], { axis: 0 });
  b.output(b.op('Reshape', [b.op('Tile', [x, b.constant(BigInt64Array.from([1n, 1n]), [2])]), target]), F);
  b.output(b.op('Identity', [c], {}, { outputs: ['c_copy'] }), F);
  return b.model();
}

describe('simplify', () => {
  it('merges equal nodes and constants, drops Identity chains, folds static shape arithmetic', () => {
    const m = duplicated();
    const s = simplify(m);
    expect(ops(m, 'Mul')).toBe(2);
    expect(ops(s, 'Mul')).toBe(1);
    expect(ops(s, 'Shape')).toBe(1); // Shape(x) once; Shape(c) is static and folded
    // Shape(c) → Gather → Concat became one constant target.
    expect(ops(s, 'Gather')).toBe(0);
    expect(ops(s, 'Concat')).toBe(0);
    // The Identity chain is gone; the Identity that exposes a graph input as an output stays.
    expect(s.graph.node.filter((n) => n.opType === 'Identity').map((n) => n.output[0])).toEqual(['c_copy']);
    expect(s.graph.output.map((o) => o.name)).toEqual(m.graph.output.map((o) => o.name));
    expect(s.graph.node.length).toBeLessThan(m.graph.node.length);
  });

  it('computes the same outputs as the graph it simplifies', async () => {
    const m = duplicated();
    const feeds = { x: floatTensor('float32', [1, -2, 3, 0.5, 4, -1], [2, 3]), c: floatTensor('float32', Array.from({ length: 10 }, (_, i) => i), [2, 5]) };
    const before = await (await session(m)).run(feeds);
    const after = await (await session(simplify(m))).run(feeds);
    for (const o of m.graph.output) {
      expect(after[o.name].dims).toEqual(before[o.name].dims);
      expect(Array.from(after[o.name].data as Float32Array)).toEqual(Array.from(before[o.name].data as Float32Array));
    }
  });

  it('never merges random ops', () => {
    const b = new GraphBuilder(17);
    const x = b.input('x', F, [2]);
    const r1 = b.op('RandomNormalLike', [x]);
    const r2 = b.op('RandomNormalLike', [x]);
    b.output(b.op('Sub', [r1, r2]), F);
    expect(ops(simplify(b.model()), 'RandomNormalLike')).toBe(2);
  });

  it('keeps a float Cast to integers unfolded (truncation is the runtime’s business)', async () => {
    const b = new GraphBuilder(17);
    const x = b.input('x', F, [3]);
    const k = b.op('Cast', [b.constant(Float32Array.from([2.7]), [1])], { to: DataType.INT64 });
    b.output(b.op('Tile', [x, k]), F);
    const s = simplify(b.model());
    expect(ops(s, 'Cast')).toBe(1);
    const out = await (await session(s)).run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3]), [3]) });
    expect(out[b.model().graph.output[0].name].dims).toEqual([6]);
  });
});
