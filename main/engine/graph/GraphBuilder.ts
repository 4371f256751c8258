/**
 * Builds ONNX graphs the way torch.onnx names them: nodes are named by module path
 * (`/down_blocks.0/attentions.0/transformer_blocks.0/attn2/to_k/MatMul`), outputs by node
 * (`..._output_0`). Used by the test-model generator, the surgery passes and the autodiff.
 */
import {
  AttributeType,
  DataType,
  makeValueInfo,
  type AttributeProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './onnx';
import { makeTensor, type NumericArray } from './tensorProto';

/** A float attribute whose value happens to be integral (`epsilon: float(1)`). */
export interface FloatAttr {
  float: number;
}
export interface FloatsAttr {
  floats: number[];
}
export type AttrValue = number | string | number[] | string[] | TensorProto | FloatAttr | FloatsAttr | GraphProto;

export const float = (v: number): FloatAttr => ({ float: v });
export const floats = (v: number[]): FloatsAttr => ({ floats: v });

const encoder = new TextEncoder();

function isTensor(v: object): v is TensorProto {
  return 'dataType' in v && 'dims' in v;
}

export function makeAttribute(name: string, v: AttrValue): AttributeProto {
  if (typeof v === 'number') {
    return Number.isInteger(v) ? { name, type: AttributeType.INT, i: v } : { name, type: AttributeType.FLOAT, f: v };
  }
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: encoder.encode(v) };
  if (Array.isArray(v)) {
    if (v.length > 0 && typeof v[0] === 'string') {
      return { name, type: AttributeType.STRINGS, strings: (v as string[]).map((s) => encoder.encode(s)) };
    }
    const nums = v as number[];
    return nums.every(Number.isInteger)
      ? { name, type: AttributeType.INTS, ints: nums }
      : { name, type: AttributeType.FLOATS, floats: nums };
  }
  if ('float' in v) return { name, type: AttributeType.FLOAT, f: v.float };
  if ('floats' in v) return { name, type: AttributeType.FLOATS, floats: v.floats };
  if (isTensor(v)) return { name, type: AttributeType.TENSOR, t: v };
  return { name, type: AttributeType.GRAPH, g: v as GraphProto };
}

export interface OpOptions {
  /** Explicit node name (otherwise `/scope/OpType` with a per-scope counter). */
  name?: string;
  /** Number of outputs (default 1) or their explicit names. */
  outputs?: number | string[];
  domain?: string;
}

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly inputs: ValueInfoProto[] = [];
  readonly outputs: ValueInfoProto[] = [];
  private readonly scopeStack: string[] = [];
  private readonly usedNames = new Map<string, number>();

  constructor(
    readonly opset = 17,
    readonly graphName = 'main_graph',
  ) {}

  /** Runs `fn` with `name` appended to the module path (`down_blocks.0`, `attn2`). */
  scope<T>(name: string, fn: () => T): T {
    this.scopeStack.push(name);
    try {
      return fn();
    } finally {
      this.scopeStack.pop();
    }
  }

  get scopePath(): string {
    return this.scopeStack.length ? `/${this.scopeStack.join('/')}` : '';
  }

  /** Dotted module path for parameter names (`down_blocks.0.attentions.0.proj_in.weight`). */
  paramName(leaf: string): string {
    return [...this.scopeStack, leaf].join('.');
  }

  private uniqueNodeName(base: string): string {
    const n = this.usedNames.get(base) ?? 0;
    this.usedNames.set(base, n + 1);
    return n === 0 ? base : `${base}_${n}`;
  }

  input(name: string, elemType: DataType, shape: readonly (number | string)[]): string {
    this.inputs.push(makeValueInfo(name, elemType, shape));
    return name;
  }

  output(name: string, elemType: DataType, shape?: readonly (number | string)[]): string {
    this.outputs.push(makeValueInfo(name, elemType, shape));
    return name;
  }

  /** An initializer (a weight); returns its name. */
  initializer(name: string, data: NumericArray, dims: readonly number[], dataType?: DataType): string {
    this.initializers.push(makeTensor(name, data, dims, dataType));
    return name;
  }

  /** A module parameter named by the current scope (`...to_k.weight`). */
  param(leaf: string, data: NumericArray, dims: readonly number[], dataType?: DataType): string {
    return this.initializer(this.paramName(leaf), data, dims, dataType);
  }

  /** Adds a node; returns its output names. */
  node(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue | undefined> = {}, opts: OpOptions = {}): string[] {
    const name = opts.name ?? this.uniqueNodeName(`${this.scopePath}/${opType}`);
    const outputs =
      Array.isArray(opts.outputs)
        ? opts.outputs
        : Array.from({ length: opts.outputs ?? 1 }, (_, i) => `${name}_output_${i}`);
    const attribute = Object.entries(attrs)
      .filter((e): e is [string, AttrValue] => e[1] !== undefined)
      .map(([k, v]) => makeAttribute(k, v));
    this.nodes.push({ name, opType, input: [...inputs], output: outputs, attribute, ...(opts.domain ? { domain: opts.domain } : {}) });
    return outputs;
  }

  /** Adds a single-output node; returns its output name. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue | undefined> = {}, opts: OpOptions = {}): string {
    return this.node(opType, inputs, attrs, opts)[0];
  }

  /** A Constant node (as torch.onnx emits for shapes and scalars). */
  constant(data: NumericArray, dims: readonly number[], dataType?: DataType): string {
    return this.op('Constant', [], { value: makeTensor('', data, dims, dataType) });
  }

  constInt64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.constant(BigInt64Array.from(values.map((v) => BigInt(v))), dims);
  }

  constFloat(values: readonly number[] | number, dims?: readonly number[]): string {
    const arr = typeof values === 'number' ? [values] : values;
    return this.constant(Float32Array.from(arr), dims ?? (typeof values === 'number' ? [] : [arr.length]));
  }

  graph(): GraphProto {
    return {
      name: this.graphName,
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs,
      output: this.outputs,
      valueInfo: [],
    };
  }

  model(opts: { producerName?: string; producerVersion?: string; irVersion?: number } = {}): ModelProto {
    return {
      irVersion: opts.irVersion ?? 8,
      opsetImport: [{ domain: '', version: this.opset }],
      producerName: opts.producerName ?? 'pentimento',
      producerVersion: opts.producerVersion ?? '0.1.0',
      graph: this.graph(),
    };
  }
}
