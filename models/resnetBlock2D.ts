import type { ModuleBuilder } from './ModuleBuilder';

export interface ResnetOptions {
  groups: number;
  eps: number;
  /** The UNet's time embedding and its width; the VAE's resnets have none. */
  temb?: { value: string; channels: number };
}

/**
 * diffusers' ResnetBlock2D, called inside its module scope:
 * h = conv1(SiLU(norm1(x))) + time_emb_proj(SiLU(temb))[:, :, None, None];
 * out = shortcut(x) + conv2(SiLU(norm2(h))), with a 1×1 conv_shortcut when channels change.
 */
export function resnetBlock2D(m: ModuleBuilder, x: string, inChannels: number, outChannels: number, opts: ResnetOptions): string {
  const act = (v: string) => m.scope('nonlinearity', () => m.silu(v));
  let h = m.scope('norm1', () => m.groupNorm(x, inChannels, opts.groups, opts.eps));
  h = act(h);
  h = m.scope('conv1', () => m.conv2d(h, inChannels, outChannels, 3));
  if (opts.temb) {
    const { value, channels } = opts.temb;
    const activated = act(value);
    const t = m.scope('time_emb_proj', () => m.linear(activated, channels, outChannels));
    h = m.op('Add', [h, m.op('Unsqueeze', [t, m.ints([2, 3])])]);
  }
  h = m.scope('norm2', () => m.groupNorm(h, outChannels, opts.groups, opts.eps));
  h = act(h);
  h = m.scope('conv2', () => m.conv2d(h, outChannels, outChannels, 3));
  const shortcut = inChannels === outChannels ? x : m.scope('conv_shortcut', () => m.conv2d(x, inChannels, outChannels, 1));
  return m.op('Add', [shortcut, h]);
}
