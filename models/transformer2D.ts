import type { ModuleBuilder } from './ModuleBuilder';

export interface TransformerOptions {
  groups: number;
  heads: number;
  /** encoder_hidden_states [B, S, crossDim] */
  context: string;
  crossDim: number;
}

/** diffusers' Attention as SD1.5's UNet configures it: bias-free to_q/to_k/to_v, biased to_out.0. */
function crossAttention(m: ModuleBuilder, x: string, context: string, channels: number, contextDim: number, heads: number): string {
  const q = m.scope('to_q', () => m.linear(x, channels, channels, false));
  const k = m.scope('to_k', () => m.linear(context, contextDim, channels, false));
  const v = m.scope('to_v', () => m.linear(context, contextDim, channels, false));
  const o = m.attention(q, k, v, channels, heads);
  return m.scope('to_out.0', () => m.linear(o, channels, channels));
}

/** FeedForward with GEGLU (Shazeer 2020): net.2(h · GELU(gate)), [h, gate] = chunk(net.0.proj(x), 2). */
function feedForward(m: ModuleBuilder, x: string, channels: number): string {
  const inner = 4 * channels;
  const gated = m.scope('net.0', () => {
    const proj = m.scope('proj', () => m.linear(x, channels, 2 * inner));
    const [h, gate] = m.g.node('Split', [proj, m.ints([inner, inner])], { axis: -1 }, { outputs: 2 });
    return m.op('Mul', [h, m.gelu(gate)]);
  });
  return m.scope('net.2', () => m.linear(gated, inner, channels));
}

/**
 * diffusers' Transformer2DModel (use_linear_projection=False, one BasicTransformerBlock), called
 * inside its module scope: x + proj_out(block(proj_in(norm(x)) as tokens)).
 */
export function transformer2D(m: ModuleBuilder, x: string, channels: number, opts: TransformerOptions): string {
  let h = m.scope('norm', () => m.groupNorm(x, channels, opts.groups, 1e-6));
  h = m.scope('proj_in', () => m.conv2d(h, channels, channels, 1));
  const batch = m.dim(x, 0);
  const height = m.dim(x, 2);
  const width = m.dim(x, 3);
  const tokensShape = m.concatInts([batch, m.op('Mul', [height, width]), m.ints([channels])]);
  h = m.op('Reshape', [m.op('Transpose', [h], { perm: [0, 2, 3, 1] }), tokensShape]);
  h = m.scope('transformer_blocks.0', () => {
    let t = h;
    const n1 = m.scope('norm1', () => m.layerNorm(t, channels, 1e-5));
    t = m.op('Add', [m.scope('attn1', () => crossAttention(m, n1, n1, channels, channels, opts.heads)), t]);
    const n2 = m.scope('norm2', () => m.layerNorm(t, channels, 1e-5));
    t = m.op('Add', [m.scope('attn2', () => crossAttention(m, n2, opts.context, channels, opts.crossDim, opts.heads)), t]);
    const n3 = m.scope('norm3', () => m.layerNorm(t, channels, 1e-5));
    return m.op('Add', [m.scope('ff', () => feedForward(m, n3, channels)), t]);
  });
  const imageShape = m.concatInts([batch, height, width, m.ints([channels])]);
  h = m.op('Transpose', [m.op('Reshape', [h, imageShape])], { perm: [0, 3, 1, 2] });
  h = m.scope('proj_out', () => m.conv2d(h, channels, channels, 1));
  return m.op('Add', [h, x]);
}
