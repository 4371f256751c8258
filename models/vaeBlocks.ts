/** Blocks shared by the VAE's encoder and decoder (diffusers' AutoencoderKL). */
import type { ModuleBuilder } from './ModuleBuilder';
import { resnetBlock2D } from './resnetBlock2D';

export const VAE_NORM_EPS = 1e-6;

export function vaeResnet(m: ModuleBuilder, x: string, cin: number, cout: number, groups: number): string {
  return resnetBlock2D(m, x, cin, cout, { groups, eps: VAE_NORM_EPS });
}

/**
 * The VAE's single-head spatial self-attention (diffusers' Attention with group_norm, biased
 * projections and residual_connection): x + to_out(attn(GN(x) as [B, HW, C] tokens)).
 */
function vaeAttention(m: ModuleBuilder, x: string, channels: number, groups: number): string {
  const flat = m.op('Reshape', [x, m.ints([0, channels, -1])]);
  const normed = m.scope('group_norm', () => m.groupNorm(flat, channels, groups, VAE_NORM_EPS, 1));
  const tokens = m.op('Transpose', [normed], { perm: [0, 2, 1] });
  const q = m.scope('to_q', () => m.linear(tokens, channels, channels));
  const k = m.scope('to_k', () => m.linear(tokens, channels, channels));
  const v = m.scope('to_v', () => m.linear(tokens, channels, channels));
  const o = m.scope('to_out.0', () => m.linear(m.attention(q, k, v, channels, 1), channels, channels));
  const image = m.op('Reshape', [m.op('Transpose', [o], { perm: [0, 2, 1] }), m.op('Shape', [x])]);
  return m.op('Add', [image, x]);
}

/** UNetMidBlock2D: resnets.0, attentions.0, resnets.1 (call inside the `mid_block` scope). */
export function vaeMidBlock(m: ModuleBuilder, x: string, channels: number, groups: number): string {
  let h = m.scope('resnets.0', () => vaeResnet(m, x, channels, channels, groups));
  h = m.scope('attentions.0', () => vaeAttention(m, h, channels, groups));
  return m.scope('resnets.1', () => vaeResnet(m, h, channels, channels, groups));
}
