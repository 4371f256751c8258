/**
 * Reverse-mode rules, one entry per ONNX op: for each input, a function that emits the standard
 * ONNX nodes computing ∂L/∂input from ∂L/∂outputs, or `null` when no gradient flows there
 * (shape, index and integer inputs). vjp.ts walks the graph once in reverse and calls these;
 * accumulation over consumers and the broadcast reduction (GradEmitter.reduceToShape) are done
 * there and in one helper, never per rule.
 *
 * Notation in the comments: g = ∂L/∂y for the node's first output y, x/a/b = its inputs.
 */
import { PentimentoError } from '../errors';
import type { GradEmitter } from './GradEmitter';
import { DataType, type NodeProto } from './onnx';
import { attrFloat, attrInt, attrInts, attrString, optionalInput } from './nodeAttrs';
import { sliceBounds, type ShapeInfo } from './shapeInference';

export interface GradContext {
  node: NodeProto;
  e: GradEmitter;
  info: ShapeInfo;
  /** Index of the input whose gradient is being built. */
  index: number;
  x(i: number): string;
  y(i?: number): string;
  /** ∂L/∂(output i); zeros shaped like the output when nothing flows into it. */
  g(i?: number): string;
  hasG(i: number): boolean;
  /** The forward nodes reading a value; undefined for a graph output (its cotangent comes from outside). */
  consumers(value: string): NodeProto[] | undefined;
  /**
   * The summed gradient of a value downstream of this node (every consumer of it comes later in
   * the forward graph, so the reverse walk has finished with it), or undefined if none flows.
   */
  gradOf(value: string): string | undefined;
  /** Computes `fn` once per node and key (shared work between the inputs' gradients). */
  memo<T>(key: string, fn: () => T): T;
}

export type GradFn = (c: GradContext) => string | undefined;

export interface GradientRule {
  /** Per input position; positions past the end use `rest` (variadic ops), else no gradient. */
  inputs: (GradFn | null)[];
  rest?: GradFn | null;
}

const unsupported = (c: GradContext, why: string) =>
  new PentimentoError('UNSUPPORTED_OP', `cannot differentiate ${c.node.opType} node '${c.node.name}': ${why}`);

const normAxis = (a: number, r: number) => (a < 0 ? a + r : a);
const range = (a: number, b: number) => Array.from({ length: Math.max(0, b - a) }, (_, i) => a + i);

/** g summed down to the shape of input i. */
const unbroadcast = (c: GradContext, g: string, i = c.index) => c.e.reduceToShape(g, c.x(i));

/** Static numbers of an input (axes, pads…), or an UNSUPPORTED_OP error saying it must be constant. */
function staticInput(c: GradContext, i: number, what: string): number[] {
  const v = c.info.numbers(c.x(i));
  if (!v) throw unsupported(c, `its ${what} input '${c.x(i)}' must be a constant`);
  return v;
}

/** Elementwise y = f(x): dx = g · f'(x), where `fprime` builds f'. */
const unary = (fprime: (c: GradContext) => string): GradientRule => ({
  inputs: [(c) => c.e.mul(c.g(), fprime(c))],
});

const noGradient: GradientRule = { inputs: [], rest: null };

/** Scatters g's `axis` back to `size` positions at `idx` (1-D int64) via a one-hot MatMul (no ScatterND). */
function scatterAlongAxis(e: GradEmitter, g: string, idx: string, axis: number, size: string): string {
  const r = e.rank(g);
  const zero = e.constant([0], DataType.INT64, []);
  const one = e.constant([1], DataType.INT64, []);
  const positions = e.op('Range', [zero, e.squeeze(size, [0]), one]);
  const oneHot = e.cast(e.op('Equal', [e.unsqueeze(idx, [1]), positions]), e.elemType(g)); // [N, size]
  const perm = [...range(0, axis), ...range(axis + 1, r), axis];
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return e.transpose(e.op('MatMul', [e.transpose(g, perm), oneHot]), inverse);
}

// ---- Conv -------------------------------------------------------------------------------------

interface ConvGeometry {
  sp: number;
  kernel: number[];
  strides: number[];
  dilations: number[];
  pads: number[];
  group: number;
}

function convGeometry(c: GradContext): ConvGeometry {
  const r = c.e.rank(c.x(0), 'a Conv gradient');
  const sp = r - 2;
  const w = c.info.shape(c.x(1));
  const kernel = attrInts(c.node, 'kernel_shape') ?? (w?.slice(2) as number[]);
  if (!kernel || kernel.some((k) => typeof k !== 'number')) throw unsupported(c, 'the kernel shape must be static');
  const autoPad = attrString(c.node, 'auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID') throw unsupported(c, `auto_pad ${autoPad} (export with explicit pads)`);
  return {
    sp,
    kernel,
    strides: attrInts(c.node, 'strides') ?? Array(sp).fill(1),
    dilations: attrInts(c.node, 'dilations') ?? Array(sp).fill(1),
    pads: autoPad === 'VALID' ? Array(2 * sp).fill(0) : attrInts(c.node, 'pads') ?? Array(2 * sp).fill(0),
    group: attrInt(c.node, 'group', 1),
  };
}

