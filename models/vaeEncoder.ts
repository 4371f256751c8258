import { ModuleBuilder } from './ModuleBuilder';
import type { BuiltPart, PartSpec } from './PartSpec';
import { VAE_NORM_EPS, vaeMidBlock, vaeResnet } from './vaeBlocks';

/**
 * AutoencoderKL's encoder + quant_conv: image [B, 3, H, W] → Gaussian parameters
 * [B, 2·4, H/8, W/8] (mean, then log-variance). The optimum-style variant returns the mean alone
 * as `latent_sample` (a deterministic encoding); the torch-style one returns all 8 channels as
 * `latent_parameters`.
 */
export function buildVaeEncoder(spec: PartSpec): BuiltPart {
  const torch = spec.variant === 'torch';
  const m = new ModuleBuilder({ opset: torch ? 14 : 17, seed: spec.seed, fp16: spec.fp16 });
  const p = spec.preset.vae;
  const groups = p.normGroups;
  const latent = p.latentChannels;
  const f = m.floatType;
  const batchDim = torch ? 'batch' : 'batch_size';
  const sample = m.g.input('sample', f, [batchDim, 3, 'height', 'width']);

  const moments = m.root(() => {
    let h = m.scope('encoder', () => {
      let x = m.scope('conv_in', () => m.conv2d(sample, 3, p.blockOutChannels[0], 3));
      let channels = p.blockOutChannels[0];
      p.blockOutChannels.forEach((cout, i) => {
        m.scope(`down_blocks.${i}`, () => {
          for (let j = 0; j < 2; j++) {
            x = m.scope(`resnets.${j}`, () => vaeResnet(m, x, channels, cout, groups));
            channels = cout;
          }
          if (i < p.blockOutChannels.length - 1) {
            // Downsample2D(padding=0): F.pad(x, (0, 1, 0, 1)) then a stride-2 3×3 conv.
            x = m.scope('downsamplers.0', () => {
              const padded = m.op('Pad', [x, m.ints([0, 0, 0, 0, 0, 0, 1, 1]), m.scalar(0)], { mode: 'constant' });
              return m.scope('conv', () => m.conv2d(padded, cout, cout, 3, { stride: 2, pad: 0 }));
            });
          }
        });
      });
      x = m.scope('mid_block', () => vaeMidBlock(m, x, channels, groups));
      x = m.scope('conv_norm_out', () => m.groupNorm(x, channels, groups, VAE_NORM_EPS));
      x = m.scope('conv_act', () => m.silu(x));
      return m.scope('conv_out', () => m.conv2d(x, channels, 2 * latent, 3));
    });
    h = m.scope('quant_conv', () => m.conv2d(h, 2 * latent, 2 * latent, 1));
    if (torch) return h;
    return m.op('Slice', [h, m.ints([0]), m.ints([latent]), m.ints([1])]);
  });

  const name = torch ? 'latent_parameters' : 'latent_sample';
  m.rename(moments, name);
  m.g.output(name, f, [batchDim, torch ? 2 * latent : latent, 'latent_height', 'latent_width']);
  return { model: m.g.model({ producerName: 'pentimento-test-model' }), parameterCount: m.parameterCount };
}
