/**
 * An independent forward pass of diffusers' UNet2DConditionModel (SD1.5's block structure:
 * CrossAttnDownBlock2D ×3 + DownBlock2D, UNetMidBlock2DCrossAttn, UpBlock2D + CrossAttnUpBlock2D ×3)
 * in TensorFlow.js ops, written from diffusers' module definitions and reading its parameters by
 * module path (OnnxStateDict) — never by interpreting the ONNX graph — so that onnxruntime's run
 * of an exported or derived model, and tfjs's own autodiff of this forward, are two independent
 * computations of the same function.
 *
 * Every cross-attention layer takes its own key and value context (`KvContexts`), in execution
 * order: what a split-kv UNet computes; the plain UNet is the case where all of them are
 * encoder_hidden_states. Internally NHWC (tfjs's native layout); inputs and outputs are NCHW.
 */
import fs from 'node:fs';
import path from 'node:path';
import { tf } from './tfjs';
import { OnnxStateDict } from './OnnxStateDict';

export interface UnetConfig {
  blockOutChannels: number[];
  layersPerBlock: number;
  normGroups: number;
  normEps: number;
  /** diffusers' `attention_head_dim`, which for SD1.5 is really the number of heads. */
  heads: number;
  flipSinToCos: boolean;
  freqShift: number;
  downBlockTypes: string[];
  upBlockTypes: string[];
}

/** A diffusers `unet/config.json`, as UNet2DConditionModel.from_config reads it. */
export function readUnetConfig(file: string): UnetConfig {
  const c = JSON.parse(fs.readFileSync(file, 'utf8'));
  const heads = c.num_attention_heads ?? c.attention_head_dim;
  if (typeof heads !== 'number') throw new Error(`${file}: per-block head counts are not supported by this reference`);
  return {
    blockOutChannels: c.block_out_channels,
    layersPerBlock: c.layers_per_block,
    normGroups: c.norm_num_groups,
    normEps: c.norm_eps,
    heads,
    flipSinToCos: c.flip_sin_to_cos,
    freqShift: c.freq_shift,
    downBlockTypes: c.down_block_types,
    upBlockTypes: c.up_block_types,
  };
}

/** Cross-attention layer i's to_k reads k[i], its to_v reads v[i]; each [B, S, cross_attention_dim]. */
export interface KvContexts {
  k: tf.Tensor3D[];
  v: tf.Tensor3D[];
}

/** The same context for every layer: the plain UNet's encoder_hidden_states. */
export function sharedContexts(context: tf.Tensor3D, layers: number): KvContexts {
  return { k: new Array(layers).fill(context), v: new Array(layers).fill(context) };
}

const SQRT1_2 = Math.SQRT1_2;

export class TfjsUnet {
  constructor(
    readonly weights: OnnxStateDict,
    readonly config: UnetConfig,
  ) {}

  /** A diffusers-layout `unet` folder: config.json and the exported model's parameters. */
  static load(unetDir: string, modelFile = 'model.onnx'): TfjsUnet {
    return new TfjsUnet(OnnxStateDict.load(path.join(unetDir, modelFile)), readUnetConfig(path.join(unetDir, 'config.json')));
  }

  /** Module paths of the cross-attention layers in execution order (16 for SD1.5: down 0–5, mid 6, up 7–15). */
  crossAttentionModules(): string[] {
    const c = this.config;
    const down = c.downBlockTypes.flatMap((type, i) =>
      type.startsWith('CrossAttn') ? Array.from({ length: c.layersPerBlock }, (_, j) => `down_blocks.${i}.attentions.${j}`) : [],
    );
    const up = c.upBlockTypes.flatMap((type, i) =>
      type.startsWith('CrossAttn') ? Array.from({ length: c.layersPerBlock + 1 }, (_, j) => `up_blocks.${i}.attentions.${j}`) : [],
    );
    return [...down, 'mid_block.attentions.0', ...up].map((m) => `${m}.transformer_blocks.0.attn2`);
  }

