import { badArgument } from '../errors';
import { checkSize } from './RgbImage';

/**
 * NCHW float in [−1, 1] → HWC uint8 for batch item `batchIndex`, as diffusers'
 * postprocess: v = clamp(x / 2 + 0.5, 0, 1) · 255, then rounded half to even (numpy's
 * `round`). Arithmetic is in float64 on the float32 values, so results are the same on
 * every platform; NaN becomes 0.
 */
export function tensorToRgb(tensor: Float32Array, width: number, height: number, batchIndex = 0): Uint8Array {
  checkSize(width, height, 'Tensor');
  const plane = width * height;
  const batch = tensor.length / (3 * plane);
  if (!Number.isInteger(batch) || batch < 1) {
    throw badArgument(`Tensor has ${tensor.length} values, not a multiple of 3×${height}×${width}.`, { length: tensor.length, width, height });
  }
  if (!Number.isInteger(batchIndex) || batchIndex < 0 || batchIndex >= batch) {
    throw badArgument(`batchIndex ${batchIndex} is outside the batch of ${batch}.`);
  }
  const base = batchIndex * 3 * plane;
  const rgb = new Uint8Array(plane * 3);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) rgb[i * 3 + c] = toByte(tensor[base + c * plane + i]);
  }
  return rgb;
}

function toByte(x: number): number {
  if (Number.isNaN(x)) return 0;
  const v = Math.min(1, Math.max(0, x / 2 + 0.5)) * 255;
  const r = Math.round(v);
  // Math.round sends exact halves up; half to even sends odd results back down.
  return r - v === 0.5 && r % 2 === 1 ? r - 1 : r;
}
