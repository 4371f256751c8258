import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder, type AttrValue, float } from '../../../main/engine/graph/GraphBuilder';
import { DataType, type ModelProto } from '../../../main/engine/graph/onnx';
import { gradCheck } from './gradCheck';

const D = DataType.DOUBLE;
const F = DataType.FLOAT;
type Shape = (number | string)[];

/** A model with inputs a, b, … of the given shapes feeding one `op` node whose outputs are the model's outputs. */
function oneOp(
  op: string,
  shapes: Shape[],
  attrs: Record<string, AttrValue | undefined> = {},
  opts: { T?: DataType; extra?: (b: GraphBuilder) => string[]; outputs?: number; opset?: number } = {},
): ModelProto {
  const T = opts.T ?? D;
  const b = new GraphBuilder(opts.opset ?? 17);
  const ins = shapes.map((s, i) => b.input(String.fromCharCode(97 + i), T, s));
  const outs = b.node(op, [...ins, ...(opts.extra?.(b) ?? [])], attrs, { outputs: opts.outputs ?? 1 });
  outs.forEach((o) => b.output(o, T));
  return b.model();
}

const ints = (b: GraphBuilder, v: number[]) => b.constInt64(v);
const dbl = (b: GraphBuilder, v: number[], dims: number[] = [v.length]) => b.constant(Float64Array.from(v), dims);

describe('elementwise binary ops with broadcasting', () => {
  const grid: [Shape, Shape][] = [
    [[2, 3], [2, 3]],
    [[2, 3], [3]],
    [[2, 1, 4], [3, 1]],
    [[1], [2, 3]],
    [[], [2, 3]],
    [[4, 1, 3], [1, 5, 1]],
  ];
  for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Pow']) {
    for (const [sa, sb] of grid) {
      it(`${op} ${JSON.stringify(sa)} ∘ ${JSON.stringify(sb)}`, async () => {
        const positive = op === 'Div' ? ['b'] : op === 'Pow' ? ['a'] : [];
        await gradCheck(oneOp(op, [sa, sb]), { positive });
      });
    }
  }
  for (const op of ['Max', 'Min']) {
    it(`${op} (variadic, broadcasting)`, async () => {
      await gradCheck(oneOp(op, [[2, 3], [3], [2, 1]]), { separated: ['a', 'b', 'c'] });
    });
  }
  it('Sum of three', async () => {
    await gradCheck(oneOp('Sum', [[2, 3], [3], [2, 1]]));
  });
  it('Pow with a constant exponent (x^3 and x^0.5)', async () => {
    for (const p of [3, 0.5]) {
      const m = oneOp('Pow', [[2, 3]], {}, { extra: (b) => [dbl(b, [p], [])] });
      const { grads } = await gradCheck(m, { positive: ['a'] });
      expect(grads.a.dims).toEqual([2, 3]);
    }
  });
  it('reduces to symbolic shapes at runtime (input dims unknown until run), without data-dependent shapes', async () => {
    // b is declared [m, k] but fed [1, 3]: the broadcast axis is only found at runtime.
    const m = oneOp('Mul', [['n', 3], ['m', 'k']]);
    const { derived } = await gradCheck(m, { shapes: { a: [2, 3], b: [1, 3] } });
    // The runtime axis is folded by a Reshape to [b₀, g₀/b₀, …] and a static ReduceSum, not NonZero.
    expect(derived.graph.node.some((n) => n.opType === 'NonZero')).toBe(false);
    await gradCheck(m, { shapes: { a: [4, 3], b: [4, 3] } });
  });
  it('reduces several runtime-decided axes, on either operand', async () => {
    const m = oneOp('Mul', [['n', 'p'], ['m', 'k']]);
    for (const [a, b] of [
      [[2, 3], [1, 1]],
      [[1, 3], [2, 1]],
      [[2, 1], [2, 3]],
      [[2, 3], [2, 3]],
    ]) {
      const { derived, grads } = await gradCheck(m, { shapes: { a, b } });
      expect(grads.a.dims).toEqual(a);
      expect(grads.b.dims).toEqual(b);
      expect(derived.graph.node.some((n) => n.opType === 'NonZero')).toBe(false);
    }
  });
  it('Where with a runtime condition', async () => {
    const m = oneOp('Where', [[2, 3], [3]], {}, {
      extra: () => [],
    });
    // Rebuild with the bool condition first.
    const b = new GraphBuilder(17);
    const c = b.input('c', DataType.BOOL, [2, 3]);
    const x = b.input('x', D, [2, 3]);
    const y = b.input('y', D, [1, 3]);
    b.output(b.op('Where', [c, x, y]), D);
    const cond = new ort.Tensor('bool', Uint8Array.from([1, 0, 1, 0, 0, 1]), [2, 3]);
    const { grads } = await gradCheck(b.model(), { feeds: { c: cond } });
    expect(grads.x.dims).toEqual([2, 3]);
    expect(m.graph.node.length).toBe(1);
  });
});

