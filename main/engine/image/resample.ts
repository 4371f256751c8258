import { checkSize } from './RgbImage';

export type ResampleFilter = 'lanczos3' | 'triangle';

const lanczos3 = (x: number) => {
  if (x === 0) return 1;
  if (x <= -3 || x >= 3) return 0;
  const px = Math.PI * x;
  return (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px);
};
const triangle = (x: number) => Math.max(0, 1 - Math.abs(x));
const FILTERS = { lanczos3: { kernel: lanczos3, support: 3 }, triangle: { kernel: triangle, support: 1 } } as const;

/**
 * Separable resampling with pixel centres aligned (output centre i + ½ maps to input
 * (i + ½)·in/out), the kernel widened by in/out when shrinking so it also antialiases —
 * the scheme of PIL's `Image.resize`, which diffusers' preprocessing uses. Taps outside the
 * image are dropped and the rest renormalised.
 *
 * Written here rather than left to sharp because libvips shifts content by half an output
 * pixel on every upsampled axis, which would misalign a generated region pasted back over
 * the original photo.
 */
export function resample(
  data: ArrayLike<number>,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
  filter: ResampleFilter,
): Float32Array {
  checkSize(outWidth, outHeight, 'Resample target');
  const horizontal = outWidth === width ? copyToFloat(data) : pass(data, height, width, channels, outWidth, filter, true);
  return outHeight === height ? horizontal : pass(horizontal, outWidth, height, channels, outHeight, filter, false);
}

function copyToFloat(data: ArrayLike<number>): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i];
  return out;
}

interface Taps {
  first: Int32Array;
  count: Int32Array;
  weights: Float64Array;
  stride: number;
}

function taps(inSize: number, outSize: number, filter: ResampleFilter): Taps {
  const { kernel, support } = FILTERS[filter];
  const scale = inSize / outSize;
  const widen = Math.max(1, scale);
  const reach = support * widen;
  const stride = Math.ceil(reach) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * stride);
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - reach));
    const hi = Math.min(inSize, Math.ceil(centre + reach));
    let sum = 0;
    let n = 0;
    for (let j = lo; j < hi && n < stride; j++, n++) {
      const w = kernel((j + 0.5 - centre) / widen);
      weights[i * stride + n] = w;
      sum += w;
    }
    for (let k = 0; k < n; k++) weights[i * stride + k] /= sum;
    first[i] = lo;
    count[i] = n;
  }
  return { first, count, weights, stride };
}

/**
 * One axis: lines × inSize samples → lines × outSize. Horizontal passes walk along rows
 * (samples `channels` apart), vertical ones along columns (samples a row apart).
 */
function pass(
  data: ArrayLike<number>,
  lines: number,
  inSize: number,
  channels: number,
  outSize: number,
  filter: ResampleFilter,
  horizontal: boolean,
): Float32Array {
  const { first, count, weights, stride } = taps(inSize, outSize, filter);
  if (horizontal) {
    const out = new Float32Array(lines * outSize * channels);
    for (let y = 0; y < lines; y++) {
      const rowIn = y * inSize * channels;
      const rowOut = y * outSize * channels;
      for (let i = 0; i < outSize; i++) {
        for (let c = 0; c < channels; c++) {
          let acc = 0;
          for (let k = 0, src = rowIn + first[i] * channels + c; k < count[i]; k++, src += channels) acc += data[src] * weights[i * stride + k];
          out[rowOut + i * channels + c] = acc;
        }
      }
    }
    return out;
  }
  // Here `lines` is the row width in pixels and inSize the number of rows.
  const rowLength = lines * channels;
  const out = new Float32Array(outSize * rowLength);
  for (let i = 0; i < outSize; i++) {
    const dst = i * rowLength;
    for (let k = 0; k < count[i]; k++) {
      const w = weights[i * stride + k];
      const src = (first[i] + k) * rowLength;
      for (let x = 0; x < rowLength; x++) out[dst + x] += data[src + x] * w;
    }
  }
  return out;
}
