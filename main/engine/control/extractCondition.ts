import { resizeRgb } from '../image/resizeRgb';
import { checkRgbImage, checkSize, type RgbImage } from '../image/RgbImage';
import { labelsFromPalette, paletteFromLabels } from './ade20kPalette';
import { cannyEdges, type CannyOptions } from './cannyEdges';
import type { ConditionImage } from './ConditionImage';
import type { ConditionType } from './ConditionType';
import { grayFromRgb, rgbFromGray } from './grayFromRgb';
import { resizeCondition } from './resizeCondition';
import { runAnnotator, type AnnotatorOptions, type AnnotatorOutput } from './runAnnotator';

export interface ExtractOptions extends AnnotatorOptions, CannyOptions {
  /** The image is already a condition map: used as it is (see rawCondition), not extracted. */
  raw?: boolean;
  /** Generation size the condition is resized to (see conditionSize); default: the image's size. */
  width?: number;
  height?: number;
}

/** Types whose maps are white strokes on black; a sketch drawn the other way round is inverted. */
const STROKE_TYPES: ReadonlySet<ConditionType> = new Set(['canny', 'lineart', 'softedge']);

/**
 * A ready condition image as the ControlNet should see it. Stroke maps (canny, lineart, soft edge)
 * whose pixels are mostly bright (more than half with luma above ½) are black-on-white sketches and
 * are inverted to white on black. Segmentation maps are snapped to the nearest ADE20K colours and
 * carry their classes. Depth maps are used unchanged.
 */
export function rawCondition(type: ConditionType, image: RgbImage): ConditionImage {
  checkRgbImage(image.rgb, image.width, image.height, 'Condition image');
  const { width, height } = image;
  if (type === 'segmentation') {
    const labels = labelsFromPalette(image.rgb);
    return { rgb: paletteFromLabels(labels), width, height, labels };
  }
  if (STROKE_TYPES.has(type)) {
    const gray = grayFromRgb(image.rgb, width, height);
    let bright = 0;
    for (let i = 0; i < gray.length; i++) if (gray[i] > 0.5) bright++;
    if (bright * 2 > gray.length) {
      const rgb = new Uint8Array(image.rgb.length);
      for (let i = 0; i < rgb.length; i++) rgb[i] = 255 - image.rgb[i];
      return { rgb, width, height };
    }
  }
  return { rgb: image.rgb.slice(), width, height };
}

/** Depth as ControlNet draws it: min-max normalised to 0…255, larger (nearer) brighter. */
function depthCondition(out: AnnotatorOutput): ConditionImage {
  let min = Infinity;
  let max = -Infinity;
  for (const v of out.data) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const range = max - min;
  const scaled = out.data.map((v) => (range > 0 ? ((v - min) / range) * 255 : 0));
  return { rgb: rgbFromGray(scaled, out.width, out.height), width: out.width, height: out.height };
}

function segmentationCondition(out: AnnotatorOutput): ConditionImage {
  const n = out.width * out.height;
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let best = -Infinity;
    for (let c = 0; c < out.channels; c++) {
      const v = out.data[c * n + i];
      if (v > best) {
        best = v;
        labels[i] = c;
      }
    }
  }
  return { rgb: paletteFromLabels(labels), width: out.width, height: out.height, labels };
}

/** Lineart and soft edge: strength in 0…1 (clamped) to 0…255. */
function strokeCondition(out: AnnotatorOutput): ConditionImage {
  const scaled = out.data.map((v) => Math.min(1, Math.max(0, v)) * 255);
  return { rgb: rgbFromGray(scaled, out.width, out.height), width: out.width, height: out.height };
}

/**
 * The condition of `type` for a photo (or, with `raw`, a ready condition image), at the
 * generation size. Canny runs on the photo resized to that size, so its lines stay one pixel
 * wide; annotator maps are made at the annotator's size and then resized (see resizeCondition).
 */
export async function extractCondition(type: ConditionType, image: RgbImage, options: ExtractOptions = {}): Promise<ConditionImage> {
  checkRgbImage(image.rgb, image.width, image.height, 'Condition source');
  const width = options.width ?? image.width;
  const height = options.height ?? image.height;
  checkSize(width, height, 'Condition');
  if (options.raw) return resizeCondition(type, rawCondition(type, image), width, height);
  if (type === 'canny') {
    const photo = await resizeRgb(image, width, height);
    const edges = cannyEdges(grayFromRgb(photo.rgb, width, height), width, height, options);
    return { rgb: rgbFromGray(edges.map((e) => e * 255), width, height), width, height };
  }
  const out = await runAnnotator(type, image, options);
  const condition = type === 'depth' ? depthCondition(out) : type === 'segmentation' ? segmentationCondition(out) : strokeCondition(out);
  return resizeCondition(type, condition, width, height);
}
