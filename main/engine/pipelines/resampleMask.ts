/**
 * Resamples a single-channel map (a mask) from w×h to W×H by area averaging: each output
 * pixel is the mean of the input over its footprint, fractional pixels weighted by overlap.
 * Downscaling keeps the share of masked area (thin strokes fade rather than vanish);
 * upscaling is piecewise constant. 8×8 blocks onto the latent grid are the exact special case.
 */
export function resampleMask(mask: Float32Array, w: number, h: number, W: number, H: number): Float32Array {
  if (w === W && h === H) return mask.slice();
  const xs = footprints(w, W);
  const ys = footprints(h, H);
  const out = new Float32Array(W * H);
  for (let Y = 0; Y < H; Y++) {
    for (let X = 0; X < W; X++) {
      let sum = 0;
      let area = 0;
      for (const [y, wy] of ys[Y]) {
        for (const [x, wx] of xs[X]) {
          sum += mask[y * w + x] * wx * wy;
          area += wx * wy;
        }
      }
      out[Y * W + X] = sum / area;
    }
  }
  return out;
}

/** For each of n output cells over an axis of m input cells: [input index, overlap] pairs. */
function footprints(m: number, n: number): [number, number][][] {
  const scale = m / n;
  const cells: [number, number][][] = [];
  for (let i = 0; i < n; i++) {
    const a = i * scale;
    const b = (i + 1) * scale;
    const list: [number, number][] = [];
    for (let j = Math.floor(a); j < Math.min(m, Math.ceil(b)); j++) {
      const overlap = Math.min(b, j + 1) - Math.max(a, j);
      if (overlap > 1e-12) list.push([j, overlap]);
    }
    cells.push(list);
  }
  return cells;
}
