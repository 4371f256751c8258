import { badArgument } from '../../errors';

export interface EdgeF1 {
  precision: number;
  recall: number;
  f1: number;
}

/**
 * Pixel-exact F1 with edge pixels (non-zero) as the positive class, as ControlNet++ scores canny:
 * precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = 2PR/(P+R); no spatial tolerance. Two maps
 * without any edge agree perfectly (all three 1); when only one map has edges, F1 is 0.
 */
export function edgeF1(truth: ArrayLike<number>, predicted: ArrayLike<number>): EdgeF1 {
  if (truth.length !== predicted.length) {
    throw badArgument(`Edge maps differ in size: ${truth.length} and ${predicted.length} pixels.`);
  }
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i] !== 0;
    const p = predicted[i] !== 0;
    if (t && p) tp++;
    else if (p) fp++;
    else if (t) fn++;
  }
  if (tp + fp + fn === 0) return { precision: 1, recall: 1, f1: 1 };
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1 };
}
