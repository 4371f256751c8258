import { badArgument } from '../../errors';
import { DEFAULT_SSIM_WINDOW, ssimComponents, windowTaps, type SsimOptions } from './ssim';

/** Wang, Simoncelli, Bovik (2003) exponents for scales 1 (finest) … 5. */
export const MS_SSIM_WEIGHTS = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333] as const;

/** 2×2 average pooling with stride 2; an odd last row or column is dropped (as avg_pool2d does). */
function halve(src: ArrayLike<number>, width: number, height: number): { data: Float64Array; width: number; height: number } {
  const w = Math.floor(width / 2);
  const h = Math.floor(height / 2);
  const data = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = 2 * y * width + 2 * x;
      data[y * w + x] = (src[i] + src[i + 1] + src[i + width] + src[i + width + 1]) / 4;
    }
  }
  return { data, width: w, height: h };
}

/**
 * How many of the 5 scales fit: scale k (from 0) is ⌊side/2^k⌋ pixels, and the window must fit
 * inside each scale used.
 */
export function msSsimScales(width: number, height: number, windowSize: number): number {
  let scales = 0;
  let side = Math.min(width, height);
  while (scales < MS_SSIM_WEIGHTS.length && side >= windowSize) {
    scales++;
    side = Math.floor(side / 2);
  }
  return scales;
}

/**
 * Multi-scale SSIM (Wang, Simoncelli, Bovik 2003, eq. 7) of single-channel images, by default on
 * values in [0, 1] with data range 1, the 11×11 σ 1.5 Gaussian window, K1 0.01, K2 0.03:
 *   MS-SSIM = cs₁^β₁ · … · cs_{M−1}^β_{M−1} · SSIM_M^β_M,
 * downsampling 2× by average pooling between scales. Negative terms are clamped to 0 before the
 * powers (the 'relu' normalisation of torchmetrics and pytorch-msssim) so the result is real.
 * Images too small for 5 scales (the window must fit the coarsest: 5 scales need a shorter side of
 * at least 16·11 = 176) use as many scales M as fit, with the first M weights renormalised to sum
 * to 1; smaller than one window is BAD_ARGUMENT.
 */
export function msSsim(a: ArrayLike<number>, b: ArrayLike<number>, width: number, height: number, options: SsimOptions = {}): number {
  const windowSize = windowTaps(options.window ?? DEFAULT_SSIM_WINDOW).length;
  const scales = msSsimScales(width, height, windowSize);
  if (scales === 0) {
    throw badArgument(`MS-SSIM needs images of at least ${windowSize}×${windowSize} pixels, got ${width}×${height}.`, { width, height });
  }
  const weights = MS_SSIM_WEIGHTS.slice(0, scales);
  // The published weights as they are for 5 scales (they sum to 1.0001); fewer renormalised to 1.
  const total = scales === MS_SSIM_WEIGHTS.length ? 1 : weights.reduce((s, w) => s + w, 0);
  let x: { data: ArrayLike<number>; width: number; height: number } = { data: a, width, height };
  let y: { data: ArrayLike<number>; width: number; height: number } = { data: b, width, height };
  let result = 1;
  for (let k = 0; k < scales; k++) {
    const { ssim, cs } = ssimComponents(x.data, y.data, x.width, x.height, options);
    const term = k === scales - 1 ? ssim : cs;
    result *= Math.max(0, term) ** (weights[k] / total);
    if (k < scales - 1) {
      x = halve(x.data, x.width, x.height);
      y = halve(y.data, y.width, y.height);
    }
  }
  return result;
}