/**
 * ∂L/∂X of a Conv is the transposed convolution of g with the same weights. ConvTranspose with
 * only the leading pads gives the gradient for input positions [0, (o−1)s + (k−1)d + 1 − p_begin);
 * positions past that are touched by no window (the stride's floor) and get zero, and positions
 * the forward end-padding would cut are trimmed. Trimming and zero-filling use x's runtime
 * shape, so the same graph works at every image size (no static output_padding).
 */
function convGradX(c: GradContext): string {
  const e = c.e;
  const geo = convGeometry(c);
  const x = c.x(0);
  const r = geo.sp + 2;
  const spatialAxes = range(2, r);
  const outputPadding = exactOutputPadding(c, geo);
  if (outputPadding) {
    const dx = e.op('ConvTranspose', [c.g(), c.x(1)], {
      strides: geo.strides,
      dilations: geo.dilations,
      group: geo.group,
      kernel_shape: geo.kernel,
      pads: geo.pads,
      output_padding: outputPadding.some((p) => p > 0) ? outputPadding : undefined,
    });
    c.info.types.set(dx, { elemType: e.elemType(x), shape: [...c.info.shape(x)!] });
    return dx;
  }
  const full = e.op('ConvTranspose', [c.g(), c.x(1)], {
    strides: geo.strides,
    dilations: geo.dilations,
    group: geo.group,
    kernel_shape: geo.kernel,
    pads: [...geo.pads.slice(0, geo.sp), ...Array(geo.sp).fill(0)],
  });
  const cut = e.op('Slice', [full, e.ints(Array(geo.sp).fill(0)), e.dims(x, 2, r), e.ints(spatialAxes)]);
  const missing = e.sub(e.dims(x, 2, r), e.dims(cut, 2, r));
  const pads = e.concatInts([e.ints(Array(r + 2).fill(0)), missing]);
  return e.op('Pad', [cut, pads]);
}

/**
 * Where ConvTranspose with the forward pads gives exactly x's extent, its output_padding per
 * axis: ConvTranspose yields s·(o − 1) + d·(k − 1) + 1 − pb − pe = x − (s + t) positions with
 * t = pb + pe − d·(k − 1) − 1, so stride 1 needs none (o = x + t + 1 there), and a stride s dividing x with t ∈ [−s, −1] needs s + t (SD's 3×3 stride-2 downsampling: 1).
 * Undefined when the remainder depends on x's runtime value.
 */
function exactOutputPadding(c: GradContext, geo: ConvGeometry): number[] | undefined {
  const xs = c.info.shape(c.x(0));
  if (!xs) return undefined;
  const out: number[] = [];
  for (let i = 0; i < geo.sp; i++) {
    const s = geo.strides[i];
    const t = geo.pads[i] + geo.pads[i + geo.sp] - geo.dilations[i] * (geo.kernel[i] - 1) - 1;
    if (s === 1) out.push(0);
    else if (t >= -s && t <= -1 && c.info.dims.divisible(xs[i + 2], s)) out.push(s + t);
    else return undefined;
  }
  return out;
}

/**
 * ∂L/∂W[m,c,κ] = Σ_{n,o} g[n,m,o] · x_pad[n,c,o·s + κ·d]: a convolution of x (batch as channels)
 * with g (batch as channels) as the kernel, stride and dilation swapped. Groups ride along by
 * folding the group index into the channel axis of both.
 */
function convGradW(c: GradContext): string {
  const e = c.e;
  const geo = convGeometry(c);
  const x = c.x(0);
  const g = c.g();
  const r = geo.sp + 2;
  const w = c.info.shape(c.x(1));
  const m = w?.[0];
  const cg = w?.[1];
  if (typeof m !== 'number' || typeof cg !== 'number') throw unsupported(c, 'the weight shape must be static');
  const G = geo.group;
  const rest = range(2, r);
  let xs: string;
  let gs: string;
  if (G === 1) {
    xs = e.transpose(x, [1, 0, ...rest]);
    gs = e.transpose(g, [1, 0, ...rest]);
  } else {
    const x5 = e.reshape(x, e.concatInts([e.dims(x, 0, 1), e.ints([G, cg]), e.dims(x, 2, r)]));
    xs = e.reshape(e.transpose(x5, [2, 1, 0, ...range(3, r + 1)]), e.concatInts([e.ints([cg, -1]), e.dims(x, 2, r)]));
    const g5 = e.reshape(g, e.concatInts([e.dims(g, 0, 1), e.ints([G, m / G]), e.dims(g, 2, r)]));
    gs = e.reshape(e.transpose(g5, [1, 2, 0, ...range(3, r + 1)]), e.concatInts([e.ints([m, -1]), e.dims(g, 2, r)]));
  }
  const corr = e.op('Conv', [xs, gs], {
    strides: geo.dilations,
    dilations: geo.strides,
    pads: geo.pads,
    group: G,
  });
  const dw = e.transpose(corr, [1, 0, ...rest]);
  return e.op('Slice', [dw, e.ints(Array(geo.sp).fill(0)), e.ints(geo.kernel), e.ints(rest)]);
}

