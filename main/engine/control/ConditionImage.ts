import type { RgbImage } from '../image/RgbImage';

/**
 * A ControlNet condition as the ControlNet sees it: 8-bit RGB, HWC (fed as [1,3,H,W] in 0…1).
 * Segmentation conditions also carry the ADE20K class per pixel (H×W), which the mIoU reads.
 */
export interface ConditionImage extends RgbImage {
  labels?: Uint8Array;
}
