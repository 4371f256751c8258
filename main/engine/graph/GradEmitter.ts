/**
 * Appends standard-ONNX nodes to a graph under construction (the backward pass, or a surgery pass),
 * keeping shape inference current for every value it creates so later rules can ask for ranks
 * and static dims. Opset differences (axes as attribute or input) live here, once.
 */
import { PentimentoError } from '../errors';
import { makeAttribute, type AttrValue } from './GraphBuilder';
import { toFloat16 } from './fp16';
import { DataType, type NodeProto, type TensorProto } from './onnx';
import { inferNode, isFloatType, type Dim, type ShapeInfo } from './shapeInference';
import { makeTensor } from './tensorProto';

/** A one-element (or dims-shaped) tensor of `elemType` holding `values`. */
export function typedTensor(values: readonly number[], elemType: number, dims: readonly number[]): TensorProto {
  switch (elemType) {
    case DataType.FLOAT:
      return makeTensor('', Float32Array.from(values), dims);
    case DataType.DOUBLE:
      return makeTensor('', Float64Array.from(values), dims);
    case DataType.FLOAT16:
      return makeTensor('', toFloat16(values), dims, DataType.FLOAT16);
    case DataType.INT64:
      return makeTensor('', BigInt64Array.from(values.map((v) => BigInt(v))), dims);
    case DataType.INT32:
      return makeTensor('', Int32Array.from(values), dims);
    case DataType.BOOL:
      return makeTensor('', Uint8Array.from(values), dims, DataType.BOOL);
    default:
      throw new PentimentoError('UNSUPPORTED_OP', `cannot make a constant of element type ${elemType}`);
  }
}

export class GradEmitter {
  readonly nodes: NodeProto[] = [];
  /** Prefix for node names (the forward node a rule is differentiating). */
  scope = '/grad';
  private readonly counters = new Map<string, number>();
  private readonly shapeMemo = new Map<string, string>();

  constructor(
    readonly info: ShapeInfo,
    private readonly usedNames: Set<string>,
  ) {}

  get opset(): number {
    return this.info.opset;
  }

  private uniqueName(base: string): string {
    let n = this.counters.get(base) ?? 0;
    let name = n === 0 ? base : `${base}_${n}`;
    while (this.usedNames.has(name) || this.usedNames.has(`${name}_output_0`)) name = `${base}_${++n}`;
    this.counters.set(base, n + 1);
    this.usedNames.add(name);
    return name;
  }

  /** A fresh value name under the current scope (for outputs added to an existing node). */
  valueName(base: string): string {
    const name = this.uniqueName(`${this.scope}/${base}`);
    return name;
  }

  /** Adds a node and returns its output names. */
  node(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue | undefined> = {}, outputs = 1): string[] {
    const name = this.uniqueName(`${this.scope}/${opType}`);
    const outs = Array.from({ length: outputs }, (_, i) => `${name}_output_${i}`);
    outs.forEach((o) => this.usedNames.add(o));
    const attribute = Object.entries(attrs)
      .filter((e): e is [string, AttrValue] => e[1] !== undefined)
      .map(([k, v]) => makeAttribute(k, v));
    const node: NodeProto = { name, opType, input: [...inputs], output: outs, attribute };
    this.nodes.push(node);
    inferNode(this.info, node);
    return outs;
  }

  op(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue | undefined> = {}): string {
    return this.node(opType, inputs, attrs)[0];
  }

  elemType(x: string): number {
    return this.info.elemType(x);
  }

  rank(x: string, why = 'the backward pass'): number {
    return this.info.requireRank(x, why);
  }

  shape(x: string): Dim[] | undefined {
    return this.info.shape(x);
  }

  constant(values: readonly number[], elemType: number, dims: readonly number[] = [values.length]): string {
    return this.op('Constant', [], { value: typedTensor(values, elemType, dims) });
  }

