/**
 * diffusers' UNet2DConditionModel in SD1.5's block structure:
 * down: 3 × CrossAttnDownBlock2D + DownBlock2D, mid: UNetMidBlock2DCrossAttn,
 * up: UpBlock2D + 3 × CrossAttnUpBlock2D, two resnets per down block and three per up block.
 */
import { DataType } from '../main/engine/graph/onnx';
import { ModuleBuilder } from './ModuleBuilder';
import type { BuiltPart, PartSpec } from './PartSpec';
import type { ModelPreset } from './presets';
import { resnetBlock2D } from './resnetBlock2D';
import { transformer2D } from './transformer2D';

export interface Skip {
  value: string;
  channels: number;
}

/**
 * Timesteps(flip_sin_to_cos=True, downscale_freq_shift=0): [cos(t·ω), sin(t·ω)] with
 * ω_i = exp(−ln(10000)·i/half), i < half — computed in float32 as diffusers does, then cast.
 */
function timeProjection(m: ModuleBuilder, t: string, dim: number): string {
  const half = dim / 2;
  const freqs = Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / half));
  const angles = m.op('Mul', [m.op('Unsqueeze', [t, m.ints([1])]), m.g.constFloat(freqs, [1, half])]);
  const emb = m.op('Concat', [m.op('Cos', [angles]), m.op('Sin', [angles])], { axis: -1 });
  return m.floatType === DataType.FLOAT ? emb : m.op('Cast', [emb], { to: m.floatType });
}

/** The UNet's time embedding, residual layers and transformer layers, shared with the ControlNet. */
export interface UnetLayers {
  temb: string;
  timeDim: number;
  resnet: (x: string, cin: number, cout: number) => string;
  attention: (x: string, channels: number) => string;
}

/**
 * timesteps.expand(sample.shape[0]) → time_proj → time_embedding (Linear, SiLU, Linear), and the
 * resnet / transformer builders that read its output and the text context.
 */
export function unetLayers(m: ModuleBuilder, p: ModelPreset['unet'], sample: string, timestep: string, context: string): UnetLayers {
  const [c0] = p.blockOutChannels;
  const timeDim = 4 * c0;
  const groups = p.normGroups;
  // timesteps.expand(sample.shape[0]): one timestep for the whole batch is allowed.
  const t = m.op('Expand', [m.op('Cast', [timestep], { to: DataType.FLOAT }), m.dim(sample, 0)]);
  const tProj = m.scope('time_proj', () => timeProjection(m, t, c0));
  const temb = m.scope('time_embedding', () => {
    const h = m.scope('linear_1', () => m.linear(tProj, c0, timeDim));
    const a = m.scope('act', () => m.silu(h));
    return m.scope('linear_2', () => m.linear(a, timeDim, timeDim));
  });
  return {
    temb,
    timeDim,
    resnet: (x, cin, cout) => resnetBlock2D(m, x, cin, cout, { groups, eps: 1e-5, temb: { value: temb, channels: timeDim } }),
    attention: (x, channels) => transformer2D(m, x, channels, { groups, heads: p.heads, context, crossDim: p.crossAttentionDim }),
  };
}

/** The encoder half: down_blocks and mid_block from conv_in's output `h`. */
export interface UnetEncoderOutput {
  /** diffusers' down_block_res_samples: conv_in, each down resnet/attention output, each downsampler (12 for SD1.5). */
  skips: Skip[];
  /** mid_block's output. */
  h: string;
  channels: number;
}

export function unetEncoder(m: ModuleBuilder, p: ModelPreset['unet'], layers: UnetLayers, convIn: string): UnetEncoderOutput {
  const { resnet, attention } = layers;
  let h = convIn;
  let channels = p.blockOutChannels[0];
  const skips: Skip[] = [{ value: h, channels }];

  p.blockOutChannels.forEach((cout, i) => {
    const last = i === p.blockOutChannels.length - 1;
    m.scope(`down_blocks.${i}`, () => {
      for (let j = 0; j < p.layersPerBlock; j++) {
        h = m.scope(`resnets.${j}`, () => resnet(h, channels, cout));
        channels = cout;
        if (!last) h = m.scope(`attentions.${j}`, () => attention(h, cout));
        skips.push({ value: h, channels });
      }
      if (!last) {
        h = m.scope('downsamplers.0', () => m.scope('conv', () => m.conv2d(h, cout, cout, 3, { stride: 2, pad: 1 })));
        skips.push({ value: h, channels });
      }
    });
  });

  m.scope('mid_block', () => {
    h = m.scope('resnets.0', () => resnet(h, channels, channels));
    h = m.scope('attentions.0', () => attention(h, channels));
    h = m.scope('resnets.1', () => resnet(h, channels, channels));
  });
  return { skips, h, channels };
}