// ---- normalisation ---------------------------------------------------------------------------

/**
 * x̂ = (x − μ)·ρ with ρ = 1/√(σ² + ε) over `axes`; the shared part of LayerNorm and InstanceNorm.
 * dx = ρ·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)).
 */
function normalized(c: GradContext, axes: number[], eps: number): { xhat: string; rho: string } {
  return c.memo('normalized', () => {
    const e = c.e;
    const x = c.x(0);
    const mu = e.reduceMean(x, axes, true);
    const xc = e.sub(x, mu);
    const variance = e.reduceMean(e.mul(xc, xc), axes, true);
    const rho = e.op('Reciprocal', [e.op('Sqrt', [e.add(variance, e.scalar(eps, x))])]);
    return { xhat: e.mul(xc, rho), rho };
  });
}

/**
 * LayerNormalization computes μ and 1/√(σ² + ε) anyway; its optional outputs hand them to the
 * backward pass instead of a second pass over x (x̂ = (x − μ)·ρ: two nodes instead of eight).
 * Stats are kept in stash_type (float32 by default) and cast to x's type.
 */
function layerNormStats(c: GradContext, axes: number[], eps: number): { xhat: string; rho: string } {
  return c.memo('normalized', () => {
    const e = c.e;
    const node = c.node;
    const x = c.x(0);
    const stash = attrInt(node, 'stash_type', 1);
    const name = (i: number, what: string) => {
      if (!node.output[i]) {
        node.output[i] = e.valueName(what);
        const shape = e.shape(x)!.map((d, k) => (k < axes[0] ? d : 1));
        c.info.types.set(node.output[i], { elemType: stash, shape });
      }
      return e.cast(node.output[i], e.elemType(x));
    };
    if (node.output.length > 3 || (node.domain && node.domain !== 'ai.onnx')) return normalized(c, axes, eps);
    const mean = name(1, 'Mean');
    const rho = name(2, 'InvStdDev');
    return { xhat: e.mul(e.sub(x, mean), rho), rho };
  });
}

function normGradX(c: GradContext, axes: number[], eps: number, dxhat: string): string {
  const e = c.e;
  const { xhat, rho } = c.node.opType === 'LayerNormalization' ? layerNormStats(c, axes, eps) : normalized(c, axes, eps);
  const m1 = e.reduceMean(dxhat, axes, true);
  const m2 = e.reduceMean(e.mul(dxhat, xhat), axes, true);
  return e.mul(rho, e.sub(e.sub(dxhat, m1), e.mul(xhat, m2)));
}

function layerNormAxes(c: GradContext): number[] {
  if (c.hasG(1) || c.hasG(2)) throw unsupported(c, "gradients through its Mean/InvStdDev outputs");
  const r = c.e.rank(c.x(0), 'a LayerNormalization gradient');
  return range(normAxis(attrInt(c.node, 'axis', -1), r), r);
}

function instanceNormParts(c: GradContext) {
  const r = c.e.rank(c.x(0), 'an InstanceNormalization gradient');
  return { r, axes: range(2, r), eps: attrFloat(c.node, 'epsilon', 1e-5) };
}

// ---- reductions --------------------------------------------------------------------------------

function reduceAxes(c: GradContext): number[] | 'identity' {
  const r = c.e.rank(c.x(0), `a ${c.node.opType} gradient`);
  const fromInput = c.node.opType === 'ReduceSum' ? c.e.opset >= 13 : c.e.opset >= 18;
  const axes = fromInput ? (optionalInput(c.node, 1) ? staticInput(c, 1, 'axes') : []) : attrInts(c.node, 'axes') ?? [];
  if (axes.length === 0) return attrInt(c.node, 'noop_with_empty_axes', 0) ? 'identity' : range(0, r);
  return axes.map((a) => normAxis(a, r)).sort((a, b) => a - b);
}

/** g broadcast back over the reduced axes: Unsqueeze (if keepdims=0) then Expand to x's shape. */
function reduceBroadcast(c: GradContext): string {
  const axes = reduceAxes(c);
  if (axes === 'identity') return c.g();
  const g = attrInt(c.node, 'keepdims', 1) ? c.g() : c.e.unsqueeze(c.g(), axes);
  return c.e.op('Expand', [g, c.e.shapeOf(c.x(0))]);
}

function elementCountRatio(c: GradContext): string {
  const e = c.e;
  const xs = c.info.shape(c.x(0));
  const ys = c.info.shape(c.y());
  const prod = (s: (number | string)[]) => s.reduce<number>((p, d) => p * (d as number), 1);
  if (xs && ys && [...xs, ...ys].every((d) => typeof d === 'number')) return e.scalar(prod(xs) / prod(ys), c.x(0));
  return e.cast(e.div(e.op('Size', [c.x(0)]), e.op('Size', [c.y()])), e.elemType(c.x(0)));
}

// ---- Slice, Gather, Resize --------------------------------------------------------------------

