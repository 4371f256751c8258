import { badArgument } from '../errors';

/** Hysteresis thresholds on the normalised gradient scale (see cannyEdges). */
export const DEFAULT_CANNY_LOW = 0.1;
export const DEFAULT_CANNY_HIGH = 0.2;

export interface CannyOptions {
  low?: number;
  high?: number;
}

const GAUSS_RADIUS = 2;
const GAUSS_SIGMA = 1;

function gaussianTaps(): Float64Array {
  const taps = new Float64Array(2 * GAUSS_RADIUS + 1);
  let sum = 0;
  for (let k = -GAUSS_RADIUS; k <= GAUSS_RADIUS; k++) {
    taps[k + GAUSS_RADIUS] = Math.exp(-(k * k) / (2 * GAUSS_SIGMA * GAUSS_SIGMA));
    sum += taps[k + GAUSS_RADIUS];
  }
  for (let i = 0; i < taps.length; i++) taps[i] /= sum;
  return taps;
}

const GAUSS = gaussianTaps();

/**
 * The Sobel response, after the Gaussian, at an ideal unit step between two pixels: the central
 * difference of the blurred step is g(0) + g(1), and Sobel's cross-smoothing [1 2 1] adds a factor
 * of 4. Dividing by it puts magnitudes on a step-height scale: a step of height h in a 0…1 image
 * peaks at h. OpenCV's Canny (no blur, unnormalised Sobel) flags a step of height H on 0…255 when
 * 4H exceeds its threshold, i.e. H > 25 for 100 and H > 50 for 200; here 0.1 and 0.2 flag steps of
 * 25.5 and 51 — so 0.1/0.2 behave like the Canny(100, 200) ControlNet extracts with. (Fine texture
 * and noise respond less than in OpenCV, since the blur removes them first.)
 */
const STEP_RESPONSE = 4 * (GAUSS[GAUSS_RADIUS] + GAUSS[GAUSS_RADIUS + 1]);

/** Index reflected about the edge without repeating it (OpenCV's BORDER_REFLECT_101). */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
  return i;
}

/** Separable correlation with `kx` along rows then `ky` along columns, reflect-101 borders. */
function separable(src: Float64Array, width: number, height: number, kx: readonly number[], ky: readonly number[]): Float64Array {
  const rx = (kx.length - 1) / 2;
  const ry = (ky.length - 1) / 2;
  const tmp = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = 0; k < kx.length; k++) s += kx[k] * src[row + reflect(x + k - rx, width)];
      tmp[row + x] = s;
    }
  }
  const out = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = 0; k < ky.length; k++) s += ky[k] * tmp[reflect(y + k - ry, height) * width + x];
      out[y * width + x] = s;
    }
  }
  return out;
}

const TAN_22_5 = Math.tan(Math.PI / 8);
const TAN_67_5 = Math.tan((3 * Math.PI) / 8);

/**
 * Canny's detector on a grayscale image in [0, 1] (row-major): Gaussian blur (5×5, σ = 1), Sobel
 * gradients, magnitude √(gx² + gy²) normalised by STEP_RESPONSE, non-maximum suppression across the
 * gradient direction quantised to 0°/45°/90°/135°, then hysteresis: pixels above `high` are edges,
 * and pixels above `low` that are 8-connected to an edge through such pixels. Returns 1 for edge
 * pixels and 0 elsewhere.
 *
 * On a plateau of equal magnitudes across the direction (the two pixels either side of an ideal
 * step are exactly equal) the pixel wins whose equal neighbour lies on the positive side — the
 * tie-break of OpenCV — so an ideal step yields a one-pixel line.
 */
export function cannyEdges(gray: Float32Array, width: number, height: number, options: CannyOptions = {}): Uint8Array {
  const low = options.low ?? DEFAULT_CANNY_LOW;
  const high = options.high ?? DEFAULT_CANNY_HIGH;
  if (!Number.isFinite(low) || !Number.isFinite(high) || low < 0 || high < low) {
    throw badArgument(`Canny thresholds must satisfy 0 ≤ low ≤ high, got low ${low}, high ${high}.`, { low, high });
  }
  if (gray.length !== width * height) {
    throw badArgument(`Canny input has ${gray.length} values but ${width}×${height} needs ${width * height}.`);
  }
  const g = Array.from(GAUSS);
  const blurred = separable(Float64Array.from(gray), width, height, g, g);
  const gx = separable(blurred, width, height, [-1, 0, 1], [1, 2, 1]);
  const gy = separable(blurred, width, height, [1, 2, 1], [-1, 0, 1]);

  const n = width * height;
  const mag = new Float64Array(n);
  for (let i = 0; i < n; i++) mag[i] = Math.hypot(gx[i], gy[i]) / STEP_RESPONSE;
  const at = (x: number, y: number) => (x < 0 || y < 0 || x >= width || y >= height ? 0 : mag[y * width + x]);

  // 0: not an edge, 1: weak candidate, 2: strong edge.
  const state = new Uint8Array(n);
  const stack: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const m = mag[i];
      if (!(m > low)) continue;
      const ax = Math.abs(gx[i]);
      const ay = Math.abs(gy[i]);
      // (dx, dy): the step towards the positive side of the quantised gradient direction.
      let dx: number;
      let dy: number;
      if (ay <= ax * TAN_22_5) [dx, dy] = [1, 0];
      else if (ay > ax * TAN_67_5) [dx, dy] = [0, 1];
      else if (gx[i] * gy[i] > 0) [dx, dy] = [1, 1];
      else [dx, dy] = [-1, 1];
      if (!(m > at(x - dx, y - dy) && m >= at(x + dx, y + dy))) continue;
      if (m > high) {
        state[i] = 2;
        stack.push(i);
      } else {
        state[i] = 1;
      }
    }
  }
  while (stack.length > 0) {
    const i = stack.pop()!;
    const x = i % width;
    const y = (i - x) / width;
    for (let ny = Math.max(0, y - 1); ny <= Math.min(height - 1, y + 1); ny++) {
      for (let nx = Math.max(0, x - 1); nx <= Math.min(width - 1, x + 1); nx++) {
        const j = ny * width + nx;
        if (state[j] === 1) {
          state[j] = 2;
          stack.push(j);
        }
      }
    }
  }
  const edges = new Uint8Array(n);
  for (let i = 0; i < n; i++) edges[i] = state[i] === 2 ? 1 : 0;
  return edges;
}