/** Names of the residual inputs of a UNet exported with ControlNet residual inputs, per variant. */
export function unetResidualInputNames(variant: PartSpec['variant']): { down: string[]; mid: string } {
  const down = Array.from({ length: 12 }, (_, i) => (variant === 'torch' ? `down_block_additional_residual_${i}` : `down_block_${i}_additional_residual`));
  return { down, mid: 'mid_block_additional_residual' };
}

export function buildUnet(spec: PartSpec): BuiltPart {
  const torch = spec.variant === 'torch';
  const m = new ModuleBuilder({ opset: torch ? 14 : 17, seed: spec.seed, fp16: spec.fp16, nodePrefix: torch ? 'u' : undefined });
  const p = spec.preset.unet;
  const [c0] = p.blockOutChannels;
  const groups = p.normGroups;
  const inChannels = spec.inpainting ? 9 : 4;
  const batchDim = torch ? 'batch' : 'batch_size';
  const f = m.floatType;

  const sample = m.g.input('sample', f, [batchDim, inChannels, 'height', 'width']);
  const timestep = m.g.input('timestep', torch ? f : DataType.INT64, [torch ? 'batch' : 'steps']);
  const context = m.g.input('encoder_hidden_states', f, [batchDim, torch ? 'sequence' : 'sequence_length', p.crossAttentionDim]);
  const residualInputs = spec.controlResidualInputs ? unetResidualInputNames(spec.variant) : undefined;

  const out = m.root(() => {
    const layers = unetLayers(m, p, sample, timestep, context);
    const { resnet, attention } = layers;
    const convIn = m.scope('conv_in', () => m.conv2d(sample, inChannels, c0, 3));
    const encoded = unetEncoder(m, p, layers, convIn);
    const skips = encoded.skips;
    let { h, channels } = encoded;

    if (residualInputs) {
      // diffusers adds a ControlNet's residuals to every down_block_res_sample and to the mid-block
      // output before the up blocks read them (UNet2DConditionModel.forward).
      skips.forEach((skip, i) => {
        const name = m.g.input(residualInputs.down[i], f, [batchDim, skip.channels, `${residualInputs.down[i]}_height`, `${residualInputs.down[i]}_width`]);
        skip.value = m.op('Add', [skip.value, name]);
      });
      const mid = m.g.input(residualInputs.mid, f, [batchDim, channels, `${residualInputs.mid}_height`, `${residualInputs.mid}_width`]);
      h = m.op('Add', [h, mid]);
    }

    const reversed = [...p.blockOutChannels].reverse();
    reversed.forEach((cout, i) => {
      const last = i === reversed.length - 1;
      m.scope(`up_blocks.${i}`, () => {
        for (let j = 0; j < p.layersPerBlock + 1; j++) {
          const skip = skips.pop()!;
          h = m.op('Concat', [h, skip.value], { axis: 1 });
          h = m.scope(`resnets.${j}`, () => resnet(h, channels + skip.channels, cout));
          channels = cout;
          if (i > 0) h = m.scope(`attentions.${j}`, () => attention(h, cout));
        }
        if (!last) {
          // Upsample to the next skip's size (diffusers' upsample_size), so odd latent sizes work.
          const target = skips[skips.length - 1].value;
          h = m.scope('upsamplers.0', () => {
            const sizes = m.concatInts([m.dim(h, 0), m.dim(h, 1), m.dim(target, 2), m.dim(target, 3)]);
            const up = m.op('Resize', [h, '', '', sizes], {
              coordinate_transformation_mode: 'asymmetric',
              cubic_coeff_a: -0.75,
              mode: 'nearest',
              nearest_mode: 'floor',
            });
            return m.scope('conv', () => m.conv2d(up, cout, cout, 3));
          });
        }
      });
    });

    h = m.scope('conv_norm_out', () => m.groupNorm(h, channels, groups, 1e-5));
    h = m.scope('conv_act', () => m.silu(h));
    return m.scope('conv_out', () => m.conv2d(h, channels, 4, 3));
  });

  m.rename(out, 'out_sample');
  m.g.output('out_sample', f, [batchDim, 4, 'height', 'width']);
  return { model: m.g.model({ producerName: 'pentimento-test-model' }), parameterCount: m.parameterCount };
}
