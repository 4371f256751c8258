/**
 * diffusers' UNet2DConditionModel in SD1.5's block structure:
 * down: 3 × CrossAttnDownBlock2D + DownBlock2D, mid: UNetMidBlock2DCrossAttn,
 * up: UpBlock2D + 3 × CrossAttnUpBlock2D, two resnets per down block and three per up block.
 */
import { DataType } from '../main/engine/graph/onnx';
import { ModuleBuilder } from './ModuleBuilder';
import type { BuiltPart, PartSpec } from './PartSpec';
import { resnetBlock2D } from './resnetBlock2D';
import { transformer2D } from './transformer2D';

interface Skip {
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

export function buildUnet(spec: PartSpec): BuiltPart {
  const torch = spec.variant === 'torch';
  const m = new ModuleBuilder({ opset: torch ? 14 : 17, seed: spec.seed, fp16: spec.fp16, nodePrefix: torch ? 'u' : undefined });
  const p = spec.preset.unet;
  const [c0] = p.blockOutChannels;
  const timeDim = 4 * c0;
  const groups = p.normGroups;
  const inChannels = spec.inpainting ? 9 : 4;
  const batchDim = torch ? 'batch' : 'batch_size';
  const f = m.floatType;

  const sample = m.g.input('sample', f, [batchDim, inChannels, 'height', 'width']);
  const timestep = m.g.input('timestep', torch ? f : DataType.INT64, [torch ? 'batch' : 'steps']);
  const context = m.g.input('encoder_hidden_states', f, [batchDim, torch ? 'sequence' : 'sequence_length', p.crossAttentionDim]);

  const out = m.root(() => {
    // timesteps.expand(sample.shape[0]): one timestep for the whole batch is allowed.
    const t = m.op('Expand', [m.op('Cast', [timestep], { to: DataType.FLOAT }), m.dim(sample, 0)]);
    const tProj = m.scope('time_proj', () => timeProjection(m, t, c0));
    const temb = m.scope('time_embedding', () => {
      const h = m.scope('linear_1', () => m.linear(tProj, c0, timeDim));
      const a = m.scope('act', () => m.silu(h));
      return m.scope('linear_2', () => m.linear(a, timeDim, timeDim));
    });
    const resnet = (x: string, cin: number, cout: number) =>
      resnetBlock2D(m, x, cin, cout, { groups, eps: 1e-5, temb: { value: temb, channels: timeDim } });
    const attention = (x: string, channels: number) =>
      transformer2D(m, x, channels, { groups, heads: p.heads, context, crossDim: p.crossAttentionDim });

    let h = m.scope('conv_in', () => m.conv2d(sample, inChannels, c0, 3));
    const skips: Skip[] = [{ value: h, channels: c0 }];
    let channels = c0;

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