describe('elementwise unary ops', () => {
  const cases: [string, Record<string, AttrValue>, { positive?: boolean; separated?: boolean }][] = [
    ['Identity', {}, {}],
    ['Neg', {}, {}],
    ['Abs', {}, { separated: true }],
    ['Relu', {}, { separated: true }],
    ['LeakyRelu', { alpha: float(0.2) }, { separated: true }],
    ['Sigmoid', {}, {}],
    ['Tanh', {}, {}],
    ['Exp', {}, {}],
    ['Log', {}, { positive: true }],
    ['Sqrt', {}, { positive: true }],
    ['Reciprocal', {}, { positive: true }],
    ['Sin', {}, {}],
    ['Cos', {}, {}],
    ['Softmax', { axis: -1 }, {}],
    ['Softmax', { axis: 0 }, {}],
    ['Softmax', { axis: 1 }, {}],
    ['LogSoftmax', { axis: -1 }, {}],
  ];
  for (const [op, attrs, o] of cases) {
    it(`${op} ${JSON.stringify(attrs)}`, async () => {
      await gradCheck(oneOp(op, [[2, 3, 4]], attrs), {
        positive: o.positive ? ['a'] : [],
        separated: o.separated ? ['a'] : [],
      });
    });
  }
  it('Erf (float32: onnxruntime has no double Erf)', async () => {
    await gradCheck(oneOp('Erf', [[2, 3, 4]], {}, { T: F }), { h: 1e-3, tol: 1e-3 });
  });
  it('Cast float → double → float passes the gradient through with the source type', async () => {
    const b = new GraphBuilder(17);
    const x = b.input('x', F, [2, 3]);
    const d = b.op('Cast', [x], { to: DataType.DOUBLE });
    b.output(b.op('Cast', [b.op('Mul', [d, d])], { to: DataType.FLOAT }), F);
    await gradCheck(b.model(), { tol: 1e-3 });
  });
  it('Clip with min and max', async () => {
    await gradCheck(oneOp('Clip', [[3, 4]], {}, { extra: (b) => [dbl(b, [-0.5], []), dbl(b, [0.7], [])] }), { separated: ['a'] });
  });
});

describe('matrix products', () => {
  const grid: [Shape, Shape][] = [
    [[3, 4], [4, 5]],
    [[2, 3, 4], [4, 5]],
    [[2, 1, 3, 4], [5, 4, 2]],
    [[2, 3, 4], [2, 4, 5]],
    [[4], [4, 5]],
    [[3, 4], [4]],
    [[2, 3, 4], [4]],
    [[4], [4]],
  ];
  for (const [sa, sb] of grid) {
    it(`MatMul ${JSON.stringify(sa)} @ ${JSON.stringify(sb)}`, async () => {
      await gradCheck(oneOp('MatMul', [sa, sb]));
    });
  }
  it('x·W with a weight matrix: dx is one Gemm with transB over x’s rows, no transposed copy of W', async () => {
    const b = new GraphBuilder(17);
    const x = b.input('x', D, ['n', 3, 4]);
    const w = b.constant(Float64Array.from({ length: 20 }, (_, i) => Math.sin(i + 1)), [4, 5]);
    b.output(b.op('MatMul', [x, w]), D);
    const { derived } = await gradCheck(b.model(), { shapes: { x: [2, 3, 4] } });
    const backward = derived.graph.node.filter((n) => n.name.startsWith('/grad'));
    expect(backward.filter((n) => n.opType === 'Gemm')).toHaveLength(1);
    expect(backward.filter((n) => n.opType === 'Gemm')[0].input[1]).toBe(w);
    expect(backward.some((n) => n.opType === 'Transpose' || n.opType === 'MatMul')).toBe(false);
    await gradCheck(b.model(), { shapes: { x: [1, 3, 4] } });
  });
  for (const [transA, transB, cShape] of [
    [0, 0, [5]],
    [1, 0, [3, 5]],
    [0, 1, [1, 5]],
    [1, 1, [3, 1]],
  ] as [number, number, number[]][]) {
    it(`Gemm transA=${transA} transB=${transB} C${JSON.stringify(cShape)}`, async () => {
      const a = transA ? [4, 3] : [3, 4];
      const bs = transB ? [5, 4] : [4, 5];
      await gradCheck(oneOp('Gemm', [a, bs, cShape], { transA, transB, alpha: float(0.7), beta: float(1.3) }));
    });
  }
});