  /**
   * noise prediction ε(sample, t, contexts): sample [B, C, H, W], timestep [B] or [1] (float),
   * → [B, out_channels, H, W]. Call inside tf.tidy or tf.grads; intermediates are not disposed.
   */
  forward(sample: tf.Tensor4D, timestep: tf.Tensor1D, contexts: KvContexts): tf.Tensor4D {
    const c = this.config;
    const order = this.crossAttentionModules();
    if (contexts.k.length !== order.length || contexts.v.length !== order.length) {
      throw new Error(`expected ${order.length} key and value contexts, got ${contexts.k.length} and ${contexts.v.length}`);
    }
    let layer = 0;
    const attend = (x: tf.Tensor4D, module: string) => {
      const i = layer++;
      if (order[i] !== `${module}.transformer_blocks.0.attn2`) throw new Error(`cross-attention ${i} is ${module}, expected ${order[i]}`);
      return this.transformer2D(x, module, contexts.k[i], contexts.v[i]);
    };

    const x = tf.transpose(sample, [0, 2, 3, 1]) as tf.Tensor4D;
    const batch = x.shape[0];
    // timesteps.expand(sample.shape[0])
    const t = tf.broadcastTo(tf.cast(timestep, 'float32'), [batch]) as tf.Tensor1D;
    const tProj = this.timestepEmbedding(t, c.blockOutChannels[0]);
    const temb = this.linear(tProj, 'time_embedding.linear_1');
    const emb = this.linear(this.silu(temb), 'time_embedding.linear_2') as tf.Tensor2D;

    let h = this.conv(x, 'conv_in');
    const skips: tf.Tensor4D[] = [h];
    c.downBlockTypes.forEach((type, i) => {
      const last = i === c.downBlockTypes.length - 1;
      for (let j = 0; j < c.layersPerBlock; j++) {
        h = this.resnet(h, emb, `down_blocks.${i}.resnets.${j}`, c.normEps);
        if (type.startsWith('CrossAttn')) h = attend(h, `down_blocks.${i}.attentions.${j}`);
        skips.push(h);
      }
      if (!last) {
        // Downsample2D: a 3×3 convolution with stride 2 and padding 1.
        h = this.conv(h, `down_blocks.${i}.downsamplers.0.conv`, 2);
        skips.push(h);
      }
    });

    h = this.resnet(h, emb, 'mid_block.resnets.0', c.normEps);
    h = attend(h, 'mid_block.attentions.0');
    h = this.resnet(h, emb, 'mid_block.resnets.1', c.normEps);

    c.upBlockTypes.forEach((type, i) => {
      const last = i === c.upBlockTypes.length - 1;
      for (let j = 0; j < c.layersPerBlock + 1; j++) {
        const skip = skips.pop()!;
        h = tf.concat([h, skip], 3);
        h = this.resnet(h, emb, `up_blocks.${i}.resnets.${j}`, c.normEps);
        if (type.startsWith('CrossAttn')) h = attend(h, `up_blocks.${i}.attentions.${j}`);
      }
      if (!last) {
        // Upsample2D: nearest interpolation to the next skip's size (×2 for even sizes), then a 3×3 convolution.
        const [, height, width] = skips[skips.length - 1].shape;
        h = this.conv(this.upsampleNearest(h, height, width), `up_blocks.${i}.upsamplers.0.conv`);
      }
    });
    if (layer !== order.length) throw new Error(`ran ${layer} cross-attention layers, expected ${order.length}`);

    h = this.silu(this.groupNorm(h, 'conv_norm_out', c.normEps));
    h = this.conv(h, 'conv_out');
    return tf.transpose(h, [0, 3, 1, 2]) as tf.Tensor4D;
  }

  /**
   * diffusers' get_timestep_embedding: ω_i = exp(−ln(10000)·i / (half − shift)) in float32,
   * [sin(t·ω), cos(t·ω)], swapped to [cos, sin] by flip_sin_to_cos.
   */
  private timestepEmbedding(t: tf.Tensor1D, dim: number): tf.Tensor2D {
    const half = dim / 2;
    const exponent = tf.div(tf.mul(tf.range(0, half, 1, 'float32'), -Math.log(10000)), half - this.config.freqShift);
    const angles = tf.mul(tf.expandDims(t, 1), tf.expandDims(tf.exp(exponent), 0));
    const sin = tf.sin(angles);
    const cos = tf.cos(angles);
    return tf.concat(this.config.flipSinToCos ? [cos, sin] : [sin, cos], 1) as tf.Tensor2D;
  }