  /** A scalar of the same element type as `like`. */
  scalar(v: number, like: string): string {
    return this.constant([v], this.elemType(like), []);
  }

  ints(values: readonly number[]): string {
    return this.constant(values, DataType.INT64, [values.length]);
  }

  /**
   * Shape(x) as a runtime tensor. Values whose dims are all known equal share one Shape node, so
   * the backward pass asks for each distinct shape once rather than once per value.
   */
  shapeOf(x: string): string {
    const key = this.shapeKey(x);
    let s = this.shapeMemo.get(key);
    if (!s) {
      s = this.op('Shape', [x]);
      this.shapeMemo.set(key, s);
    }
    return s;
  }

  /** Lets shapeOf reuse an existing full Shape node of the graph (the forward pass's own). */
  knowShape(x: string, shapeValue: string): void {
    const key = this.shapeKey(x);
    if (!this.shapeMemo.has(key)) this.shapeMemo.set(key, shapeValue);
  }

  private shapeKey(x: string): string {
    const s = this.shape(x);
    return s ? `[${s.map((d) => String(this.info.dims.canon(d))).join(',')}]` : `of ${x}`;
  }

  /** Dim `axis` of x as a 1-element int64 tensor: a constant when static, else Shape→Gather. */
  dim(x: string, axis: number): string {
    const d = this.shape(x)?.[axis];
    if (typeof d === 'number') return this.ints([d]);
    return this.op('Gather', [this.shapeOf(x), this.ints([axis])], { axis: 0 });
  }

  /** Dims [start, end) of x's shape as a 1-D int64 tensor. */
  dims(x: string, start: number, end: number): string {
    const s = this.shape(x)?.slice(start, end);
    if (s && s.every((d) => typeof d === 'number')) return this.ints(s as number[]);
    return this.op('Slice', [this.shapeOf(x), this.ints([start]), this.ints([end]), this.ints([0])]);
  }

  concatInts(parts: string[]): string {
    return parts.length === 1 ? parts[0] : this.op('Concat', parts, { axis: 0 });
  }

  zerosLike(x: string): string {
    return this.op('ConstantOfShape', [this.shapeOf(x)], { value: typedTensor([0], this.elemType(x), [1]) });
  }

  cast(x: string, to: number): string {
    return this.elemType(x) === to ? x : this.op('Cast', [x], { to });
  }

  /** Reshape to x's runtime shape (shape-only ops' gradients). */
  reshapeLike(g: string, x: string): string {
    if (this.info.sameShape(this.shape(g), this.shape(x))) return g;
    return this.op('Reshape', [g, this.shapeOf(x)]);
  }

  reshape(x: string, shape: string): string {
    return this.op('Reshape', [x, shape]);
  }

  transpose(x: string, perm: number[]): string {
    if (perm.every((p, i) => p === i)) return x;
    return this.op('Transpose', [x], { perm });
  }