interface SliceParams {
  axes: number[];
  steps: number[];
  starts: (string | number)[];
  ends: (string | number)[];
}

function sliceParams(c: GradContext): SliceParams {
  const e = c.e;
  const r = e.rank(c.x(0), 'a Slice gradient');
  if (e.opset < 10) {
    const starts = attrInts(c.node, 'starts')!;
    return {
      starts,
      ends: attrInts(c.node, 'ends')!,
      axes: (attrInts(c.node, 'axes') ?? starts.map((_, i) => i)).map((a) => normAxis(a, r)),
      steps: starts.map(() => 1),
    };
  }
  const pick = (i: number, n: number): (string | number)[] => {
    const v = c.info.numbers(c.x(i));
    if (v) return v;
    const t = e.cast(c.x(i), DataType.INT64);
    return range(0, n).map((k) => e.op('Slice', [t, e.ints([k]), e.ints([k + 1]), e.ints([0])]));
  };
  const n = c.info.shape(c.x(1))?.[0];
  if (typeof n !== 'number') throw unsupported(c, 'the number of sliced axes must be static');
  const axes = (optionalInput(c.node, 3) ? staticInput(c, 3, 'axes') : range(0, n)).map((a) => normAxis(a, r));
  const steps = optionalInput(c.node, 4) ? staticInput(c, 4, 'steps') : axes.map(() => 1);
  return { axes, steps, starts: pick(1, n), ends: pick(2, n) };
}

/** Clamped start/end of one sliced axis (ONNX Slice semantics), static or as 1-element tensors. */
function sliceBoundsOf(c: GradContext, axis: number, start: string | number, end: string | number, step: number) {
  const e = c.e;
  const dim = c.info.shape(c.x(0))?.[axis];
  if (typeof dim === 'number' && typeof start === 'number' && typeof end === 'number') {
    const [s, t] = sliceBounds(dim, start, end, step);
    return { s: e.ints([s]), t: e.ints([t]), sv: s, tv: t, dim: e.ints([dim]), dimv: dim };
  }
  const d = e.dim(c.x(0), axis);
  const zero = e.ints([0]);
  const clamp = (v: string | number, lo: string, hi: string) => {
    const t = typeof v === 'number' ? e.ints([v]) : v;
    const wrapped = e.op('Where', [e.op('Less', [t, zero]), e.add(t, d), t]);
    return e.op('Min', [e.op('Max', [wrapped, lo]), hi]);
  };
  const dm1 = e.sub(d, e.ints([1]));
  const s = step > 0 ? clamp(start, zero, d) : clamp(start, zero, dm1);
  const t = step > 0 ? clamp(end, zero, d) : clamp(end, e.ints([-1]), dm1);
  return { s, t, dim: d };
}

/**
 * Step-1 slices: ∂L/∂x is g zero-padded back to x's extent (Pad with runtime pads). Other steps:
 * each axis is a Gather at Range(start, end, step), undone by a one-hot scatter.
 */
function sliceGrad(c: GradContext): string {
  const e = c.e;
  const x = c.x(0);
  const r = e.rank(x);
  const p = sliceParams(c);
  let g = c.g();
  if (p.steps.every((s) => s === 1)) {
    const begin: (string | number)[] = Array(r).fill(0);
    const end: (string | number)[] = Array(r).fill(0);
    p.axes.forEach((axis, k) => {
      const b = sliceBoundsOf(c, axis, p.starts[k], p.ends[k], 1);
      if (b.sv !== undefined && b.tv !== undefined && b.dimv !== undefined) {
        begin[axis] = b.sv;
        end[axis] = b.dimv - Math.max(b.sv, b.tv);
      } else {
        begin[axis] = b.s;
        end[axis] = e.sub(b.dim, e.op('Max', [b.s, b.t]));
      }
    });
    const all = [...begin, ...end];
    const pads = all.every((v) => typeof v === 'number')
      ? e.ints(all as number[])
      : e.concatInts(all.map((v) => (typeof v === 'number' ? e.ints([v]) : v)));
    return e.op('Pad', [g, pads]);
  }
  p.axes.forEach((axis, k) => {
    const b = sliceBoundsOf(c, axis, p.starts[k], p.ends[k], p.steps[k]);
    const idx = e.op('Range', [e.squeeze(b.s, [0]), e.squeeze(b.t, [0]), e.constant([p.steps[k]], DataType.INT64, [])]);
    g = scatterAlongAxis(e, g, idx, axis, b.dim);
  });
  return g;
}

/** ∂L/∂data of Gather: the rows g came from get g back, summed where an index repeats (one-hot MatMul). */
function gatherGrad(c: GradContext): string {
  const e = c.e;
  const x = c.x(0);
  const r = e.rank(x, 'a Gather gradient');
  const q = e.rank(c.x(1), 'a Gather gradient');
  const axis = normAxis(attrInt(c.node, 'axis', 0), r);
  const size = e.dim(x, axis);
  let idx = e.reshape(e.cast(c.x(1), DataType.INT64), e.ints([-1]));
  idx = e.op('Where', [e.op('Less', [idx, e.ints([0])]), e.add(idx, size), idx]);
  let g = c.g();
  if (q === 0) g = e.unsqueeze(g, [axis]);
  else if (q > 1) {
    const gr = r - 1 + q;
    g = e.reshape(g, e.concatInts([e.dims(g, 0, axis), e.ints([-1]), e.dims(g, axis + q, gr)]));
  }
  return scatterAlongAxis(e, g, idx, axis, size);
}

