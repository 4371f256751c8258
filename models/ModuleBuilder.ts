/**
 * PyTorch modules as torch.onnx exports them, on top of GraphBuilder: Linear → MatMul (+ Add)
 * with the transposed weight as an anonymous `onnx::MatMul_N` initializer, GroupNorm → Reshape /
 * InstanceNormalization / Reshape / Mul / Add (its export below opset 18), LayerNorm →
 * LayerNormalization (opset ≥ 17) or its ReduceMean decomposition, SiLU → Sigmoid · x,
 * GELU → the Erf form. Weights are seeded and scaled like PyTorch's default initialisation.
 */
import { GraphBuilder, float } from '../main/engine/graph/GraphBuilder';
import { DataType } from '../main/engine/graph/onnx';
import { toFloat16 } from '../main/engine/graph/fp16';
import { makeTensor } from '../main/engine/graph/tensorProto';
import { uniformWeights } from './uniformWeights';

export interface ModuleBuilderOptions {
  opset: number;
  seed: number;
  fp16: boolean;
  /** Prepended to node names only (`/u/down_blocks.0/...`), not to parameter names. */
  nodePrefix?: string;
}

export class ModuleBuilder {
  readonly g: GraphBuilder;
  readonly floatType: DataType.FLOAT | DataType.FLOAT16;
  readonly seed: number;
  /** Scalars in trainable parameters (not shape constants or norm scaffolding). */
  parameterCount = 0;
  private matmulWeights = 0;
  private readonly prefixDepth: number;

  constructor(readonly opts: ModuleBuilderOptions) {
    this.g = new GraphBuilder(opts.opset);
    this.floatType = opts.fp16 ? DataType.FLOAT16 : DataType.FLOAT;
    this.seed = opts.seed;
    this.prefixDepth = opts.nodePrefix ? 1 : 0;
  }

  /** Builds the whole graph under the node prefix, if any. */
  root<T>(fn: () => T): T {
    return this.opts.nodePrefix ? this.g.scope(this.opts.nodePrefix, fn) : fn();
  }

  scope<T>(name: string, fn: () => T): T {
    return this.g.scope(name, fn);
  }

  op(opType: string, inputs: readonly string[], attrs: Parameters<GraphBuilder['op']>[2] = {}): string {
    return this.g.op(opType, inputs, attrs);
  }

  /** The module path of a parameter (`down_blocks.0.resnets.0.conv1.weight`), without the node prefix. */
  paramPath(leaf: string): string {
    const full = this.g.paramName(leaf);
    if (!this.prefixDepth) return full;
    return full.slice(full.indexOf('.') + 1);
  }

  private floatData(values: Float32Array): Float32Array | Uint16Array {
    return this.opts.fp16 ? toFloat16(values) : values;
  }

  /** A trainable parameter uniform in center ± bound, named by its module path. */
  weight(leaf: string, dims: readonly number[], bound: number, center = 0): string {
    const name = this.paramPath(leaf);
    return this.initializer(name, name, dims, bound, center);
  }

  private initializer(storedName: string, logicalName: string, dims: readonly number[], bound: number, center = 0): string {
    const count = dims.reduce((a, d) => a * d, 1);
    this.parameterCount += count;
    const values = uniformWeights(this.seed, logicalName, count, bound, center);
    return this.g.initializer(storedName, this.floatData(values), dims, this.floatType);
  }

  /** A float constant of the graph's float type (scalar unless dims are given). */
  scalar(value: number): string {
    return this.constant([value], []);
  }

  constant(values: readonly number[], dims: readonly number[]): string {
    return this.g.op('Constant', [], { value: this.floatTensor(values, dims) });
  }

  private floatTensor(values: readonly number[], dims: readonly number[]) {
    return makeTensor('', this.floatData(Float32Array.from(values)), dims, this.floatType);
  }

  ints(values: readonly number[]): string {
    return this.g.constInt64(values);
  }

  // ---- shapes (dynamic, as torch traces `x.shape[i]`) ----

  /** `x.shape[i]` as a 1-element int64 tensor. */
  dim(x: string, i: number): string {
    return this.op('Gather', [this.op('Shape', [x]), this.ints([i])], { axis: 0 });
  }

  concatInts(parts: readonly string[]): string {
    return this.op('Concat', parts, { axis: 0 });
  }

  // ---- layers ----

  /** nn.Linear: y = x Wᵀ + b, bound 1/√in for both (PyTorch's kaiming_uniform(a=√5) default). */
  linear(x: string, inFeatures: number, outFeatures: number, bias = true): string {
    const bound = 1 / Math.sqrt(inFeatures);
    const w = this.initializer(`onnx::MatMul_${++this.matmulWeights}`, this.paramPath('weight'), [inFeatures, outFeatures], bound);
    const y = this.op('MatMul', [x, w]);
    return bias ? this.op('Add', [this.weight('bias', [outFeatures], bound), y]) : y;
  }

