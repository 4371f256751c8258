/**
 * Static shape and type inference over a graph, as the autodiff and the surgery need it: for every
 * value its element type and rank, numeric dims where they are known and a symbol otherwise
 * (graph-input symbols such as `batch` carry through; unknown dims get fresh `?n` symbols).
 *
 * Small integer tensors that describe shapes (Shape → Gather → Concat → Reshape, as torch.onnx
 * emits them) are also tracked by value, dim by dim, so a Reshape whose target is computed at
 * runtime still gets the right rank and, often, the right dims.
 */
import { PentimentoError } from '../errors';
import { tensorNumbers } from './ModelIO';
import { DataType, dimOf, elementCount, opsetVersion, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from './onnx';
import { attrInt, attrInts, attrString, attrTensor } from './nodeAttrs';
import { SymbolicDims, type Dim } from './SymbolicDims';

export type { Dim };

export interface ValueType {
  elemType: number;
  /** undefined when even the rank is unknown. */
  shape?: Dim[];
}

const MAX_TRACKED_ELEMENTS = 64;

export function isFloatType(t: number): boolean {
  return t === DataType.FLOAT || t === DataType.DOUBLE || t === DataType.FLOAT16 || t === DataType.BFLOAT16;
}

/** Numbers of a small constant tensor (Constant value or initializer); undefined for large or external ones. */
export function constantNumbers(t: TensorProto, dir?: string): number[] | undefined {
  if (elementCount(t.dims.map(Number)) > MAX_TRACKED_ELEMENTS) return undefined;
  if (t.dataLocation === 1 && !dir) return undefined;
  if (t.dataType === DataType.FLOAT16 || t.dataType === DataType.BFLOAT16 || t.dataType === DataType.STRING) return undefined;
  return tensorNumbers(t, dir ?? '.');
}

/** The tensor a Constant node holds, whichever of its value attributes carries it. */
export function constantNodeTensor(node: NodeProto): TensorProto | undefined {
  const t = attrTensor(node, 'value');
  if (t) return t;
  const a = node.attribute[0];
  if (!a) return undefined;
  switch (a.name) {
    case 'value_float':
      return { name: '', dims: [], dataType: DataType.FLOAT, floatData: [Number(a.f)] };
    case 'value_floats':
      return { name: '', dims: [a.floats?.length ?? 0], dataType: DataType.FLOAT, floatData: (a.floats ?? []).map(Number) };
    case 'value_int':
      return { name: '', dims: [], dataType: DataType.INT64, int64Data: [Number(a.i)] };
    case 'value_ints':
      return { name: '', dims: [a.ints?.length ?? 0], dataType: DataType.INT64, int64Data: (a.ints ?? []).map(Number) };
    default:
      return undefined;
  }
}

export class ShapeInfo {
  readonly types = new Map<string, ValueType>();
  /** Values of small integer/float tensors known statically (dims of shape tensors may be symbols). */
  readonly values = new Map<string, Dim[]>();
  readonly dims = new SymbolicDims();

  constructor(readonly opset: number) {}

  freshDim(): string {
    return this.dims.freshDim();
  }

  /** True when two dims are known to be equal at runtime (same number, symbol or derivation). */
  sameDim(a: Dim, b: Dim): boolean {
    return this.dims.same(a, b);
  }

  sameShape(a: readonly Dim[] | undefined, b: readonly Dim[] | undefined): boolean {
    return !!a && !!b && a.length === b.length && a.every((d, i) => this.dims.same(d, b[i]));
  }

  type(name: string): ValueType | undefined {
    return this.types.get(name);
  }

  elemType(name: string): number {
    return this.types.get(name)?.elemType ?? DataType.UNDEFINED;
  }

  shape(name: string): Dim[] | undefined {
    return this.types.get(name)?.shape;
  }

  rank(name: string): number | undefined {
    return this.types.get(name)?.shape?.length;
  }

  /** The rank, or a BAD_MODEL error naming the value and who needed it. */
  requireRank(name: string, why: string): number {
    const r = this.rank(name);
    if (r === undefined) {
      throw new PentimentoError('BAD_MODEL', `cannot infer the rank of '${name}' (needed by ${why}); add value_info for it or export with static ranks`);
    }
    return r;
  }

  /** Statically known numbers of a value (all dims numeric), else undefined. */
  numbers(name: string): number[] | undefined {
    const v = this.values.get(name);
    return v && v.every((d) => typeof d === 'number') ? (v as number[]) : undefined;
  }
}

function broadcastDim(info: ShapeInfo, a: Dim, b: Dim): Dim {
  return info.dims.broadcast(a, b);
}

export function broadcastShapes(info: ShapeInfo, shapes: (Dim[] | undefined)[]): Dim[] | undefined {
  if (shapes.some((s) => s === undefined)) return undefined;
  const rank = Math.max(...shapes.map((s) => s!.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const k = i - (rank - s!.length);
      if (k >= 0) d = broadcastDim(info, d, s![k]);
    }
    out.push(d);
  }
  return out;
}

const normAxis = (a: number, rank: number) => (a < 0 ? a + rank : a);

function arith(op: string, a: Dim, b: Dim, info: ShapeInfo): Dim {
  return info.dims.arith(op as 'Add' | 'Sub' | 'Mul' | 'Div', a, b);
}

/** Clamped slice bounds along one dim (ONNX Slice semantics), or undefined if not static. */
export function sliceLength(dim: Dim, start: number, end: number, step: number): number | undefined {
  if (typeof dim !== 'number') {
    // A slice from a non-negative start to "the end" keeps a symbolic length only if it starts at 0.
    return undefined;
  }
  const [s, e] = sliceBounds(dim, start, end, step);
  return Math.max(0, Math.ceil((e - s) / step));
}

export function sliceBounds(dim: number, start: number, end: number, step: number): [number, number] {
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
  } else {
    s = Math.min(Math.max(s, 0), dim - 1);
    e = Math.min(Math.max(e, -1), dim - 1);
  }
  return [s, e];
}