/**
 * Nearest-neighbour upsampling by integer factors f (SD's 2× Upsample2D): every input pixel is
 * copied to an f×f block, so ∂L/∂x sums each block: reshape g to [d0, f0, d1, f1, …] and sum the
 * f axes. Factors come from constant scales, or from sizes / Shape(x) at runtime.
 */
function resizeGrad(c: GradContext): string {
  const e = c.e;
  const node = c.node;
  const x = c.x(0);
  const r = e.rank(x, 'a Resize gradient');
  const mode = attrString(node, 'mode', 'nearest');
  if (mode !== 'nearest') throw unsupported(c, `mode '${mode}' (only nearest-neighbour upsampling by integer factors)`);
  if (attrInts(node, 'axes')) throw unsupported(c, "the 'axes' attribute");
  const ctm = attrString(node, 'coordinate_transformation_mode', node.opType === 'Upsample' ? 'asymmetric' : 'half_pixel');
  const nearest = attrString(node, 'nearest_mode', 'round_prefer_floor');
  const ok =
    (ctm === 'asymmetric' && nearest === 'floor') ||
    ((ctm === 'half_pixel' || ctm === 'pytorch_half_pixel') && (nearest === 'round_prefer_floor' || nearest === 'round_prefer_ceil'));
  if (!ok) throw unsupported(c, `coordinate_transformation_mode '${ctm}' with nearest_mode '${nearest}'`);
  const scalesInput = node.opType === 'Upsample' || e.opset < 11 ? 1 : 2;
  const scalesName = optionalInput(node, scalesInput);
  const scales = scalesName ? c.info.numbers(scalesName) : undefined;
  let factors: string;
  if (scales && scales.length === r) {
    if (scales.some((s) => !Number.isInteger(s) || s < 1)) throw unsupported(c, `scales ${scales.join(',')} are not whole numbers ≥ 1`);
    factors = e.ints(scales);
  } else if (optionalInput(node, 3)) {
    factors = e.div(e.cast(c.x(3), DataType.INT64), e.shapeOf(x));
  } else throw unsupported(c, 'the scales must be constant or sizes given');
  const blocks = e.op('Concat', [e.unsqueeze(e.shapeOf(x), [1]), e.unsqueeze(factors, [1])], { axis: 1 });
  const g6 = e.reshape(c.g(), e.reshape(blocks, e.ints([-1])));
  return e.reduceSum(g6, range(0, r).map((i) => 2 * i + 1), false);
}

// ---- the table ---------------------------------------------------------------------------------

const g0 = (c: GradContext) => c.g();

