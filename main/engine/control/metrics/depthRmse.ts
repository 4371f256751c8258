import { badArgument } from '../../errors';

/** Min-max normalised to 0…255; a constant map becomes all 0. */
function normalise(map: ArrayLike<number>): Float64Array {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < map.length; i++) {
    if (map[i] < min) min = map[i];
    if (map[i] > max) max = map[i];
  }
  const range = max - min;
  return Float64Array.from(map as ArrayLike<number>, (v) => (range > 0 ? ((v - min) / range) * 255 : 0));
}

/**
 * ControlNet++'s depth consistency: both maps min-max normalised to 0…255 (which removes the
 * unknown scale and shift of relative depth), then √(mean (a − b)²). Lower is better.
 */
export function depthRmse(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length || a.length === 0) {
    throw badArgument(`Depth maps must be the same non-empty size, got ${a.length} and ${b.length} pixels.`);
  }
  const x = normalise(a);
  const y = normalise(b);
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += (x[i] - y[i]) ** 2;
  return Math.sqrt(sum / x.length);
}