/** Spatial output size of a Conv along one axis. */
function convOut(inp: Dim, k: number, s: number, d: number, pb: number, pe: number, info: ShapeInfo): Dim {
  return info.dims.convOut(inp, k, s, d, pb, pe);
}

export function inferShapes(model: ModelProto, dir?: string): ShapeInfo {
  const g = model.graph;
  const info = new ShapeInfo(opsetVersion(model));
  const set = (name: string, elemType: number, shape: Dim[] | undefined) => {
    if (name) info.types.set(name, { elemType, shape });
  };
  const dimsOf = (v: ValueInfoProto) =>
    v.type?.tensorType?.shape?.dim?.map((d) => {
      const dim = dimOf(d);
      return dim === '?' ? info.freshDim() : dim;
    });

  for (const t of g.initializer) {
    set(t.name, t.dataType, t.dims.map(Number));
    const nums = constantNumbers(t, dir);
    if (nums) info.values.set(t.name, nums);
  }
  for (const v of g.input) {
    if (info.types.has(v.name)) continue;
    set(v.name, v.type?.tensorType?.elemType ?? 0, dimsOf(v));
  }
  const declared = new Map<string, ValueType>();
  for (const v of [...g.valueInfo, ...g.output]) {
    declared.set(v.name, { elemType: v.type?.tensorType?.elemType ?? 0, shape: dimsOf(v) });
  }

  for (const node of g.node) {
    inferNode(info, node);
    // Fill gaps from the model's own value_info (exporters often annotate what we cannot infer).
    for (const o of node.output) {
      const d = declared.get(o);
      const t = info.types.get(o);
      if (!d) continue;
      if (!t) info.types.set(o, d);
      else {
        if (!t.elemType) t.elemType = d.elemType;
        if (!t.shape && d.shape) t.shape = d.shape;
        else if (t.shape && d.shape && t.shape.length === d.shape.length) {
          t.shape = t.shape.map((x, i) => (typeof x === 'string' && typeof d.shape![i] === 'number' ? d.shape![i] : x));
        }
      }
    }
  }
  return info;
}