export const gradientRules: Record<string, GradientRule> = {
  Identity: { inputs: [g0] },
  Dropout: { inputs: [g0, null, null] },
  Neg: { inputs: [(c) => c.e.neg(c.g())] },
  Abs: unary((c) => c.e.op('Sign', [c.x(0)])),
  Relu: { inputs: [(c) => c.e.op('Where', [c.e.op('Greater', [c.x(0), c.e.scalar(0, c.x(0))]), c.g(), c.e.scalar(0, c.x(0))])] },
  // y = x (x > 0), αx otherwise.
  LeakyRelu: {
    inputs: [
      (c) => {
        const e = c.e;
        const alpha = e.scalar(attrFloat(c.node, 'alpha', 0.01), c.x(0));
        return e.op('Where', [e.op('Greater', [c.x(0), e.scalar(0, c.x(0))]), c.g(), e.mul(c.g(), alpha)]);
      },
    ],
  },
  // σ' = σ(1 − σ)
  Sigmoid: unary((c) => c.e.mul(c.y(), c.e.sub(c.e.scalar(1, c.y()), c.y()))),
  // tanh' = 1 − tanh²
  Tanh: unary((c) => c.e.sub(c.e.scalar(1, c.y()), c.e.mul(c.y(), c.y()))),
  Exp: unary((c) => c.y()),
  Log: { inputs: [(c) => c.e.div(c.g(), c.x(0))] },
  // d√x = 1/(2√x)
  Sqrt: { inputs: [(c) => c.e.div(c.g(), c.e.mul(c.y(), c.e.scalar(2, c.y())))] },
  Reciprocal: { inputs: [(c) => c.e.neg(c.e.mul(c.g(), c.e.mul(c.y(), c.y())))] },
  // erf'(x) = 2/√π · exp(−x²)
  Erf: unary((c) =>
    c.e.mul(c.e.scalar(2 / Math.sqrt(Math.PI), c.x(0)), c.e.op('Exp', [c.e.neg(c.e.mul(c.x(0), c.x(0)))])),
  ),
  Sin: unary((c) => c.e.op('Cos', [c.x(0)])),
  Cos: unary((c) => c.e.neg(c.e.op('Sin', [c.x(0)]))),
  Cast: { inputs: [(c) => (c.e.isFloat(c.x(0)) ? c.e.cast(c.g(), c.e.elemType(c.x(0))) : undefined)] },
  // Clip passes g where min ≤ x ≤ max.
  Clip: {
    inputs: [
      (c) => {
        const e = c.e;
        const x = c.x(0);
        let keep: string | undefined;
        const lo = optionalInput(c.node, 1);
        const hi = optionalInput(c.node, 2);
        if (lo) keep = e.op('GreaterOrEqual', [x, lo]);
        if (hi) {
          const under = e.op('LessOrEqual', [x, hi]);
          keep = keep ? e.op('And', [keep, under]) : under;
        }
        return keep ? e.op('Where', [keep, c.g(), e.scalar(0, x)]) : c.g();
      },
      null,
      null,
    ],
  },

  Add: { inputs: [(c) => unbroadcast(c, c.g()), (c) => unbroadcast(c, c.g())] },
  Sub: { inputs: [(c) => unbroadcast(c, c.g()), (c) => unbroadcast(c, c.e.neg(c.g()))] },
  Mul: { inputs: [(c) => unbroadcast(c, c.e.mul(c.g(), c.x(1))), (c) => unbroadcast(c, c.e.mul(c.g(), c.x(0)))] },
  // y = a/b: da = g/b, db = −g·y/b
  Div: {
    inputs: [(c) => unbroadcast(c, c.e.div(c.g(), c.x(1))), (c) => unbroadcast(c, c.e.neg(c.e.div(c.e.mul(c.g(), c.y()), c.x(1))))],
  },
  // y = a^b: da = g·b·a^(b−1), db = g·y·ln a
  Pow: {
    inputs: [
      (c) => {
        const e = c.e;
        const a = c.x(0);
        const b = e.cast(c.x(1), e.elemType(a));
        const da = e.mul(e.mul(c.g(), b), e.op('Pow', [a, e.sub(b, e.scalar(1, a))]));
        return unbroadcast(c, da);
      },
      (c) => {
        const e = c.e;
        const db = e.mul(e.mul(c.g(), c.y()), e.op('Log', [c.x(0)]));
        return unbroadcast(c, e.cast(db, e.elemType(c.x(1))));
      },
    ],
  },
  Sum: { inputs: [], rest: (c) => unbroadcast(c, c.g()) },
  Mean: { inputs: [], rest: (c) => unbroadcast(c, c.e.div(c.g(), c.e.scalar(c.node.input.length, c.g()))) },
  // The gradient goes to every input equal to the result (ties share it in full).
  Max: { inputs: [], rest: (c) => unbroadcast(c, c.e.op('Where', [c.e.op('Equal', [c.x(c.index), c.y()]), c.g(), c.e.scalar(0, c.g())])) },
  Min: { inputs: [], rest: (c) => unbroadcast(c, c.e.op('Where', [c.e.op('Equal', [c.x(c.index), c.y()]), c.g(), c.e.scalar(0, c.g())])) },
  Where: {
    inputs: [
      null,
      (c) => unbroadcast(c, c.e.op('Where', [c.x(0), c.g(), c.e.scalar(0, c.g())])),
      (c) => unbroadcast(c, c.e.op('Where', [c.x(0), c.e.scalar(0, c.g()), c.g()])),
    ],
  },

  // y = a·b (batched): da = g·bᵀ, db = aᵀ·g, each summed over broadcast batch dims.
  MatMul: {
    inputs: [
      (c) => {
        const e = c.e;
        const { a2, b2, g2, aVector } = matmulOperands(c);
        if (e.rank(b2) === 2 && !aVector) return linearGradX(e, g2, b2, a2);
        const da = e.reduceToShape(e.op('MatMul', [g2, e.transposeLast2(b2)]), a2);
        return aVector ? e.squeeze(da, [0]) : da;
      },
      (c) => {
        const e = c.e;
        const { a2, b2, g2, bVector } = matmulOperands(c);
        const db = e.reduceToShape(e.op('MatMul', [e.transposeLast2(a2), g2]), b2);
        return bVector ? e.squeeze(db, [1]) : db;
      },
    ],
  },
  // y = α·op(A)·op(B) + β·C
  Gemm: {
    inputs: [
      (c) => {
        const e = c.e;
        const transB = attrInt(c.node, 'transB', 0);
        const dA = e.op('Gemm', [c.g(), c.x(1)], { alpha: { float: attrFloat(c.node, 'alpha', 1) }, transB: transB ? 0 : 1 });
        return attrInt(c.node, 'transA', 0) ? e.transpose(dA, [1, 0]) : dA;
      },
      (c) => {
        const e = c.e;
        const transA = attrInt(c.node, 'transA', 0);
        const dB = e.op('Gemm', [c.x(0), c.g()], { alpha: { float: attrFloat(c.node, 'alpha', 1) }, transA: transA ? 0 : 1 });
        return attrInt(c.node, 'transB', 0) ? e.transpose(dB, [1, 0]) : dB;
      },
      (c) => unbroadcast(c, c.e.mul(c.g(), c.e.scalar(attrFloat(c.node, 'beta', 1), c.g()))),
    ],
  },
  Conv: {
    inputs: [convGradX, convGradW, (c) => c.e.reduceSum(c.g(), [0, ...range(2, c.e.rank(c.g()))], false)],
  },

  // Softmax (opset ≥ 13 semantics: along one axis): dx = y·(g − Σ g·y)
  Softmax: {
    inputs: [
      (c) => {
        const e = c.e;
        const axis = softmaxAxis(c);
        const s = attentionRowSum(c, axis) ?? e.reduceSum(e.mul(c.g(), c.y()), [axis], true);
        return e.mul(c.y(), e.sub(c.g(), s));
      },
    ],
  },
  // dx = g − softmax(x)·Σ g
  LogSoftmax: {
    inputs: [
      (c) => {
        const e = c.e;
        const axis = softmaxAxis(c);
        return e.sub(c.g(), e.mul(e.op('Exp', [c.y()]), e.reduceSum(c.g(), [axis], true)));
      },
    ],
  },
  LayerNormalization: {
    inputs: [
      (c) => {
        const axes = layerNormAxes(c);
        const scaled = optionalInput(c.node, 1) ? c.e.mul(c.g(), c.x(1)) : c.g();
        return normGradX(c, axes, attrFloat(c.node, 'epsilon', 1e-5), scaled);
      },
      (c) => unbroadcast(c, c.e.mul(c.g(), layerNormStats(c, layerNormAxes(c), attrFloat(c.node, 'epsilon', 1e-5)).xhat)),
      (c) => unbroadcast(c, c.g()),
    ],
  },
  // y[n,c] = scale[c]·x̂[n,c] + B[c], x̂ normalised over the spatial axes.
  InstanceNormalization: {
    inputs: [
      (c) => {
        const { r, axes, eps } = instanceNormParts(c);
        const scale = c.e.unsqueeze(c.x(1), range(1, r - 1));
        return normGradX(c, axes, eps, c.e.mul(c.g(), scale));
      },
      (c) => {
        const { r, axes, eps } = instanceNormParts(c);
        return c.e.reduceSum(c.e.mul(c.g(), normalized(c, axes, eps).xhat), [0, ...range(2, r)], false);
      },
      (c) => c.e.reduceSum(c.g(), [0, ...range(2, instanceNormParts(c).r)], false),
    ],
  },

  ReduceSum: { inputs: [reduceBroadcast, null] },
  ReduceMean: { inputs: [(c) => c.e.div(reduceBroadcast(c), elementCountRatio(c)), null] },

  Reshape: { inputs: [(c) => c.e.reshapeLike(c.g(), c.x(0)), null] },
  Flatten: { inputs: [(c) => c.e.reshapeLike(c.g(), c.x(0))] },
  Squeeze: { inputs: [(c) => c.e.reshapeLike(c.g(), c.x(0)), null] },
  Unsqueeze: { inputs: [(c) => c.e.reshapeLike(c.g(), c.x(0)), null] },
  Transpose: {
    inputs: [
      (c) => {
        const r = c.e.rank(c.x(0), 'a Transpose gradient');
        const perm = attrInts(c.node, 'perm') ?? range(0, r).reverse();
        return c.e.transpose(c.g(), perm.map((_, i) => perm.indexOf(i)));
      },
    ],
  },
  Expand: { inputs: [(c) => unbroadcast(c, c.g()), null] },
  // Each input gets its stretch of g along the axis (one Split, sizes from the inputs' runtime shapes).
  Concat: {
    inputs: [],
    rest: (c) => {
      const parts = c.memo('split', () => {
        const e = c.e;
        const r = e.rank(c.x(0), 'a Concat gradient');
        const axis = normAxis(attrInt(c.node, 'axis', 0), r);
        const n = c.node.input.length;
        if (e.opset >= 13) {
          const sizes = e.concatInts(c.node.input.map((x) => e.dim(x, axis)));
          return e.node('Split', [c.g(), sizes], { axis }, n);
        }
        const sizes = c.node.input.map((x) => c.info.shape(x)?.[axis]);
        if (sizes.some((s) => typeof s !== 'number')) throw unsupported(c, 'concatenated sizes must be static before opset 13');
        return e.node('Split', [c.g()], { axis, split: sizes as number[] }, n);
      });
      return parts[c.index];
    },
  },
  Split: {
    inputs: [
      (c) => {
        const r = c.e.rank(c.x(0), 'a Split gradient');
        const axis = normAxis(attrInt(c.node, 'axis', 0), r);
        return c.e.op('Concat', c.node.output.map((_, i) => c.g(i)), { axis });
      },
      null,
    ],
  },
  Slice: { inputs: [sliceGrad, null, null, null, null] },
  Gather: { inputs: [gatherGrad, null] },
  Resize: { inputs: [resizeGrad, null, null, null] },
  Upsample: { inputs: [resizeGrad, null] },
  // Constant padding: undo it with negative pads (Pad crops when pads are negative).
  Pad: {
    inputs: [
      (c) => {
        const e = c.e;
        const mode = attrString(c.node, 'mode', 'constant');
        if (mode !== 'constant') throw unsupported(c, `Pad mode '${mode}' (only constant padding)`);
        if (e.opset < 11) return e.op('Pad', [c.g()], { pads: (attrInts(c.node, 'pads') ?? []).map((p) => -p) });
        const pads = c.info.numbers(c.x(1));
        const neg = pads ? e.ints(pads.map((p) => -p)) : e.neg(e.cast(c.x(1), DataType.INT64));
        const axes = optionalInput(c.node, 3);
        return e.op('Pad', axes ? [c.g(), neg, '', axes] : [c.g(), neg]);
      },
      null,
      null,
      null,
    ],
  },

  Constant: noGradient,
  Shape: noGradient,
  Size: noGradient,
  ConstantOfShape: noGradient,
  Range: noGradient,
  Equal: noGradient,
  Less: noGradient,
  LessOrEqual: noGradient,
  Greater: noGradient,
  GreaterOrEqual: noGradient,
  Not: noGradient,
  And: noGradient,
  Or: noGradient,
  Xor: noGradient,
  NonZero: noGradient,
  Floor: noGradient,
  Ceil: noGradient,
  Round: noGradient,
  Sign: noGradient,
  ArgMax: noGradient,
  ArgMin: noGradient,
  IsNaN: noGradient,
  IsInf: noGradient,
};