describe('attention (softmax read only by a MatMul)', () => {
  /** O = softmax(s·Q·Kᵀ)·V, batched over heads, as diffusers exports attention. */
  function attention(extraReader: boolean): ModelProto {
    const b = new GraphBuilder(17);
    const q = b.input('q', D, [2, 5, 3]);
    const k = b.input('k', D, [2, 4, 3]);
    const v = b.input('v', D, [2, 4, 3]);
    const scores = b.op('Mul', [b.op('MatMul', [q, b.op('Transpose', [k], { perm: [0, 2, 1] })]), dbl(b, [0.6], [])]);
    const p = b.op('Softmax', [scores], { axis: -1 });
    b.output(b.op('MatMul', [p, v]), D);
    if (extraReader) b.output(b.op('Mul', [p, p]), D);
    return b.model();
  }
  const bigReductions = (m: ModelProto) =>
    m.graph.node.filter((n) => n.opType === 'ReduceSum' && n.name.includes('/Softmax'));

  it('sums G·O over the head dim instead of g·y over the attention map, with the same gradients', async () => {
    const { derived } = await gradCheck(attention(false));
    const sums = bigReductions(derived);
    expect(sums).toHaveLength(1);
    // The one reduction reads a product with O = y·V ([2, 5, 3]), not with the map y ([2, 5, 4]).
    const y = derived.graph.node.find((n) => n.opType === 'Softmax')!.output[0];
    const o = derived.graph.node.find((n) => n.opType === 'MatMul' && n.input[0] === y)!.output[0];
    const product = derived.graph.node.find((n) => n.output[0] === sums[0].input[0])!;
    expect(product.input).toContain(o);
    expect(product.input).not.toContain(y);
  });
  it('falls back to Σ g·y when the softmax output has another reader', async () => {
    const { derived } = await gradCheck(attention(true));
    const sums = bigReductions(derived);
    expect(sums).toHaveLength(1);
    const product = derived.graph.node.find((n) => n.output[0] === sums[0].input[0])!;
    expect(product.input).toContain(derived.graph.node.find((n) => n.opType === 'Softmax')!.output[0]);
  });
});

describe('reductions', () => {
  for (const op of ['ReduceSum', 'ReduceMean']) {
    for (const [axes, keepdims] of [
      [[1], 1],
      [[-1], 0],
      [[0, 2], 0],
      [[0, 2], 1],
      [[], 0],
    ] as [number[], number][]) {
      it(`${op} axes=${JSON.stringify(axes)} keepdims=${keepdims}`, async () => {
        const asInput = op === 'ReduceSum';
        const m = oneOp(op, [[2, 3, 4]], { keepdims, ...(asInput || axes.length === 0 ? {} : { axes }) }, {
          extra: (b) => (asInput && axes.length ? [ints(b, axes)] : []),
        });
        await gradCheck(m);
      });
    }
  }
  it('ReduceMean at opset 18 (axes as an input)', async () => {
    await gradCheck(oneOp('ReduceMean', [[2, 3, 4]], { keepdims: 1 }, { opset: 18, extra: (b) => [ints(b, [-1])] }));
  });
  it('ReduceSum at opset 11 (axes attribute)', async () => {
    await gradCheck(oneOp('ReduceSum', [[2, 3, 4]], { keepdims: 0, axes: [1] }, { opset: 11 }));
  });
});

