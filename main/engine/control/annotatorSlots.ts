import path from 'node:path';
import type { ConditionType } from './ConditionType';

/** Conditions read by a neural annotator (all but canny). */
export type AnnotatorType = Exclude<ConditionType, 'canny'>;

export const ANNOTATOR_TYPES: readonly AnnotatorType[] = ['depth', 'segmentation', 'lineart', 'softedge'];

/** Folder, below a models folder, that holds the annotator slots. */
export const ANNOTATOR_FOLDER = 'annotators';

/** Each annotator's file in `<models>/annotators/`. */
export const ANNOTATOR_FILES: Readonly<Record<AnnotatorType, string>> = {
  depth: 'depth.onnx',
  segmentation: 'seg.onnx',
  lineart: 'lineart.onnx',
  softedge: 'hed.onnx',
};

/** What goes in each slot, and where ControlNet's own annotators come from (for the error text). */
export const ANNOTATOR_SOURCES: Readonly<Record<AnnotatorType, string>> = {
  depth: 'a DPT/MiDaS monocular depth model exported to ONNX (e.g. Intel/dpt-hybrid-midas, the ControlNet depth annotator), output [1,1,H,W] or [1,H,W] relative inverse depth (larger = nearer)',
  segmentation: 'an ADE20K semantic segmentation model exported to ONNX (e.g. UniFormer or SegFormer trained on ADE20K), output [1,150,h,w] class logits',
  lineart: "ControlNet's lineart annotator (lllyasviel/Annotators sk_model.pth) exported to ONNX, output [1,1,H,W] line strength in 0…1 with 1 = line (invert the export's white-background output)",
  softedge: "ControlNet's HED annotator (lllyasviel/Annotators ControlNetHED.pth) exported to ONNX, output [1,1,H,W] edge probability in 0…1",
};

/** `<modelsDir>/annotators/<file>` for an annotator type. */
export function annotatorFile(modelsDir: string, type: AnnotatorType): string {
  return path.join(modelsDir, ANNOTATOR_FOLDER, ANNOTATOR_FILES[type]);
}

export function isAnnotatorType(type: ConditionType): type is AnnotatorType {
  return type !== 'canny';
}