  /** nn.Conv2d with square kernel; bound 1/√(in·k²). */
  conv2d(x: string, inChannels: number, outChannels: number, kernel: number, opts: { stride?: number; pad?: number } = {}): string {
    const stride = opts.stride ?? 1;
    const pad = opts.pad ?? (kernel - 1) / 2;
    const bound = 1 / Math.sqrt(inChannels * kernel * kernel);
    const w = this.weight('weight', [outChannels, inChannels, kernel, kernel], bound);
    const b = this.weight('bias', [outChannels], bound);
    return this.op('Conv', [x, w, b], {
      dilations: [1, 1],
      group: 1,
      kernel_shape: [kernel, kernel],
      pads: [pad, pad, pad, pad],
      strides: [stride, stride],
    });
  }

  /** Affine parameters of a norm layer: γ ≈ 1, β ≈ 0, slightly random so no layer is an identity. */
  private normAffine(dims: readonly number[]): [string, string] {
    return [this.weight('weight', dims, 0.1, 1), this.weight('bias', dims, 0.1)];
  }

  /** nn.GroupNorm over [N, C, *spatial] (`spatialRank` trailing axes) as torch exports it below opset 18. */
  groupNorm(x: string, channels: number, groups: number, eps: number, spatialRank = 2): string {
    const grouped = this.op('Reshape', [x, this.ints([0, groups, -1])]);
    const normed = this.op('InstanceNormalization', [grouped, this.constant(new Array(groups).fill(1), [groups]), this.constant(new Array(groups).fill(0), [groups])], {
      epsilon: float(eps),
    });
    const back = this.op('Reshape', [normed, this.op('Shape', [x])]);
    const [gamma, beta] = this.normAffine([channels, ...new Array<number>(spatialRank).fill(1)]);
    return this.op('Add', [this.op('Mul', [back, gamma]), beta]);
  }

  /** nn.LayerNorm over the last axis. */
  layerNorm(x: string, dim: number, eps: number): string {
    const [gamma, beta] = this.normAffine([dim]);
    if (this.opts.opset >= 17) {
      return this.op('LayerNormalization', [x, gamma, beta], { axis: -1, epsilon: float(eps) });
    }
    const mean = this.op('ReduceMean', [x], { axes: [-1] });
    const centered = this.op('Sub', [x, mean]);
    const variance = this.op('ReduceMean', [this.op('Pow', [centered, this.scalar(2)])], { axes: [-1] });
    const std = this.op('Sqrt', [this.op('Add', [variance, this.scalar(eps)])]);
    return this.op('Add', [this.op('Mul', [this.op('Div', [centered, std]), gamma]), beta]);
  }

  /** SiLU(x) = x·σ(x). */
  silu(x: string): string {
    return this.op('Mul', [x, this.op('Sigmoid', [x])]);
  }

  /** GELU(x) = x·½(1 + erf(x/√2)), in the order torch exports it. */
  gelu(x: string): string {
    const erf = this.op('Erf', [this.op('Div', [x, this.scalar(Math.SQRT2)])]);
    return this.op('Mul', [this.op('Mul', [x, this.op('Add', [erf, this.scalar(1)])]), this.scalar(0.5)]);
  }

  /** CLIP's quick_gelu: x·σ(1.702x). */
  quickGelu(x: string): string {
    return this.op('Mul', [x, this.op('Sigmoid', [this.op('Mul', [x, this.scalar(1.702)])])]);
  }

  /**
   * Multi-head scaled dot-product attention on [B, S, C] projections:
   * softmax(Q Kᵀ·scale + mask) V per head (Vaswani et al. 2017, eq. 1), heads merged back to [B, Sq, C].
   * `queryScaled`: CLIP multiplies Q by the scale before the product, diffusers the scores after.
   */
  attention(q: string, k: string, v: string, channels: number, heads: number, opts: { mask?: string; queryScaled?: boolean } = {}): string {
    const headDim = channels / heads;
    const scale = headDim ** -0.5;
    const split = (t: string, perm: number[]) => this.op('Transpose', [this.op('Reshape', [t, this.ints([0, 0, heads, headDim])])], { perm });
    const qh = split(opts.queryScaled ? this.op('Mul', [q, this.scalar(scale)]) : q, [0, 2, 1, 3]);
    const kt = split(k, [0, 2, 3, 1]);
    const vh = split(v, [0, 2, 1, 3]);
    let scores = this.op('MatMul', [qh, kt]);
    if (!opts.queryScaled) scores = this.op('Mul', [scores, this.scalar(scale)]);
    if (opts.mask) scores = this.op('Add', [scores, opts.mask]);
    const probs = this.op('Softmax', [scores], { axis: -1 });
    const merged = this.op('Transpose', [this.op('MatMul', [probs, vh])], { perm: [0, 2, 1, 3] });
    return this.op('Reshape', [merged, this.ints([0, 0, channels])]);
  }

  /** Renames a value (and every use of it) so it can be a graph output. */
  rename(from: string, to: string): string {
    for (const n of this.g.nodes) {
      n.output = n.output.map((o) => (o === from ? to : o));
      n.input = n.input.map((i) => (i === from ? to : i));
    }
    return to;
  }
}