/**
 * Σⱼ gᵢⱼ·yᵢⱼ of a softmax whose only reader is O = y·V (attention): there g = G·Vᵀ with G = ∂L/∂O,
 * so Σⱼ gᵢⱼ·yᵢⱼ = Σₖ Gᵢₖ·Oᵢₖ — a sum over the head dim of [N, d] tensors instead of a product and
 * a sum over the [N, N] attention map (two of the backward's full passes over the largest
 * tensors). Undefined where the pattern does not hold; the caller then sums g·y.
 */
function attentionRowSum(c: GradContext, axis: number): string | undefined {
  const e = c.e;
  const y = c.y();
  const r = e.rank(y);
  const readers = c.consumers(y);
  if (axis !== r - 1 || !readers || readers.length !== 1) return undefined;
  const mm = readers[0];
  if (mm.opType !== 'MatMul' || (mm.domain && mm.domain !== 'ai.onnx') || mm.input[0] !== y || mm.input[1] === y) return undefined;
  const out = mm.output[0];
  const grad = c.gradOf(out);
  // Broadcast batch dims would make g a sum over copies of y: only the plain batched case.
  if (!grad || e.rank(out) !== r || !c.info.sameShape(e.shape(y)?.slice(0, -1), e.shape(out)?.slice(0, -1))) return undefined;
  return e.reduceSum(e.mul(grad, out), [axis], true);
}

