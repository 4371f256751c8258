/**
 * diffusers' ControlNetModel for SD1.5: the UNet's time embedding, conv_in, down blocks and mid
 * block (built by the same code as the UNet's, so a ControlNet and a UNet of one seed share
 * those weights as a ControlNet initialised from its UNet does), plus
 *   controlnet_cond_embedding: conv_in 3→e₀, SiLU, then per step k (Conv e_k→e_k, SiLU,
 *     Conv e_k→e_{k+1} stride 2, SiLU), conv_out e_last→c₀ — three stride-2 steps, so the
 *     embedding of a [B,3,8h,8w] condition lands on the [B,c₀,h,w] latent grid;
 *   sample = conv_in(sample) + embedding(controlnet_cond);
 *   residual_i = controlnet_down_blocks.i(down_block_res_sample_i) (1×1 convs, i < 12),
 *   mid = controlnet_mid_block(mid_block output), each multiplied by conditioning_scale.
 * Real checkpoints start conv_out and the 1×1 convs at zero; random here, so tests see an effect.
 */
import { DataType } from '../../main/engine/graph/onnx';
import { ModuleBuilder } from '../ModuleBuilder';
import type { BuiltPart } from '../PartSpec';
import type { ModelPreset, PresetName } from '../presets';
import { presets } from '../presets';
import { unetEncoder, unetLayers } from '../unet';

export type ControlNetVariant = 'optimum' | 'torch';

export interface ControlNetSpec {
  preset: PresetName;
  seed: number;
  fp16: boolean;
  /**
   * `optimum`: int64 timestep [steps], outputs `down_block_{i}_additional_residual` and
   * `mid_block_additional_residual`; `torch`: float scalar timestep, outputs
   * `down_block_res_sample_{i}` and `mid_block_res_sample`, node names under `/c/`.
   */
  variant: ControlNetVariant;
  /** A `conditioning_scale` input (default); without it the caller scales the residuals. */
  conditioningScale: boolean;
  /** Overrides the preset's cross-attention width (a ControlNet made for another base model). */
  crossAttentionDim?: number;
}

/** controlnet_cond_embedding's block_out_channels: SD1.5's (16, 32, 96, 256) and a tiny stand-in. */
export const CONDITIONING_EMBEDDING_CHANNELS: Record<PresetName, [number, number, number, number]> = {
  tiny: [4, 8, 8, 16],
  full: [16, 32, 96, 256],
};

export function controlNetOutputNames(variant: ControlNetVariant): { down: string[]; mid: string } {
  if (variant === 'torch') {
    return { down: Array.from({ length: 12 }, (_, i) => `down_block_res_sample_${i}`), mid: 'mid_block_res_sample' };
  }
  return { down: Array.from({ length: 12 }, (_, i) => `down_block_${i}_additional_residual`), mid: 'mid_block_additional_residual' };
}

/** The UNet preset with the ControlNet's cross-attention width. */
export function controlNetUnetPreset(spec: ControlNetSpec): ModelPreset['unet'] {
  const unet = presets[spec.preset].unet;
  return spec.crossAttentionDim === undefined ? unet : { ...unet, crossAttentionDim: spec.crossAttentionDim };
}

/**
 * A conv of the conditioning embedding with Kaiming-uniform weights (bound √(6/fan_in)): PyTorch's
 * default bound 1/√fan_in shrinks activations about threefold per layer, which over seven layers
 * would leave the condition almost no say in the tiny model's residuals.
 */
function embeddingConv(m: ModuleBuilder, x: string, cin: number, cout: number, stride = 1): string {
  const bound = Math.sqrt(6 / (cin * 9));
  const w = m.weight('weight', [cout, cin, 3, 3], bound);
  const b = m.weight('bias', [cout], 1 / Math.sqrt(cin * 9));
  return m.op('Conv', [x, w, b], { dilations: [1, 1], group: 1, kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [stride, stride] });
}

function conditioningEmbedding(m: ModuleBuilder, cond: string, channels: readonly number[], out: number): string {
  const act = (x: string) => m.silu(x);
  let h = act(m.scope('conv_in', () => embeddingConv(m, cond, 3, channels[0])));
  let block = 0;
  for (let k = 0; k < channels.length - 1; k++) {
    const [cin, cout] = [channels[k], channels[k + 1]];
    h = act(m.scope(`blocks.${block++}`, () => embeddingConv(m, h, cin, cin)));
    h = act(m.scope(`blocks.${block++}`, () => embeddingConv(m, h, cin, cout, 2)));
  }
  return m.scope('conv_out', () => embeddingConv(m, h, channels[channels.length - 1], out));
}

export function buildControlNet(spec: ControlNetSpec): BuiltPart {
  const torch = spec.variant === 'torch';
  const m = new ModuleBuilder({ opset: torch ? 14 : 17, seed: spec.seed, fp16: spec.fp16, nodePrefix: torch ? 'c' : undefined });
  const p = controlNetUnetPreset(spec);
  const [c0] = p.blockOutChannels;
  const batchDim = torch ? 'batch' : 'batch_size';
  const f = m.floatType;

  const sample = m.g.input('sample', f, [batchDim, 4, 'height', 'width']);
  const timestep = torch ? m.g.input('timestep', f, []) : m.g.input('timestep', DataType.INT64, ['steps']);
  const context = m.g.input('encoder_hidden_states', f, [batchDim, torch ? 'sequence' : 'sequence_length', p.crossAttentionDim]);
  const cond = m.g.input('controlnet_cond', f, [batchDim, 3, 'image_height', 'image_width']);
  const scale = spec.conditioningScale ? m.g.input('conditioning_scale', f, []) : undefined;

  const names = controlNetOutputNames(spec.variant);
  const outputs = m.root(() => {
    const layers = unetLayers(m, p, sample, timestep, context);
    const convIn = m.scope('conv_in', () => m.conv2d(sample, 4, c0, 3));
    const embedded = m.scope('controlnet_cond_embedding', () => conditioningEmbedding(m, cond, CONDITIONING_EMBEDDING_CHANNELS[spec.preset], c0));
    const { skips, h, channels } = unetEncoder(m, p, layers, m.op('Add', [convIn, embedded]));
    const scaled = (x: string) => (scale ? m.op('Mul', [x, scale]) : x);
    const down = skips.map((s, i) => scaled(m.scope(`controlnet_down_blocks.${i}`, () => m.conv2d(s.value, s.channels, s.channels, 1))));
    const mid = scaled(m.scope('controlnet_mid_block', () => m.conv2d(h, channels, channels, 1)));
    return { down, mid, channels: skips.map((s) => s.channels), midChannels: channels };
  });

  outputs.down.forEach((value, i) => {
    m.rename(value, names.down[i]);
    m.g.output(names.down[i], f, [batchDim, outputs.channels[i], `${names.down[i]}_height`, `${names.down[i]}_width`]);
  });
  m.rename(outputs.mid, names.mid);
  m.g.output(names.mid, f, [batchDim, outputs.midChannels, `${names.mid}_height`, `${names.mid}_width`]);
  return { model: m.g.model({ producerName: 'pentimento-test-model' }), parameterCount: m.parameterCount };
}