  /** ResnetBlock2D: shortcut(x) + conv2(SiLU(norm2(conv1(SiLU(norm1(x))) + time_emb_proj(SiLU(temb))))). */
  private resnet(x: tf.Tensor4D, temb: tf.Tensor2D, module: string, eps: number): tf.Tensor4D {
    let h = this.conv(this.silu(this.groupNorm(x, `${module}.norm1`, eps)), `${module}.conv1`);
    const t = this.linear(this.silu(temb), `${module}.time_emb_proj`) as tf.Tensor2D;
    h = tf.add(h, tf.reshape(t, [t.shape[0], 1, 1, t.shape[1]]));
    h = this.conv(this.silu(this.groupNorm(h, `${module}.norm2`, eps)), `${module}.conv2`);
    const shortcut = this.weights.has(`${module}.conv_shortcut.weight`) ? this.conv(x, `${module}.conv_shortcut`) : x;
    return tf.add(shortcut, h);
  }

  /**
   * Transformer2DModel (use_linear_projection=False) with one BasicTransformerBlock:
   * x + proj_out(block(proj_in(GroupNorm(x)) as H·W tokens)).
   */
  private transformer2D(x: tf.Tensor4D, module: string, contextK: tf.Tensor3D, contextV: tf.Tensor3D): tf.Tensor4D {
    const [batch, height, width, channels] = x.shape;
    let h = this.conv(this.groupNorm(x, `${module}.norm`, 1e-6), `${module}.proj_in`);
    let tokens = tf.reshape(h, [batch, height * width, channels]) as tf.Tensor3D;
    const block = `${module}.transformer_blocks.0`;
    const n1 = this.layerNorm(tokens, `${block}.norm1`, 1e-5);
    tokens = tf.add(this.attention(n1, n1, n1, `${block}.attn1`), tokens);
    const n2 = this.layerNorm(tokens, `${block}.norm2`, 1e-5);
    tokens = tf.add(this.attention(n2, contextK, contextV, `${block}.attn2`), tokens);
    const n3 = this.layerNorm(tokens, `${block}.norm3`, 1e-5);
    tokens = tf.add(this.feedForward(n3, `${block}.ff`), tokens);
    h = this.conv(tf.reshape(tokens, [batch, height, width, channels]) as tf.Tensor4D, `${module}.proj_out`);
    return tf.add(h, x);
  }

  /** Attention: to_out.0(softmax(Q Kᵀ / √d) V) per head (Vaswani et al. 2017, eq. 1), bias-free to_q/to_k/to_v. */
  private attention(x: tf.Tensor3D, contextK: tf.Tensor3D, contextV: tf.Tensor3D, module: string): tf.Tensor3D {
    const heads = this.config.heads;
    const q = this.linear(x, `${module}.to_q`) as tf.Tensor3D;
    const k = this.linear(contextK, `${module}.to_k`) as tf.Tensor3D;
    const v = this.linear(contextV, `${module}.to_v`) as tf.Tensor3D;
    const [batch, seq, inner] = q.shape;
    const headDim = inner / heads;
    // head_to_batch_dim: [B, S, h·d] → [B·h, S, d]
    const split = (t: tf.Tensor3D) =>
      tf.reshape(tf.transpose(tf.reshape(t, [t.shape[0], t.shape[1], heads, headDim]), [0, 2, 1, 3]), [t.shape[0] * heads, t.shape[1], headDim]) as tf.Tensor3D;
    const scores = tf.mul(tf.matMul(split(q), split(k), false, true), headDim ** -0.5);
    const probs = tf.softmax(scores, -1);
    const merged = tf.reshape(tf.transpose(tf.reshape(tf.matMul(probs, split(v)), [batch, heads, seq, headDim]), [0, 2, 1, 3]), [batch, seq, inner]);
    return this.linear(merged, `${module}.to_out.0`) as tf.Tensor3D;
  }

