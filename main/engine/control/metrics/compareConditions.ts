import { badArgument } from '../../errors';
import { labelsFromPalette } from '../ade20kPalette';
import type { ConditionImage } from '../ConditionImage';
import { CONDITION_METRICS, type ConditionMetric, type ConditionType } from '../ConditionType';
import { grayFromRgb } from '../grayFromRgb';
import { depthRmse } from './depthRmse';
import { edgeF1 } from './edgeF1';
import { meanIou } from './meanIou';
import { msSsim } from './msSsim';

export interface ConsistencyMetric {
  metric: ConditionMetric;
  value: number;
  higherIsBetter: boolean;
}

/**
 * ControlNet++'s consistency between an input condition and the condition extracted from a
 * result, both the same size: canny F1 over edge pixels (a pixel is an edge when its luma is above
 * ½); lineart and soft edge MS-SSIM on luma in [0, 1]; depth RMSE on 0…255 after min-max
 * normalising each; segmentation mean IoU over the classes present in either map.
 */
export function compareConditions(type: ConditionType, input: ConditionImage, extracted: ConditionImage): ConsistencyMetric {
  const { width, height } = input;
  if (extracted.width !== width || extracted.height !== height) {
    throw badArgument(
      `The conditions to compare differ in size: ${width}×${height} and ${extracted.width}×${extracted.height}; resize one to the other first.`,
    );
  }
  const metric = CONDITION_METRICS[type];
  if (type === 'segmentation') {
    const truth = input.labels ?? labelsFromPalette(input.rgb);
    const predicted = extracted.labels ?? labelsFromPalette(extracted.rgb);
    return { metric, value: meanIou(truth, predicted), higherIsBetter: true };
  }
  const a = grayFromRgb(input.rgb, width, height);
  const b = grayFromRgb(extracted.rgb, width, height);
  if (type === 'canny') {
    return { metric, value: edgeF1(a.map((v) => (v > 0.5 ? 1 : 0)), b.map((v) => (v > 0.5 ? 1 : 0))).f1, higherIsBetter: true };
  }
  if (type === 'depth') {
    return { metric, value: depthRmse(a, b), higherIsBetter: false };
  }
  return { metric, value: msSsim(a, b, width, height), higherIsBetter: true };
}