describe('normalisation', () => {
  for (const axis of [-1, 1]) {
    it(`LayerNormalization axis=${axis} (X, Scale, B)`, async () => {
      const norm = axis === -1 ? [4] : [3, 4];
      await gradCheck(oneOp('LayerNormalization', [[2, 3, 4], norm, norm], { axis, epsilon: float(1e-5) }));
    });
  }
  it('InstanceNormalization (X, scale, B) — float32: no double kernel', async () => {
    await gradCheck(oneOp('InstanceNormalization', [[2, 3, 4, 5], [3], [3]], { epsilon: float(1e-5) }, { T: F }), {
      h: 1e-2,
      tol: 2e-2,
    });
  });
  it('GroupNorm as torch exports it (Reshape → InstanceNorm → Reshape → Mul → Add), float32', async () => {
    const b = new GraphBuilder(17);
    const x = b.input('x', F, ['n', 4, 'h', 'w']);
    const gamma = b.input('gamma', F, [4, 1, 1]);
    const beta = b.input('beta', F, [4, 1, 1]);
    const r = b.op('Reshape', [x, b.constInt64([0, 2, -1])]);
    const inorm = b.op('InstanceNormalization', [r, b.constFloat([1, 1]), b.constFloat([0, 0])], { epsilon: float(1e-5) });
    const back = b.op('Reshape', [inorm, b.op('Shape', [x])]);
    b.output(b.op('Add', [b.op('Mul', [back, gamma]), beta]), F);
    await gradCheck(b.model(), { shapes: { x: [2, 4, 3, 5] }, tol: 2e-2 });
  });
});

describe('Conv (float32: onnxruntime has no double Conv)', () => {
  const cases: { name: string; x: number[]; w: number[]; attrs: Record<string, AttrValue>; bias?: boolean }[] = [
    { name: '3×3 pad 1', x: [1, 2, 7, 7], w: [4, 2, 3, 3], attrs: { pads: [1, 1, 1, 1] }, bias: true },
    { name: '3×3 stride 2 pad 1 (odd size: needs output padding)', x: [2, 2, 8, 8], w: [3, 2, 3, 3], attrs: { pads: [1, 1, 1, 1], strides: [2, 2] } },
    { name: 'stride 2 on 7×7 (floor leaves a column untouched)', x: [1, 2, 7, 7], w: [3, 2, 2, 2], attrs: { strides: [2, 2] } },
    { name: 'dilation 2', x: [1, 2, 9, 9], w: [2, 2, 3, 3], attrs: { dilations: [2, 2], pads: [2, 2, 2, 2] } },
    { name: 'groups 2, asymmetric pads, stride 2', x: [2, 4, 8, 7], w: [6, 2, 3, 3], attrs: { group: 2, strides: [2, 2], pads: [1, 0, 0, 1] }, bias: true },
    { name: 'depthwise (group = channels)', x: [1, 3, 6, 6], w: [3, 1, 3, 3], attrs: { group: 3, pads: [1, 1, 1, 1] } },
    { name: '1×1', x: [2, 3, 4, 4], w: [5, 3, 1, 1], attrs: {}, bias: true },
    { name: '1-D, stride 3', x: [2, 2, 10], w: [3, 2, 3], attrs: { strides: [3], pads: [1, 1] } },
    { name: 'groups 2 (3 filters each), stride 1, asymmetric pads', x: [1, 4, 6, 5], w: [6, 2, 3, 3], attrs: { group: 2, pads: [1, 0, 2, 1] }, bias: true },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const shapes: Shape[] = [c.x, c.w, ...(c.bias ? [[c.w[0]]] : [])];
      await gradCheck(oneOp('Conv', shapes, c.attrs, { T: F }), { h: 1e-2, tol: 2e-2, directions: 2 });
    });
  }
  it('symbolic batch and spatial dims: one derived model serves two image sizes', async () => {
    const stride1 = oneOp('Conv', [['n', 2, 'h', 'w'], [3, 2, 3, 3]], { pads: [1, 1, 1, 1] }, { T: F });
    await gradCheck(stride1, { shapes: { a: [1, 2, 7, 9] }, h: 1e-2, tol: 2e-2, directions: 2 });
    await gradCheck(stride1, { shapes: { a: [2, 2, 6, 4] }, h: 1e-2, tol: 2e-2, directions: 2 });
    const m = oneOp('Conv', [['n', 2, 'h', 'w'], [3, 2, 3, 3]], { pads: [1, 1, 1, 1], strides: [2, 2] }, { T: F });
    await gradCheck(m, { shapes: { a: [1, 2, 7, 9] }, h: 1e-2, tol: 2e-2, directions: 2 });
    await gradCheck(m, { shapes: { a: [2, 2, 6, 4] }, h: 1e-2, tol: 2e-2, directions: 2 });
  });
});

