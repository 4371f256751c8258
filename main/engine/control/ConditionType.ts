import { badArgument } from '../errors';

/** The ControlNet++ conditions Pentimento extracts and scores (PAPERS.md §1). */
export const CONDITION_TYPES = ['canny', 'depth', 'segmentation', 'lineart', 'softedge'] as const;

export type ConditionType = (typeof CONDITION_TYPES)[number];

/** What each type's consistency is measured with, as ControlNet++ reports it. */
export const CONDITION_METRICS = {
  canny: 'f1',
  depth: 'rmse',
  segmentation: 'miou',
  lineart: 'ms_ssim',
  softedge: 'ms_ssim',
} as const satisfies Record<ConditionType, string>;

export type ConditionMetric = (typeof CONDITION_METRICS)[ConditionType];

const ALIASES: Record<string, ConditionType> = { seg: 'segmentation', hed: 'softedge', 'soft-edge': 'softedge' };

/** Accepts a type name (or the aliases seg, hed, soft-edge); BAD_ARGUMENT lists the valid ones. */
export function parseConditionType(text: string): ConditionType {
  const name = text.trim().toLowerCase();
  if ((CONDITION_TYPES as readonly string[]).includes(name)) return name as ConditionType;
  if (ALIASES[name]) return ALIASES[name];
  throw badArgument(`Unknown condition type "${text}"; use one of ${CONDITION_TYPES.join(', ')}.`, {
    type: text,
    valid: [...CONDITION_TYPES],
  });
}
