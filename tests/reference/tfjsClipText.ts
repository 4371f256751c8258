/**
 * An independent forward pass of transformers' CLIPTextTransformer from token embeddings, in
 * TensorFlow.js ops, written from the transformers module definitions and reading parameters by
 * module path (OnnxStateDict), never by interpreting the ONNX graph: + position embeddings,
 * pre-LayerNorm encoder layers with a causal mask and a quick_gelu MLP, final_layer_norm.
 */
import fs from 'node:fs';
import path from 'node:path';
import { tf } from './tfjs';
import { OnnxStateDict } from './OnnxStateDict';

export interface ClipTextConfig {
  hidden: number;
  heads: number;
  layers: number;
  eps: number;
}

/** A transformers `text_encoder/config.json` (CLIPTextConfig). */
export function readClipTextConfig(file: string): ClipTextConfig {
  const c = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (c.hidden_act !== 'quick_gelu') throw new Error(`${file}: hidden_act '${c.hidden_act}' is not supported by this reference (quick_gelu only)`);
  return { hidden: c.hidden_size, heads: c.num_attention_heads, layers: c.num_hidden_layers, eps: c.layer_norm_eps };
}

export interface ClipTextOutputs {
  /** The encoder's output before final_layer_norm, [B, S, H]. */
  preNorm: tf.Tensor3D;
  lastHidden: tf.Tensor3D;
  /** last_hidden_state at each row's end-of-text position, [B, H]; only when eos positions are given. */
  pooled?: tf.Tensor2D;
}

/** torch.finfo(float32).min, the causal mask's fill value in transformers. */
const FLOAT32_MIN = -3.4028234663852886e38;

export class TfjsClipText {
  constructor(
    readonly weights: OnnxStateDict,
    readonly config: ClipTextConfig,
  ) {}

  static load(textEncoderDir: string, modelFile = 'model.onnx'): TfjsClipText {
    return new TfjsClipText(OnnxStateDict.load(path.join(textEncoderDir, modelFile)), readClipTextConfig(path.join(textEncoderDir, 'config.json')));
  }

  /**
   * inputsEmbeds [B, S, H] (token embeddings before position embeddings); `eos` (per row, the
   * first end-of-text index, argmax of the ids) selects the pooled output.
   * Call inside tf.tidy or tf.grads; intermediates are not disposed.
   */
  forward(inputsEmbeds: tf.Tensor3D, eos?: number[]): ClipTextOutputs {
    const [batch, seq, hidden] = inputsEmbeds.shape;
    const positions = tf.slice(this.weights.tensor('text_model.embeddings.position_embedding.weight'), [0, 0], [seq, hidden]);
    let h = tf.add(inputsEmbeds, positions) as tf.Tensor3D;
    // _create_4d_causal_attention_mask: finfo.min strictly above the diagonal, 0 elsewhere.
    const mask = tf.tensor2d(
      Array.from({ length: seq * seq }, (_, i) => (i % seq > Math.floor(i / seq) ? FLOAT32_MIN : 0)),
      [seq, seq],
    );
    for (let i = 0; i < this.config.layers; i++) {
      const layer = `text_model.encoder.layers.${i}`;
      h = tf.add(h, this.selfAttention(this.layerNorm(h, `${layer}.layer_norm1`), mask, `${layer}.self_attn`));
      h = tf.add(h, this.mlp(this.layerNorm(h, `${layer}.layer_norm2`), `${layer}.mlp`));
    }
    const lastHidden = this.layerNorm(h, 'text_model.final_layer_norm');
    const pooled = eos
      ? (tf.gather(tf.reshape(lastHidden, [batch * seq, hidden]), tf.tensor1d(eos.map((e, b) => b * seq + e), 'int32')) as tf.Tensor2D)
      : undefined;
    return { preNorm: h, lastHidden, pooled };
  }

  /** CLIPAttention: out_proj(softmax((q_proj(x)·scale) Kᵀ + mask) V) per head. */
  private selfAttention(x: tf.Tensor3D, mask: tf.Tensor2D, module: string): tf.Tensor3D {
    const [batch, seq, hidden] = x.shape;
    const heads = this.config.heads;
    const headDim = hidden / heads;
    const split = (t: tf.Tensor) => tf.reshape(tf.transpose(tf.reshape(t, [batch, seq, heads, headDim]), [0, 2, 1, 3]), [batch * heads, seq, headDim]) as tf.Tensor3D;
    const q = split(tf.mul(this.linear(x, `${module}.q_proj`), headDim ** -0.5));
    const k = split(this.linear(x, `${module}.k_proj`));
    const v = split(this.linear(x, `${module}.v_proj`));
    const probs = tf.softmax(tf.add(tf.matMul(q, k, false, true), mask), -1);
    const merged = tf.reshape(tf.transpose(tf.reshape(tf.matMul(probs, v), [batch, heads, seq, headDim]), [0, 2, 1, 3]), [batch, seq, hidden]);
    return this.linear(merged, `${module}.out_proj`) as tf.Tensor3D;
  }

  /** CLIPMLP: fc2(quick_gelu(fc1(x))), quick_gelu(x) = x·σ(1.702x). */
  private mlp(x: tf.Tensor3D, module: string): tf.Tensor3D {
    const a = this.linear(x, `${module}.fc1`);
    return this.linear(tf.mul(a, tf.sigmoid(tf.mul(a, 1.702))), `${module}.fc2`) as tf.Tensor3D;
  }

  private linear(x: tf.Tensor, module: string): tf.Tensor {
    const { weightT, bias } = this.weights.linear(module);
    const [inF, outF] = weightT.shape;
    const y = tf.reshape(tf.matMul(tf.reshape(x, [-1, inF]) as tf.Tensor2D, weightT), [...x.shape.slice(0, -1), outF]);
    return bias ? tf.add(y, bias) : y;
  }

  private layerNorm(x: tf.Tensor3D, module: string): tf.Tensor3D {
    const mean = tf.mean(x, -1, true);
    const centered = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centered), -1, true);
    const normed = tf.div(centered, tf.sqrt(tf.add(variance, this.config.eps)));
    return tf.add(tf.mul(normed, this.weights.tensor(`${module}.weight`)), this.weights.tensor(`${module}.bias`));
  }
}
