import { badArgument } from '../../errors';

/** The comparison window: Gaussian taps (Wang et al.'s 11×11, σ 1.5 by default) or a uniform box. */
export type SsimWindow = { gaussian: { size: number; sigma: number } } | { uniform: number };

export interface SsimOptions {
  /** L, the range of the values (1 for maps in [0, 1]). */
  dataRange?: number;
  k1?: number;
  k2?: number;
  window?: SsimWindow;
  /** Unbiased (N/(N−1)) local variances, as scikit-image's default; off in Wang et al. and here. */
  sampleCovariance?: boolean;
}

export const DEFAULT_SSIM_WINDOW: SsimWindow = { gaussian: { size: 11, sigma: 1.5 } };

/** Mean SSIM and mean contrast-structure term cs over the window positions. */
export interface SsimResult {
  ssim: number;
  cs: number;
}

export function windowTaps(window: SsimWindow): Float64Array {
  if ('uniform' in window) {
    const n = window.uniform;
    if (!Number.isInteger(n) || n < 1 || n % 2 === 0) throw badArgument(`An SSIM window size must be odd and ≥ 1, got ${n}.`);
    return new Float64Array(n).fill(1 / n);
  }
  const { size, sigma } = window.gaussian;
  if (!Number.isInteger(size) || size < 1 || size % 2 === 0 || !(sigma > 0)) {
    throw badArgument(`An SSIM Gaussian window needs an odd size ≥ 1 and σ > 0, got ${size} and ${sigma}.`);
  }
  const r = (size - 1) / 2;
  const taps = new Float64Array(size);
  let sum = 0;
  for (let k = -r; k <= r; k++) {
    taps[k + r] = Math.exp(-(k * k) / (2 * sigma * sigma));
    sum += taps[k + r];
  }
  for (let i = 0; i < size; i++) taps[i] /= sum;
  return taps;
}

/** Separable 'valid' correlation: only window positions that lie wholly inside the image. */
function filterValid(src: Float64Array, width: number, height: number, taps: Float64Array): Float64Array {
  const n = taps.length;
  const ow = width - n + 1;
  const oh = height - n + 1;
  const rows = new Float64Array(ow * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += taps[k] * src[y * width + x + k];
      rows[y * ow + x] = s;
    }
  }
  const out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += taps[k] * rows[(y + k) * ow + x];
      out[y * ow + x] = s;
    }
  }
  return out;
}

/**
 * Structural similarity (Wang, Bovik, Sheikh, Simoncelli 2004, eq. 13) of two single-channel
 * images: at every window position, with local weighted means μ, variances σ² and covariance σxy,
 *   SSIM = (2μxμy + C1)(2σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2)),  C1 = (K1·L)², C2 = (K2·L)²,
 * and cs = (2σxy + C2)/(σx² + σy² + C2) (the term MS-SSIM uses at the finer scales), each averaged
 * over the positions where the window fits inside the image (no padding).
 */
export function ssimComponents(a: ArrayLike<number>, b: ArrayLike<number>, width: number, height: number, options: SsimOptions = {}): SsimResult {
  const n = width * height;
  if (a.length !== n || b.length !== n) {
    throw badArgument(`SSIM needs two ${width}×${height} images (${n} values), got ${a.length} and ${b.length}.`);
  }
  const taps = windowTaps(options.window ?? DEFAULT_SSIM_WINDOW);
  if (width < taps.length || height < taps.length) {
    throw badArgument(`SSIM with a ${taps.length}×${taps.length} window needs images at least that large, got ${width}×${height}.`, { width, height });
  }
  const L = options.dataRange ?? 1;
  const c1 = ((options.k1 ?? 0.01) * L) ** 2;
  const c2 = ((options.k2 ?? 0.03) * L) ** 2;
  const covNorm = options.sampleCovariance ? (taps.length * taps.length) / (taps.length * taps.length - 1) : 1;

  const x = Float64Array.from(a);
  const y = Float64Array.from(b);
  const xx = x.map((v) => v * v);
  const yy = y.map((v) => v * v);
  const xy = x.map((v, i) => v * y[i]);
  const [mx, my, mxx, myy, mxy] = [x, y, xx, yy, xy].map((m) => filterValid(m, width, height, taps));
  let ssimSum = 0;
  let csSum = 0;
  for (let i = 0; i < mx.length; i++) {
    const vx = covNorm * (mxx[i] - mx[i] * mx[i]);
    const vy = covNorm * (myy[i] - my[i] * my[i]);
    const vxy = covNorm * (mxy[i] - mx[i] * my[i]);
    const cs = (2 * vxy + c2) / (vx + vy + c2);
    csSum += cs;
    ssimSum += ((2 * mx[i] * my[i] + c1) / (mx[i] * mx[i] + my[i] * my[i] + c1)) * cs;
  }
  return { ssim: ssimSum / mx.length, cs: csSum / mx.length };
}

/** Mean SSIM (see ssimComponents). */
export function ssim(a: ArrayLike<number>, b: ArrayLike<number>, width: number, height: number, options: SsimOptions = {}): number {
  return ssimComponents(a, b, width, height, options).ssim;
}