  /** FeedForward with GEGLU (Shazeer 2020): net.2(h · GELU(gate)), [h, gate] = chunk(net.0.proj(x), 2), exact erf GELU. */
  private feedForward(x: tf.Tensor3D, module: string): tf.Tensor3D {
    const [h, gate] = tf.split(this.linear(x, `${module}.net.0.proj`), 2, -1);
    const gelu = tf.mul(tf.mul(gate, 0.5), tf.add(tf.erf(tf.mul(gate, SQRT1_2)), 1));
    return this.linear(tf.mul(h, gelu), `${module}.net.2`) as tf.Tensor3D;
  }

  // ---- torch.nn layers ----

  /** nn.Conv2d with "same" padding (k−1)/2 and the given stride; weights [O, I, kh, kw] → tfjs's [kh, kw, I, O]. */
  private conv(x: tf.Tensor4D, module: string, stride = 1): tf.Tensor4D {
    const w = this.weights.tensor(`${module}.weight`) as tf.Tensor4D;
    const pad = (w.shape[2] - 1) / 2;
    const padded = pad ? tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]) : x;
    const y = tf.conv2d(padded, tf.transpose(w, [2, 3, 1, 0]) as tf.Tensor4D, stride, 'valid');
    return tf.add(y, this.weights.tensor(`${module}.bias`));
  }

  /** nn.Linear over the last axis. */
  private linear(x: tf.Tensor, module: string): tf.Tensor {
    const { weightT, bias } = this.weights.linear(module);
    const [inF, outF] = weightT.shape;
    const y = tf.reshape(tf.matMul(tf.reshape(x, [-1, inF]) as tf.Tensor2D, weightT), [...x.shape.slice(0, -1), outF]);
    return bias ? tf.add(y, bias) : y;
  }

  /** nn.GroupNorm: per sample and group, (x − μ)/√(σ² + ε) over the group's channels and all pixels, then γ, β per channel. */
  private groupNorm(x: tf.Tensor4D, module: string, eps: number): tf.Tensor4D {
    const [batch, height, width, channels] = x.shape;
    const groups = this.config.normGroups;
    const grouped = tf.reshape(x, [batch, height * width, groups, channels / groups]);
    const mean = tf.mean(grouped, [1, 3], true);
    const centered = tf.sub(grouped, mean);
    const variance = tf.mean(tf.square(centered), [1, 3], true);
    const normed = tf.reshape(tf.div(centered, tf.sqrt(tf.add(variance, eps))), x.shape);
    const gamma = tf.reshape(this.weights.tensor(`${module}.weight`), [channels]);
    const beta = tf.reshape(this.weights.tensor(`${module}.bias`), [channels]);
    return tf.add(tf.mul(normed, gamma), beta);
  }

  /** nn.LayerNorm over the last axis. */
  private layerNorm(x: tf.Tensor3D, module: string, eps: number): tf.Tensor3D {
    const mean = tf.mean(x, -1, true);
    const centered = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centered), -1, true);
    const normed = tf.div(centered, tf.sqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(normed, this.weights.tensor(`${module}.weight`)), this.weights.tensor(`${module}.bias`));
  }

  /** SiLU(x) = x·σ(x). */
  private silu<T extends tf.Tensor>(x: T): T {
    return tf.mul(x, tf.sigmoid(x));
  }

  /** F.interpolate(mode='nearest', size=…): source index ⌊dst · in/out⌋ per axis. */
  private upsampleNearest(x: tf.Tensor4D, height: number, width: number): tf.Tensor4D {
    const [, inH, inW] = x.shape;
    const index = (n: number, size: number) => tf.tensor1d(Array.from({ length: n }, (_, i) => Math.min(Math.floor((i * size) / n), size - 1)), 'int32');
    return tf.gather(tf.gather(x, index(height, inH), 1), index(width, inW), 2);
  }
}
