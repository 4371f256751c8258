import { badArgument } from '../errors';
import type { PipelineResult } from './PipelineRequest';

export const MAX_BEST_OF = 64;

export interface SeedCandidate {
  seed: number;
  /** The candidate's consistency value (see ConsistencyReport). */
  consistency: number;
}

export interface BestOfSeeds {
  best: PipelineResult;
  /** Every seed tried, best first. */
  ranked: SeedCandidate[];
}

/**
 * Best of N: runs seeds seed, seed+1, …, seed+n−1 of one controlled generation and keeps the
 * result most consistent with its condition (highest F1 / SSIM / mIoU, lowest depth RMSE) —
 * ControlNet++'s metric used as a reranker. Ties keep the earlier seed.
 */
export async function bestOfSeeds(n: number, seed: number, generate: (seed: number) => Promise<PipelineResult>): Promise<BestOfSeeds> {
  if (!Number.isInteger(n) || n < 1 || n > MAX_BEST_OF) throw badArgument(`best-of is ${n}; use a whole number from 1 to ${MAX_BEST_OF}.`);
  if (seed > Number.MAX_SAFE_INTEGER - (n - 1)) {
    throw badArgument(`best-of ${n} from seed ${seed} would pass the largest seed, ${Number.MAX_SAFE_INTEGER}; start from a seed up to ${Number.MAX_SAFE_INTEGER - n + 1}.`, { seed });
  }
  let best: PipelineResult | undefined;
  let bestValue = 0;
  let higherIsBetter = true;
  const candidates: SeedCandidate[] = [];
  for (let k = 0; k < n; k++) {
    const result = await generate(seed + k);
    const c = result.metrics?.consistency;
    if (!c) throw badArgument('Best of N ranks results by their consistency with a condition; give at least one ControlNet.');
    candidates.push({ seed: seed + k, consistency: c.value });
    higherIsBetter = c.higherIsBetter;
    const better = higherIsBetter ? c.value > bestValue : c.value < bestValue;
    if (!best || better) {
      best = result;
      bestValue = c.value;
    }
  }
  const order = (a: SeedCandidate, b: SeedCandidate) => (higherIsBetter ? b.consistency - a.consistency : a.consistency - b.consistency) || a.seed - b.seed;
  return { best: best!, ranked: candidates.sort(order) };
}
