import { ModuleBuilder } from './ModuleBuilder';
import type { BuiltPart, PartSpec } from './PartSpec';
import { VAE_NORM_EPS, vaeMidBlock, vaeResnet } from './vaeBlocks';

/** AutoencoderKL's post_quant_conv + decoder: latents [B, 4, h, w] → image [B, 3, 8h, 8w]. */
export function buildVaeDecoder(spec: PartSpec): BuiltPart {
  const torch = spec.variant === 'torch';
  const m = new ModuleBuilder({ opset: torch ? 14 : 17, seed: spec.seed, fp16: spec.fp16 });
  const p = spec.preset.vae;
  const groups = p.normGroups;
  const latent = p.latentChannels;
  const f = m.floatType;
  const batchDim = torch ? 'batch' : 'batch_size';
  const latentSample = m.g.input('latent_sample', f, [batchDim, latent, 'latent_height', 'latent_width']);

  const image = m.root(() => {
    const z = m.scope('post_quant_conv', () => m.conv2d(latentSample, latent, latent, 1));
    return m.scope('decoder', () => {
      const reversed = [...p.blockOutChannels].reverse();
      let channels = reversed[0];
      let x = m.scope('conv_in', () => m.conv2d(z, latent, channels, 3));
      x = m.scope('mid_block', () => vaeMidBlock(m, x, channels, groups));
      reversed.forEach((cout, i) => {
        m.scope(`up_blocks.${i}`, () => {
          for (let j = 0; j < 3; j++) {
            x = m.scope(`resnets.${j}`, () => vaeResnet(m, x, channels, cout, groups));
            channels = cout;
          }
          if (i < reversed.length - 1) {
            x = m.scope('upsamplers.0', () => {
              const up = m.op('Resize', [x, '', m.g.constFloat([1, 1, 2, 2])], {
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
      x = m.scope('conv_norm_out', () => m.groupNorm(x, channels, groups, VAE_NORM_EPS));
      x = m.scope('conv_act', () => m.silu(x));
      return m.scope('conv_out', () => m.conv2d(x, channels, 3, 3));
    });
  });

  m.rename(image, 'sample');
  m.g.output('sample', f, [batchDim, 3, 'height', 'width']);
  return { model: m.g.model({ producerName: 'pentimento-test-model' }), parameterCount: m.parameterCount };
}
