import { badArgument } from '../errors';
import { resizeRgb } from '../image/resizeRgb';
import { checkRgbImage, type RgbImage } from '../image/RgbImage';
import type { ConditionImage } from './ConditionImage';
import type { ConditionType } from './ConditionType';
import { extractCondition, type ExtractOptions } from './extractCondition';
import { grayFromRgb } from './grayFromRgb';
import { compareConditions, type ConsistencyMetric } from './metrics/compareConditions';

export interface ConsistencyScore extends ConsistencyMetric {
  /** The condition re-extracted from the result, at the input condition's size. */
  extracted: ConditionImage;
}

/** Smallest condition side scored: below it edges and structure vanish in the resize. */
export const MIN_SCORE_SIDE = 8;
/** How far the condition's aspect ratio may differ from the result's (the resize would stretch it). */
export const ASPECT_TOLERANCE = 0.02;

type Shape = { width: number; height: number };

/** How far two shapes' aspect ratios differ, as a fraction (0.05 = 5%). */
export function aspectDifference(a: Shape, b: Shape): number {
  return Math.abs(a.width / a.height / (b.width / b.height) - 1);
}

/**
 * BAD_ARGUMENT unless `condition` can score `result`: at least MIN_SCORE_SIDE px on each side,
 * and the same aspect ratio within 2% (the result is resized to the condition's size).
 */
export function checkScorable(condition: { width: number; height: number }, result: { width: number; height: number }): void {
  const size = (i: { width: number; height: number }) => `${i.width}×${i.height}`;
  if (Math.min(condition.width, condition.height) < MIN_SCORE_SIDE) {
    throw badArgument(`The condition is ${size(condition)}; a condition scored needs at least ${MIN_SCORE_SIDE} px on each side.`);
  }
  if (aspectDifference(condition, result) > ASPECT_TOLERANCE) {
    throw badArgument(
      `The condition is ${size(condition)} but the result ${size(result)}: their aspect ratios differ by more than 2%; score against a condition of the result's shape.`,
    );
  }
}

/** Whether a canny map has an edge pixel (grey above one half, as its F1 counts them). */
export function hasEdgePixels(condition: ConditionImage): boolean {
  return grayFromRgb(condition.rgb, condition.width, condition.height).some((v) => v > 0.5);
}

/**
 * BAD_ARGUMENT for a canny condition without any edge pixel: F1 over edge pixels (ControlNet++'s
 * metric) is undefined for it (with no edges in the result either there is nothing to count; with
 * some, 0 says nothing about how the result follows it), so it is not scored as a perfect 1.
 */
export function checkConditionHasEdges(type: ConditionType, condition: ConditionImage): void {
  if (type !== 'canny') return;
  if (!hasEdgePixels(condition)) {
    throw badArgument('The canny condition has no edge pixels, so its F1 over edge pixels is undefined; score against a condition with edges.');
  }
}

/**
 * What ControlNet++ optimises, for one result: the condition extracted from the result (resized
 * to the input condition's size first) with the same extractor and options, compared with the
 * input condition by the type's metric (see compareConditions).
 */
export async function consistencyScore(
  type: ConditionType,
  inputCondition: ConditionImage,
  result: RgbImage,
  options: Omit<ExtractOptions, 'raw' | 'width' | 'height'> = {},
): Promise<ConsistencyScore> {
  checkRgbImage(inputCondition.rgb, inputCondition.width, inputCondition.height, 'Input condition');
  checkScorable(inputCondition, result);
  const { width, height } = inputCondition;
  const resized = await resizeRgb(result, width, height);
  const extracted = await extractCondition(type, resized, { ...options, raw: false, width, height });
  return { ...compareConditions(type, inputCondition, extracted), extracted };
}