function softmaxAxis(c: GradContext): number {
  const r = c.e.rank(c.x(0), `a ${c.node.opType} gradient`);
  if (c.e.opset >= 13) return normAxis(attrInt(c.node, 'axis', -1), r);
  // Before opset 13 softmax flattens from `axis` on; that equals a last-axis softmax only there.
  const axis = normAxis(attrInt(c.node, 'axis', 1), r);
  if (axis !== r - 1) throw unsupported(c, `opset ${c.e.opset} softmax over the flattened axes ${axis}..${r - 1}`);
  return axis;
}

/**
 * dA = G·Wᵀ for a matrix W (a linear layer's weight) as one Gemm with transB over G's rows
 * flattened: onnxruntime packs the weight for it once, transposing on the way, where
 * MatMul(G, Transpose(W)) makes it fold a transposed copy of every weight first — seconds
 * more to open the full UNet's VJP and a second copy of its linear weights in memory.
 */
function linearGradX(e: GradEmitter, g: string, w: string, a: string): string {
  const r = e.rank(g);
  const rows = r === 2 ? g : e.reshape(g, e.concatInts([e.ints([-1]), e.dim(g, r - 1)]));
  const da = e.op('Gemm', [rows, w], { transB: 1 });
  if (r === 2) return da;
  const out = e.reshape(da, e.shapeOf(a));
  e.info.types.set(out, { elemType: e.elemType(a), shape: [...e.shape(a)!] });
  return out;
}

/** MatMul operands with 1-D ones promoted to matrices (numpy rules) and g reshaped to match. */
function matmulOperands(c: GradContext) {
  return c.memo('operands', () => {
    const e = c.e;
    const a = c.x(0);
    const b = c.x(1);
    const aVector = e.rank(a, 'a MatMul gradient') === 1;
    const bVector = e.rank(b, 'a MatMul gradient') === 1;
    const a2 = aVector ? e.unsqueeze(a, [0]) : a;
    const b2 = bVector ? e.unsqueeze(b, [1]) : b;
    let g2 = c.g();
    if (bVector) g2 = e.unsqueeze(g2, [-1]);
    if (aVector) g2 = e.unsqueeze(g2, [-2]);
    return { a2, b2, g2, aVector, bVector };
  });
}