  /** Swaps the last two axes (matrix transpose of a batched matrix). */
  transposeLast2(x: string): string {
    const r = this.rank(x, 'a MatMul gradient');
    const perm = Array.from({ length: r }, (_, i) => i);
    [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
    return this.transpose(x, perm);
  }

  unsqueeze(x: string, axes: number[]): string {
    if (axes.length === 0) return x;
    return this.opset >= 13 ? this.op('Unsqueeze', [x, this.ints(axes)]) : this.op('Unsqueeze', [x], { axes });
  }

  squeeze(x: string, axes: number[]): string {
    if (axes.length === 0) return x;
    return this.opset >= 13 ? this.op('Squeeze', [x, this.ints(axes)]) : this.op('Squeeze', [x], { axes });
  }

  /** ReduceSum over static axes (axes input from opset 13). Empty axes: x unchanged. */
  reduceSum(x: string, axes: number[], keepdims: boolean): string {
    if (axes.length === 0) return x;
    return this.opset >= 13
      ? this.op('ReduceSum', [x, this.ints(axes)], { keepdims: keepdims ? 1 : 0 })
      : this.op('ReduceSum', [x], { axes, keepdims: keepdims ? 1 : 0 });
  }

  /** ReduceMean over static axes (axes attribute until opset 17, input from 18). */
  reduceMean(x: string, axes: number[], keepdims: boolean): string {
    if (axes.length === 0) return x;
    return this.opset >= 18
      ? this.op('ReduceMean', [x, this.ints(axes)], { keepdims: keepdims ? 1 : 0 })
      : this.op('ReduceMean', [x], { axes, keepdims: keepdims ? 1 : 0 });
  }

  mul(a: string, b: string): string {
    return this.op('Mul', [a, b]);
  }

  add(a: string, b: string): string {
    return this.op('Add', [a, b]);
  }

  sub(a: string, b: string): string {
    return this.op('Sub', [a, b]);
  }

  div(a: string, b: string): string {
    return this.op('Div', [a, b]);
  }

  neg(a: string): string {
    return this.op('Neg', [a]);
  }

  /**
   * The broadcast reduction, in one place: sums gradient `g` (shaped like a broadcast result)
   * down to the shape of `x`, the input it flows to. Leading extra axes are summed away; then
   * every axis where x's dim is 1 and g's is not. Dims known equal (same number, symbol or
   * derivation, see SymbolicDims) need nothing; x's static 1s against anything are summed
   * statically. An axis where x's symbolic dim may or may not be 1 is decided at runtime without
   * data-dependent shapes: a valid broadcast has x_i ∈ {1, g_i}, so g's axis viewed as
   * [x_i, g_i / x_i] and summed over the second factor is the sum when x_i = 1 and a no-op when
   * x_i = g_i. The same graph thus serves every batch and image size.
   */
  reduceToShape(g: string, x: string): string {
    const gr = this.rank(g, 'broadcast reduction');
    const xr = this.rank(x, 'broadcast reduction');
    let out = g;
    if (gr > xr) out = this.reduceSum(out, Array.from({ length: gr - xr }, (_, i) => i), false);
    const gs = this.shape(out)!;
    const xs = this.shape(x)!;
    const staticAxes: number[] = [];
    const dynamicAxes: number[] = [];
    for (let i = 0; i < xr; i++) {
      const xd = this.info.dims.canon(xs[i]);
      const gd = this.info.dims.canon(gs[i]);
      if (xd === gd) continue;
      if (xd === 1) staticAxes.push(i);
      else if (typeof xd === 'number') continue; // x's dim > 1 is static: broadcasting cannot have happened here
      else dynamicAxes.push(i);
    }
    if (staticAxes.length) out = this.reduceSum(out, staticAxes, true);
    if (dynamicAxes.length) out = this.foldAxes(out, x, dynamicAxes);
    return out;
  }

  /** Sums g's `axes` where x's dim is 1 at runtime (x_i ∈ {1, g_i} on those axes, x_i = g_i elsewhere). */
  private foldAxes(g: string, x: string, axes: number[]): string {
    const xr = this.rank(x);
    const parts: string[] = [];
    const sumAxes: number[] = [];
    let from = 0;
    axes.forEach((axis, k) => {
      if (axis > from) parts.push(this.dims(x, from, axis));
      const xd = this.dim(x, axis);
      // With one such axis Reshape works out the quotient itself.
      const ratio = axes.length === 1 ? this.ints([-1]) : this.div(this.dim(g, axis), xd);
      parts.push(xd, ratio);
      sumAxes.push(axis + k + 1);
      from = axis + 1;
    });
    if (from < xr) parts.push(this.dims(x, from, xr));
    const split = this.reshape(g, this.concatInts(parts));
    const summed = this.reduceSum(split, sumAxes, false);
    this.info.types.set(summed, { elemType: this.elemType(g), shape: [...this.shape(x)!] });
    return summed;
  }

  isFloat(x: string): boolean {
    return isFloatType(this.elemType(x));
  }
}