describe('shape ops', () => {
  it('Reshape', async () => {
    await gradCheck(oneOp('Reshape', [[2, 3, 4]], {}, { extra: (b) => [ints(b, [0, -1])] }));
  });
  it('Transpose', async () => {
    await gradCheck(oneOp('Transpose', [[2, 3, 4]], { perm: [2, 0, 1] }));
    await gradCheck(oneOp('Transpose', [[2, 3, 4]]));
  });
  it('Unsqueeze / Squeeze / Flatten', async () => {
    await gradCheck(oneOp('Unsqueeze', [[2, 3]], {}, { extra: (b) => [ints(b, [0, -1])] }));
    await gradCheck(oneOp('Squeeze', [[2, 1, 3, 1]], {}, { extra: (b) => [ints(b, [1])] }));
    await gradCheck(oneOp('Flatten', [[2, 3, 4]], { axis: 2 }));
  });
  it('Expand (broadcast to a larger rank)', async () => {
    await gradCheck(oneOp('Expand', [[3, 1]], {}, { extra: (b) => [ints(b, [2, 3, 4])] }));
  });
  it('Concat of three along axis 1 and -1', async () => {
    await gradCheck(oneOp('Concat', [[2, 1, 3], [2, 2, 3], [2, 3, 3]], { axis: 1 }));
    await gradCheck(oneOp('Concat', [[2, 3, 1], [2, 3, 2]], { axis: -1 }));
  });
  it('Split with sizes, and equal split with one output unused', async () => {
    await gradCheck(oneOp('Split', [[2, 5]], { axis: 1 }, { outputs: 2, extra: (b) => [ints(b, [2, 3])] }));
    const b = new GraphBuilder(17);
    const x = b.input('x', D, [4, 6]);
    const [p, q] = b.node('Split', [x], { axis: -1 }, { outputs: 2 });
    b.output(b.op('Mul', [p, p]), D);
    void q;
    await gradCheck(b.model());
  });
  const slices: [string, number[], number[], number[], number[]][] = [
    ['step 1', [1, 0], [3, 10], [1, 2], [1, 1]],
    ['negative indices', [-3], [-1], [2], [1]],
    ['ends past the end', [1], [2 ** 62], [-1], [1]],
    ['step 2', [0, 1], [4, 4], [1, 2], [2, 2]],
    ['negative step', [-1], [-100], [2], [-2]],
  ];
  for (const [name, starts, ends, axes, steps] of slices) {
    it(`Slice ${name}`, async () => {
      await gradCheck(
        oneOp('Slice', [[2, 4, 5]], {}, { extra: (b) => [ints(b, starts), ints(b, ends), ints(b, axes), ints(b, steps)] }),
      );
    });
  }
  it('Slice with symbolic dims and runtime starts (Shape-derived)', async () => {
    const b = new GraphBuilder(17);
    const x = b.input('x', D, ['n', 'c']);
    const half = b.op('Div', [b.op('Gather', [b.op('Shape', [x]), b.constInt64([1])], { axis: 0 }), b.constInt64([2])]);
    b.output(b.op('Slice', [x, half, b.constInt64([2 ** 62]), b.constInt64([1])]), D);
    await gradCheck(b.model(), { shapes: { x: [2, 6] } });
    await gradCheck(b.model(), { shapes: { x: [3, 4] } });
  });
  it('Gather rows (axis 0), repeated and negative indices, 2-D indices, scalar index', async () => {
    const feeds = (v: number[], dims: number[]) => ({ i: new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), dims) });
    for (const [idx, dims, axis] of [
      [[3, 0, 3], [3], 0],
      [[1, -1, 0, 1], [2, 2], 1],
      [[2], [], 0],
    ] as [number[], number[], number][]) {
      const b = new GraphBuilder(17);
      const x = b.input('x', D, [5, 4]);
      const i = b.input('i', DataType.INT64, dims);
      b.output(b.op('Gather', [x, i], { axis }), D);
      await gradCheck(b.model(), { feeds: feeds(idx, dims) });
    }
  });
  it('Resize nearest ×2 (asymmetric/floor, as SD upsamples) and via sizes (half_pixel)', async () => {
    const up = oneOp('Resize', [[1, 2, 3, 4]], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, {
      T: F,
      extra: (b) => ['', b.constFloat([1, 1, 2, 2])],
    });
    await gradCheck(up, { tol: 1e-3 });
    const sized = oneOp('Resize', [[1, 2, 3, 4]], { mode: 'nearest' }, { T: F, extra: (b) => ['', '', b.constInt64([1, 2, 9, 8])] });
    await gradCheck(sized, { tol: 1e-3 });
  });
  it('Pad constant (positive and negative pads)', async () => {
    await gradCheck(oneOp('Pad', [[2, 3, 4]], { mode: 'constant' }, { extra: (b) => [ints(b, [0, 1, 2, 1, 0, -1])] }));
  });
});