/** Adds the types of one node's outputs to `info` (also used for nodes the autodiff emits). */
export function inferNode(info: ShapeInfo, node: NodeProto): void {
  const ins = node.input;
  const T = (i: number) => (ins[i] ? info.type(ins[i]) : undefined);
  const S = (i: number) => T(i)?.shape;
  const E = (i: number) => T(i)?.elemType ?? DataType.UNDEFINED;
  const V = (i: number) => (ins[i] ? info.values.get(ins[i]) : undefined);
  const N = (i: number) => (ins[i] ? info.numbers(ins[i]) : undefined);
  const out = node.output[0];
  const set = (name: string | undefined, elemType: number, shape: Dim[] | undefined, value?: Dim[]) => {
    if (!name) return;
    info.types.set(name, { elemType, shape });
    if (value && value.length <= MAX_TRACKED_ELEMENTS) info.values.set(name, value);
  };
  const opset = info.opset;

  switch (node.opType) {
    case 'Constant': {
      const t = constantNodeTensor(node);
      if (t) set(out, t.dataType, t.dims.map(Number), constantNumbers(t));
      return;
    }
    case 'Identity':
    case 'Neg':
    case 'Abs':
    case 'Relu':
    case 'LeakyRelu':
    case 'Sigmoid':
    case 'Tanh':
    case 'Exp':
    case 'Log':
    case 'Sqrt':
    case 'Erf':
    case 'Softmax':
    case 'LogSoftmax':
    case 'Floor':
    case 'Ceil':
    case 'Round':
    case 'Reciprocal':
    case 'Sin':
    case 'Cos':
    case 'Sign':
    case 'Not':
    case 'Clip':
    case 'Gelu':
    case 'Elu':
    case 'Softplus':
    case 'HardSigmoid':
    case 'Dropout':
    case 'CumSum':
    case 'Trilu':
    case 'Hardmax':
    case 'Selu':
    case 'Softsign':
    case 'Mish':
    case 'HardSwish': {
      const v = V(0);
      set(out, E(0), S(0), node.opType === 'Identity' || node.opType === 'Neg' ? (node.opType === 'Neg' && v ? v.map((d) => (typeof d === 'number' ? -d : info.freshDim())) : v) : undefined);
      if (node.opType === 'Dropout' && node.output[1]) set(node.output[1], DataType.BOOL, S(0));
      return;
    }
    case 'IsNaN':
    case 'IsInf':
      set(out, DataType.BOOL, S(0));
      return;
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div':
    case 'Pow':
    case 'Max':
    case 'Min':
    case 'Sum':
    case 'Mean':
    case 'Mod': {
      const shape = broadcastShapes(info, ins.map((_, i) => S(i)));
      let value: Dim[] | undefined;
      const a = V(0);
      const b = V(1);
      if (a && b && ins.length === 2 && ['Add', 'Sub', 'Mul', 'Div'].includes(node.opType) && !isFloatType(E(0))) {
        const n = Math.max(a.length, b.length);
        if ((a.length === n || a.length === 1) && (b.length === n || b.length === 1)) {
          value = Array.from({ length: n }, (_, i) => arith(node.opType, a[a.length === 1 ? 0 : i], b[b.length === 1 ? 0 : i], info));
        }
      }
      set(out, E(0), shape, value);
      return;
    }
    case 'Equal':
    case 'Less':
    case 'Greater':
    case 'LessOrEqual':
    case 'GreaterOrEqual':
    case 'And':
    case 'Or':
    case 'Xor':
      set(out, DataType.BOOL, broadcastShapes(info, [S(0), S(1)]));
      return;
    case 'Where':
      set(out, E(1), broadcastShapes(info, [S(0), S(1), S(2)]));
      return;
    case 'Cast': {
      const to = attrInt(node, 'to', DataType.FLOAT);
      set(out, to, S(0), !isFloatType(to) ? V(0) : undefined);
      return;
    }
    case 'CastLike':
      set(out, E(1), S(0), !isFloatType(E(1)) ? V(0) : undefined);
      return;
    case 'Shape': {
      const s = S(0);
      if (!s) {
        set(out, DataType.INT64, [info.freshDim()]);
        return;
      }
      let start = attrInt(node, 'start', 0);
      let end = attrInt(node, 'end', s.length);
      start = Math.min(Math.max(normAxis(start, s.length), 0), s.length);
      end = Math.min(Math.max(normAxis(end, s.length), 0), s.length);
      const v = s.slice(start, Math.max(start, end));
      set(out, DataType.INT64, [v.length], v);
      return;
    }
    case 'Size': {
      const s = S(0);
      const n = s && s.every((d) => typeof d === 'number') ? [elementCount(s as number[])] : undefined;
      set(out, DataType.INT64, [], n);
      return;
    }
    case 'ConstantOfShape': {
      const t = attrTensor(node, 'value');
      const v = V(0);
      const rank = S(0)?.[0];
      const shape = v ?? (typeof rank === 'number' ? Array.from({ length: rank }, () => info.freshDim()) : undefined);
      let value: Dim[] | undefined;
      if (v && v.every((d) => typeof d === 'number') && elementCount(v as number[]) <= MAX_TRACKED_ELEMENTS && t) {
        const fill = constantNumbers(t)?.[0] ?? 0;
        value = Array.from({ length: elementCount(v as number[]) }, () => fill);
      }
      set(out, t?.dataType ?? DataType.FLOAT, shape, value);
      return;
    }
    case 'Range': {
      const [s, l, d] = [N(0), N(1), N(2)];
      if (s && l && d) {
        const n = Math.max(Math.ceil((l[0] - s[0]) / d[0]), 0);
        const vals = Array.from({ length: n }, (_, i) => s[0] + i * d[0]);
        set(out, E(0), [n], isFloatType(E(0)) ? undefined : vals);
      } else set(out, E(0), [info.freshDim()]);
      return;
    }
    case 'NonZero': {
      const r = S(0)?.length;
      set(out, DataType.INT64, r !== undefined ? [r, info.freshDim()] : undefined);
      return;
    }
    case 'MatMul': {
      const a = S(0);
      const b = S(1);
      if (!a || !b) return set(out, E(0), undefined);
      const a2 = a.length === 1 ? [1, a[0]] : a;
      const b2 = b.length === 1 ? [b[0], 1] : b;
      const batch = broadcastShapes(info, [a2.slice(0, -2), b2.slice(0, -2)])!;
      info.dims.unify(a2[a2.length - 1], b2[b2.length - 2]);
      const shape = [...batch, ...(a.length === 1 ? [] : [a2[a2.length - 2]]), ...(b.length === 1 ? [] : [b2[b2.length - 1]])];
      set(out, E(0), shape);
      return;
    }
    case 'Gemm': {
      const a = S(0);
      const b = S(1);
      const m = a ? (attrInt(node, 'transA', 0) ? a[1] : a[0]) : info.freshDim();
      if (a && b) info.dims.unify(attrInt(node, 'transA', 0) ? a[0] : a[1], attrInt(node, 'transB', 0) ? b[1] : b[0]);
      const n = b ? (attrInt(node, 'transB', 0) ? b[0] : b[1]) : info.freshDim();
      set(out, E(0), [m, n]);
      return;
    }
    case 'Conv': {
      const x = S(0);
      const w = S(1);
      if (!x || !w) return set(out, E(0), x ? x.map(() => info.freshDim()) : undefined);
      const sp = x.length - 2;
      const k = attrInts(node, 'kernel_shape') ?? (w.slice(2) as number[]);
      if (typeof w[1] === 'number') info.dims.unify(x[1], w[1] * attrInt(node, 'group', 1));
      const strides = attrInts(node, 'strides') ?? Array(sp).fill(1);
      const dil = attrInts(node, 'dilations') ?? Array(sp).fill(1);
      const pads = attrInts(node, 'pads') ?? Array(2 * sp).fill(0);
      const autoPad = attrString(node, 'auto_pad', 'NOTSET');
      const spatial = x.slice(2).map((d, i) => {
        if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return typeof d === 'number' ? Math.ceil(d / strides[i]) : info.freshDim();
        if (typeof k[i] !== 'number') return info.freshDim();
        return convOut(d, k[i], strides[i], dil[i], pads[i], pads[i + sp], info);
      });
      set(out, E(0), [x[0], w[0], ...spatial]);
      return;
    }
    case 'ConvTranspose': {
      const x = S(0);
      const w = S(1);
      if (!x || !w) return set(out, E(0), x ? x.map(() => info.freshDim()) : undefined);
      const group = attrInt(node, 'group', 1);
      const c = typeof w[1] === 'number' ? w[1] * group : info.freshDim();
      const sp = x.length - 2;
      const k = attrInts(node, 'kernel_shape') ?? (w.slice(2) as Dim[]);
      const strides = attrInts(node, 'strides') ?? Array(sp).fill(1);
      const dil = attrInts(node, 'dilations') ?? Array(sp).fill(1);
      const pads = attrInts(node, 'pads') ?? Array(2 * sp).fill(0);
      const outPad = attrInts(node, 'output_padding') ?? Array(sp).fill(0);
      const plain = !attrInts(node, 'output_shape') && attrString(node, 'auto_pad', 'NOTSET') === 'NOTSET';
      // s·(i − 1) + output_padding + dil·(k − 1) + 1 − pb − pe
      const spatial = x.slice(2).map((d, i) => {
        if (!plain || typeof k[i] !== 'number') return info.freshDim();
        const extra = outPad[i] + dil[i] * ((k[i] as number) - 1) + 1 - pads[i] - pads[i + sp];
        if (strides[i] === 1) return info.dims.arith('Add', d, extra - 1);
        return info.dims.arith('Add', info.dims.arith('Mul', strides[i], info.dims.arith('Sub', d, 1)), extra);
      });
      set(out, E(0), [x[0], c, ...spatial]);
      return;
    }
    case 'ReduceSum':
    case 'ReduceMean':
    case 'ReduceMax':
    case 'ReduceMin':
    case 'ReduceProd':
    case 'ReduceL2':
    case 'ReduceSumSquare': {
      const x = S(0);
      const keep = attrInt(node, 'keepdims', 1);
      const axesFromInput = node.opType === 'ReduceSum' ? opset >= 13 : opset >= 18;
      const axes = axesFromInput ? (ins[1] ? N(1) : []) : attrInts(node, 'axes') ?? [];
      if (!x) return set(out, E(0), undefined);
      if (axes === undefined) {
        return set(out, E(0), keep ? x.map(() => info.freshDim()) : undefined);
      }
      const noop = attrInt(node, 'noop_with_empty_axes', 0);
      const all = axes.length === 0 && !noop;
      const ax = new Set(all ? x.map((_, i) => i) : axes.map((a) => normAxis(a, x.length)));
      const shape: Dim[] = [];
      x.forEach((d, i) => {
        if (!ax.has(i)) shape.push(d);
        else if (keep) shape.push(1);
      });
      set(out, E(0), shape);
      return;
    }
    case 'ArgMax':
    case 'ArgMin': {
      const x = S(0);
      if (!x) return set(out, DataType.INT64, undefined);
      const axis = normAxis(attrInt(node, 'axis', 0), x.length);
      const keep = attrInt(node, 'keepdims', 1);
      set(out, DataType.INT64, keep ? x.map((d, i) => (i === axis ? 1 : d)) : x.filter((_, i) => i !== axis));
      return;
    }
    case 'Reshape': {
      const x = S(0);
      const target = V(1);
      const tlen = S(1)?.[0];
      if (!target) {
        return set(out, E(0), typeof tlen === 'number' ? Array.from({ length: tlen }, () => info.freshDim()) : undefined);
      }
      const allowZero = attrInt(node, 'allowzero', 0);
      const shape: Dim[] = target.map((d, i) => (d === 0 && !allowZero && x ? x[i] : d));
      const neg = shape.indexOf(-1);
      if (neg >= 0) {
        const known = shape.filter((_, i) => i !== neg);
        // Element count of x over the known dims, as monomials (B·H·W·C / (B·C) = H·W).
        shape[neg] = (x ? info.dims.quotient(info.dims.product(x), info.dims.product(known)) : undefined) ?? info.freshDim();
      }
      set(out, E(0), shape, V(0));
      return;
    }
    case 'Flatten': {
      const x = S(0);
      if (!x) return set(out, E(0), [info.freshDim(), info.freshDim()]);
      const axis = normAxis(attrInt(node, 'axis', 1), x.length);
      const prod = (ds: Dim[]) => info.dims.product(ds);
      set(out, E(0), [prod(x.slice(0, axis)), prod(x.slice(axis))]);
      return;
    }
    case 'Transpose': {
      const x = S(0);
      if (!x) return set(out, E(0), undefined);
      const perm = attrInts(node, 'perm') ?? x.map((_, i) => x.length - 1 - i);
      set(out, E(0), perm.map((p) => x[p]));
      return;
    }
    case 'Unsqueeze': {
      const x = S(0);
      const axes = opset >= 13 ? N(1) : attrInts(node, 'axes');
      if (!x || !axes) return set(out, E(0), undefined);
      const r = x.length + axes.length;
      const ax = new Set(axes.map((a) => normAxis(a, r)));
      const shape: Dim[] = [];
      let k = 0;
      for (let i = 0; i < r; i++) shape.push(ax.has(i) ? 1 : x[k++]);
      set(out, E(0), shape, V(0));
      return;
    }
    case 'Squeeze': {
      const x = S(0);
      const axes = opset >= 13 ? (ins[1] ? N(1) : []) : attrInts(node, 'axes') ?? [];
      if (!x || !axes) return set(out, E(0), undefined);
      const ax = new Set(axes.length ? axes.map((a) => normAxis(a, x.length)) : x.flatMap((d, i) => (d === 1 ? [i] : [])));
      set(out, E(0), x.filter((_, i) => !ax.has(i)), V(0));
      return;
    }
    case 'Concat': {
      const shapes = ins.map((_, i) => S(i));
      const first = shapes.find((s) => s);
      if (!first) return set(out, E(0), undefined);
      const axis = normAxis(attrInt(node, 'axis', 0), first.length);
      const shape = [...first];
      let total: Dim = 0;
      for (const s of shapes) {
        const d = s ? s[axis] : info.freshDim();
        total = info.dims.arith('Add', total, d);
        // Concatenated tensors agree on every other axis.
        if (s && s.length === first.length) s.forEach((x, i) => i !== axis && info.dims.unify(x, first[i]));
      }
      shape[axis] = total;
      const vals = ins.map((_, i) => V(i));
      set(out, E(0), shape, first.length === 1 && vals.every((v) => v) ? vals.flatMap((v) => v!) : undefined);
      return;
    }
    case 'Split': {
      const x = S(0);
      if (!x) {
        node.output.forEach((o) => set(o, E(0), undefined));
        return;
      }
      const axis = normAxis(attrInt(node, 'axis', 0), x.length);
      const sizes = opset >= 13 ? (ins[1] ? N(1) : undefined) : attrInts(node, 'split');
      const n = node.output.length;
      node.output.forEach((o, i) => {
        const shape = [...x];
        if (sizes) shape[axis] = sizes[i];
        else if (typeof x[axis] === 'number') shape[axis] = Math.ceil((x[axis] as number) / n);
        else shape[axis] = info.dims.quotient(x[axis], n) ?? info.freshDim();
        set(o, E(0), shape);
      });
      return;
    }
    case 'Slice': {
      const x = S(0);
      if (!x) return set(out, E(0), undefined);
      const starts = opset >= 10 ? N(1) : attrInts(node, 'starts');
      const ends = opset >= 10 ? N(2) : attrInts(node, 'ends');
      const axes = (opset >= 10 ? (ins[3] ? N(3) : undefined) : attrInts(node, 'axes')) ?? starts?.map((_, i) => i);
      const steps = (opset >= 10 && ins[4] ? N(4) : undefined) ?? starts?.map(() => 1);
      if (!starts || !ends || !axes || !steps) {
        const fixed = opset >= 10 && ins[3] ? N(3) : undefined;
        const touched = new Set((fixed ?? x.map((_, i) => i)).map((a) => normAxis(a, x.length)));
        return set(out, E(0), x.map((d, i) => (touched.has(i) ? info.freshDim() : d)));
      }
      const shape = [...x];
      axes.forEach((a, i) => {
        const ax = normAxis(a, x.length);
        const n = sliceLength(x[ax], starts[i], ends[i], steps[i]);
        if (n !== undefined) shape[ax] = n;
        else if (starts[i] === 0 && steps[i] === 1 && ends[i] >= 2 ** 31) shape[ax] = x[ax];
        else shape[ax] = info.dims.intern(`slice(${info.dims.canon(x[ax])};${starts[i]},${ends[i]},${steps[i]})`);
      });
      let value: Dim[] | undefined;
      const v = V(0);
      if (v && x.length === 1 && typeof x[0] === 'number') {
        const [s, e] = sliceBounds(x[0], starts[0], ends[0], steps[0]);
        value = [];
        for (let i = s; steps[0] > 0 ? i < e : i > e; i += steps[0]) value.push(v[i]);
      }
      set(out, E(0), shape, value);
      return;
    }
    case 'Gather': {
      const x = S(0);
      const idx = S(1);
      if (!x || !idx) return set(out, E(0), undefined);
      const axis = normAxis(attrInt(node, 'axis', 0), x.length);
      const shape = [...x.slice(0, axis), ...idx, ...x.slice(axis + 1)];
      let value: Dim[] | undefined;
      const v = V(0);
      const iv = N(1);
      if (v && iv && x.length === 1) value = iv.map((i) => v[i < 0 ? i + v.length : i]);
      set(out, E(0), shape, value);
      return;
    }
    case 'GatherElements':
      set(out, E(0), S(1));
      return;
    case 'GatherND': {
      const x = S(0);
      const idx = S(1);
      const last = idx?.[idx.length - 1];
      const b = attrInt(node, 'batch_dims', 0);
      if (!x || !idx || typeof last !== 'number') return set(out, E(0), undefined);
      set(out, E(0), [...idx.slice(0, -1), ...x.slice(b + last)]);
      return;
    }
    case 'Expand': {
      const target = V(1);
      const tlen = S(1)?.[0];
      const shape = target ?? (typeof tlen === 'number' ? Array.from({ length: tlen }, () => info.freshDim()) : undefined);
      set(out, E(0), shape ? broadcastShapes(info, [S(0), shape]) : undefined);
      return;
    }
    case 'Tile': {
      const x = S(0);
      const reps = N(1);
      set(out, E(0), x ? x.map((d, i) => (reps ? info.dims.product([d, reps[i]]) : info.freshDim())) : undefined);
      return;
    }
    case 'Resize':
    case 'Upsample': {
      const x = S(0);
      if (!x) return set(out, E(0), undefined);
      const scales = node.opType === 'Upsample' ? N(1) : opset >= 11 ? (ins[2] ? info.numbers(ins[2]) : undefined) : N(1);
      const sizes = opset >= 11 && ins[3] ? V(3) : undefined;
      if (sizes) return set(out, E(0), sizes);
      const scaled = (d: Dim, f: number) =>
        typeof d === 'number' ? Math.floor(d * f) : Number.isInteger(f) ? info.dims.product([d, f]) : info.dims.intern(`scale(${d};${f})`);
      set(out, E(0), x.map((d, i) => (scales ? scaled(d, scales[i]) : info.freshDim())));
      return;
    }
    case 'Pad': {
      const x = S(0);
      if (!x) return set(out, E(0), undefined);
      const pads = opset >= 11 ? N(1) : attrInts(node, 'pads');
      const axes = opset >= 18 && ins[3] ? N(3) : x.map((_, i) => i);
      if (!pads || !axes) return set(out, E(0), x.map(() => info.freshDim()));
      const shape = [...x];
      axes.forEach((a, i) => {
        const ax = normAxis(a, x.length);
        const d = x[ax];
        const p = pads[i] + pads[i + axes.length];
        shape[ax] = info.dims.arith('Add', d, p);
      });
      set(out, E(0), shape);
      return;
    }
    case 'LayerNormalization': {
      const x = S(0);
      set(out, E(0), x);
      if (x) {
        const axis = normAxis(attrInt(node, 'axis', -1), x.length);
        const stat = x.map((d, i) => (i < axis ? d : 1));
        const st = attrInt(node, 'stash_type', 1);
        set(node.output[1], st, stat);
        set(node.output[2], st, stat);
      }
      return;
    }
    case 'InstanceNormalization':
    case 'BatchNormalization':
    case 'GroupNormalization':
      set(out, E(0), S(0));
      return;
    case 'Einsum':
    case 'TopK':
    default:
      // Unknown ops get unknown outputs; only the passes that need them complain.
      for (const o of node.output) if (o && !info.types.has(o)) set(o, DataType.UNDEFINED, undefined);
  }
}

