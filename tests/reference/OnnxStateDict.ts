/**
 * A model's parameters by PyTorch module path, read from an exported ONNX file the way a
 * reference implementation reads a checkpoint's state dict: `conv_in.weight`, `….norm1.bias`.
 * torch.onnx stores each nn.Linear's weight transposed, under an anonymous `onnx::MatMul_N`
 * name; the MatMul node named after the module (`/u/…/attn2/to_k/MatMul`) says which one it is.
 * Only names and initializers are read, never the graph's computation.
 */
import { tf } from './tfjs';
import { loadModel, tensorArray } from '../../main/engine/graph/ModelIO';
import { DataType, type TensorProto } from '../../main/engine/graph/onnx';

export interface LinearParams {
  /** Wᵀ, [in, out]: y = x·Wᵀ + b. */
  weightT: tf.Tensor2D;
  bias?: tf.Tensor1D;
}

/** `down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k` from `/u/down_blocks.0/…/to_k/MatMul`, without the leading prefix segment(s). */
function nodeModulePath(nodeName: string): string {
  const parts = nodeName.split('/').filter(Boolean);
  return parts.slice(0, -1).join('.');
}

export class OnnxStateDict {
  private readonly byName = new Map<string, TensorProto>();
  /** Module path (with any node prefix) → the initializer its MatMul multiplies by. */
  private readonly matmulWeights = new Map<string, string>();
  private readonly cache = new Map<string, tf.Tensor>();

  private constructor(
    initializers: TensorProto[],
    matmuls: { name: string; input: string[] }[],
    private readonly dir: string,
  ) {
    for (const t of initializers) this.byName.set(t.name, t);
    for (const n of matmuls) {
      const weight = n.input[1];
      if (this.byName.has(weight)) this.matmulWeights.set(nodeModulePath(n.name), weight);
    }
  }

  static load(file: string): OnnxStateDict {
    const { model, dir } = loadModel(file);
    const matmuls = model.graph.node.filter((n) => n.opType === 'MatMul').map((n) => ({ name: n.name, input: n.input }));
    return new OnnxStateDict(model.graph.initializer, matmuls, dir);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** A float32 parameter by its state-dict name, in its stored shape. */
  tensor(name: string): tf.Tensor {
    const cached = this.cache.get(name);
    if (cached) return cached;
    const t = this.byName.get(name);
    if (!t) throw new Error(`no parameter '${name}' in the model`);
    if (t.dataType !== DataType.FLOAT) throw new Error(`parameter '${name}' is not float32 (type ${t.dataType})`);
    const values = tensorArray(t, this.dir) as Float32Array;
    const result = tf.keep(tf.tensor(values, t.dims.map(Number), 'float32'));
    this.cache.set(name, result);
    return result;
  }

  /** nn.Linear `modulePath`: its weight through the module's MatMul, its bias by name (if it has one). */
  linear(modulePath: string): LinearParams {
    const matches = [...this.matmulWeights.keys()].filter((p) => p === modulePath || p.endsWith(`.${modulePath}`));
    if (matches.length !== 1) throw new Error(`expected one MatMul for module '${modulePath}', found ${matches.length}`);
    const weightT = this.tensor(this.matmulWeights.get(matches[0])!) as tf.Tensor2D;
    const biasName = `${modulePath}.bias`;
    return { weightT, bias: this.has(biasName) ? (this.tensor(biasName) as tf.Tensor1D) : undefined };
  }

  dispose(): void {
    for (const t of this.cache.values()) t.dispose();
    this.cache.clear();
  }
}
