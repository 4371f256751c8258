import { PentimentoError } from '../../errors';

/** SD1.5's ControlNet residuals: 12 down-block skips then the mid block. */
export const RESIDUAL_COUNT = 13;

/**
 * How many stride-2 downsamplers precede each residual (down 0–11, then mid): three skips per
 * resolution, the mid block at the coarsest one. Residual i of a [B,4,h,w] latent is
 * [B, C_i, ceil(h / 2^L_i), ceil(w / 2^L_i)] (a 3×3, stride-2, pad-1 conv maps n to ceil(n/2)).
 */
export const RESIDUAL_LEVELS: readonly number[] = [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3];

/** The 13 residuals in diffusers' order: `down` (12) then `mid`. */
export interface ResidualSlots<T> {
  down: T[];
  mid: T;
}

export function residualSpatialSize(latent: number, index: number): number {
  let n = latent;
  for (let l = 0; l < RESIDUAL_LEVELS[index]; l++) n = Math.ceil(n / 2);
  return n;
}

/**
 * Puts 13 residual tensors (ControlNet outputs or UNet residual inputs) in diffusers' order.
 * Exporters name them differently (`down_block_{i}_additional_residual`, `down_block_res_sample_{i}`,
 * …) but keep diffusers' order, so the declared order decides; the mid one is the single name
 * containing "mid" when there is one (some exporters list it first), else the last.
 */
export function orderResiduals<T extends { name: string }>(items: readonly T[], what: string): ResidualSlots<T> {
  if (items.length !== RESIDUAL_COUNT) {
    throw new PentimentoError(
      'BAD_MODEL',
      `${what} has ${items.length} residual tensors (${items.map((i) => i.name).join(', ') || 'none'}); an SD1.5 ControlNet has 13 (12 down-block + 1 mid-block).`,
    );
  }
  const mids = items.filter((i) => /mid/i.test(i.name));
  const mid = mids.length === 1 ? mids[0] : items[items.length - 1];
  return { down: items.filter((i) => i !== mid), mid };
}

export function slotsToList<T>(slots: ResidualSlots<T>): T[] {
  return [...slots.down, slots.mid];
}

export function residualLabel(index: number): string {
  return index < RESIDUAL_COUNT - 1 ? `down residual ${index}` : 'mid residual';
}
