import { badArgument } from '../../errors';

/**
 * Mean intersection-over-union of two label maps over the classes present in either map:
 * IoU_c = |truth = c ∧ predicted = c| / |truth = c ∨ predicted = c|, averaged over those classes
 * (a class found in only one map counts with IoU 0; classes in neither are left out, since their
 * IoU is undefined). Per image, where ControlNet++ accumulates over its evaluation set.
 */
export function meanIou(truth: ArrayLike<number>, predicted: ArrayLike<number>): number {
  if (truth.length !== predicted.length || truth.length === 0) {
    throw badArgument(`Label maps must be the same non-empty size, got ${truth.length} and ${predicted.length} pixels.`);
  }
  const intersection = new Map<number, number>();
  const union = new Map<number, number>();
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i];
    const p = predicted[i];
    if (t === p) {
      intersection.set(t, (intersection.get(t) ?? 0) + 1);
      union.set(t, (union.get(t) ?? 0) + 1);
    } else {
      union.set(t, (union.get(t) ?? 0) + 1);
      union.set(p, (union.get(p) ?? 0) + 1);
    }
  }
  let sum = 0;
  for (const [c, u] of union) sum += (intersection.get(c) ?? 0) / u;
  return sum / union.size;
}
