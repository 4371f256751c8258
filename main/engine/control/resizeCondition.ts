import { badArgument } from '../errors';
import { resizeRgb } from '../image/resizeRgb';
import { checkRgbImage, checkSize } from '../image/RgbImage';
import { labelsFromPalette, paletteFromLabels } from './ade20kPalette';
import type { ConditionImage } from './ConditionImage';
import type { ConditionType } from './ConditionType';

export const DEFAULT_CONDITION_RESOLUTION = 512;

/**
 * The generation size for a condition of width × height (PAPERS.md §1): scale so the long side is
 * `resolution`, then round both sides to the nearest multiple of 64 (at least 64).
 */
export function conditionSize(width: number, height: number, resolution = DEFAULT_CONDITION_RESOLUTION): { width: number; height: number } {
  checkSize(width, height, 'Condition');
  if (!Number.isFinite(resolution) || resolution < 64) {
    throw badArgument(`Condition resolution must be at least 64, got ${resolution}.`, { resolution });
  }
  const k = resolution / Math.max(width, height);
  const round64 = (v: number) => Math.max(64, Math.round((v * k) / 64) * 64);
  return { width: round64(width), height: round64(height) };
}

/** Centre-aligned nearest neighbour: output pixel i samples input ⌊(i + ½)·in/out⌋. */
function nearestLabels(labels: Uint8Array, width: number, height: number, outWidth: number, outHeight: number): Uint8Array {
  const out = new Uint8Array(outWidth * outHeight);
  const xs = Int32Array.from({ length: outWidth }, (_, x) => Math.min(width - 1, Math.floor(((x + 0.5) * width) / outWidth)));
  for (let y = 0; y < outHeight; y++) {
    const sy = Math.min(height - 1, Math.floor(((y + 0.5) * height) / outHeight));
    for (let x = 0; x < outWidth; x++) out[y * outWidth + x] = labels[sy * width + xs[x]];
  }
  return out;
}

/**
 * Resizes a condition to exactly width × height. Segmentation resizes its class map by nearest
 * neighbour and repaints it, so no blended colour (no class that is not there) appears; the other
 * types are grey-level maps, resampled with Lanczos-3 like photos.
 */
export async function resizeCondition(type: ConditionType, condition: ConditionImage, width: number, height: number): Promise<ConditionImage> {
  checkRgbImage(condition.rgb, condition.width, condition.height, 'Condition');
  checkSize(width, height, 'Condition target');
  if (type === 'segmentation') {
    const labels = condition.labels ?? labelsFromPalette(condition.rgb);
    const resized = width === condition.width && height === condition.height ? labels.slice() : nearestLabels(labels, condition.width, condition.height, width, height);
    return { rgb: paletteFromLabels(resized), width, height, labels: resized };
  }
  return resizeRgb(condition, width, height);
}
