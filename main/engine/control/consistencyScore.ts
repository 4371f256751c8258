import { resizeRgb } from '../image/resizeRgb';
import { checkRgbImage, type RgbImage } from '../image/RgbImage';
import type { ConditionImage } from './ConditionImage';
import type { ConditionType } from './ConditionType';
import { extractCondition, type ExtractOptions } from './extractCondition';
import { compareConditions, type ConsistencyMetric } from './metrics/compareConditions';

export interface ConsistencyScore extends ConsistencyMetric {
  /** The condition re-extracted from the result, at the input condition's size. */
  extracted: ConditionImage;
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
  const { width, height } = inputCondition;
  const resized = await resizeRgb(result, width, height);
  const extracted = await extractCondition(type, resized, { ...options, raw: false, width, height });
  return { ...compareConditions(type, inputCondition, extracted), extracted };
}
