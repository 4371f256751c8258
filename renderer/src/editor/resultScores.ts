import type { ConditionType, ConsistencyResult } from '../../../main/contract/contract';

/** What a result measured about itself, shown with it. */
export interface ResultScores {
  /** Controlled generations: ControlNet++'s consistency with the condition. */
  consistency?: ConsistencyResult;
  /** Edits by inversion: latent_mse, psnr, … */
  metrics?: Record<string, number>;
  /** Edits by inversion: the edit strength η it was made with (0 = the reconstruction). */
  eta?: number;
  /** Edits by inversion: the cached inversion it came from. */
  inversionId?: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function asConsistency(v: unknown): ConsistencyResult | undefined {
  if (!isRecord(v) || typeof v.type !== 'string' || typeof v.metric !== 'string' || !isNumber(v.value) || typeof v.higherIsBetter !== 'boolean') return undefined;
  const ranked = Array.isArray(v.ranked) ? v.ranked.filter((r): r is { seed: number; value: number } => isRecord(r) && isNumber(r.seed) && isNumber(r.value)) : undefined;
  return { type: v.type as ConditionType, metric: v.metric, value: v.value, higherIsBetter: v.higherIsBetter, ...(ranked ? { ranked } : {}) };
}

/**
 * A result's scores: from the job's result event when there is one, else from the parameters
 * saved in its PNG (`extra.consistency`, `extra.metrics`), which is all a reopened project has.
 */
export function resultScores(parameters: Record<string, unknown>, fromJob: Partial<ResultScores> = {}): ResultScores {
  const extra = isRecord(parameters.extra) ? parameters.extra : {};
  const consistency = fromJob.consistency ?? asConsistency(extra.consistency);
  const savedMetrics = isRecord(extra.metrics) ? Object.fromEntries(Object.entries(extra.metrics).filter(([, v]) => isNumber(v))) as Record<string, number> : undefined;
  const metrics = fromJob.metrics && !consistency ? fromJob.metrics : savedMetrics;
  const eta = isNumber(extra.eta) ? extra.eta : undefined;
  const inversionId = fromJob.inversionId ?? (typeof extra.inversionId === 'string' ? extra.inversionId : undefined);
  return {
    ...(consistency ? { consistency } : {}),
    ...(metrics && Object.keys(metrics).length ? { metrics } : {}),
    ...(eta !== undefined ? { eta } : {}),
    ...(inversionId ? { inversionId } : {}),
  };
}

const TYPE_NAMES: Record<ConditionType, string> = {
  canny: 'Canny',
  depth: 'Depth',
  segmentation: 'Segmentation',
  lineart: 'Lineart',
  softedge: 'Soft edge',
};

const METRIC_NAMES: Record<string, string> = { f1: 'F1', ms_ssim: 'MS-SSIM', rmse: 'RMSE', miou: 'mIoU' };

export const conditionTypeName = (type: ConditionType) => TYPE_NAMES[type] ?? type;

/** RMSE is on 0–255; the others are fractions. */
export const formatConsistency = (c: Pick<ConsistencyResult, 'metric' | 'value'>) => (c.metric === 'rmse' ? c.value.toFixed(1) : c.value.toFixed(2));

/** E.g. "Canny F1 0.42". */
export function consistencyLabel(c: ConsistencyResult): string {
  return `${conditionTypeName(c.type)} ${METRIC_NAMES[c.metric] ?? c.metric} ${formatConsistency(c)}`;
}

/** The tooltip: what the number measures and which way is better. */
export function consistencyExplanation(c: ConsistencyResult): string {
  const what: Record<string, string> = {
    f1: "F1 score between the condition's edge pixels and the edges Canny finds in this result (1 = every edge matches)",
    ms_ssim: 'Multi-scale structural similarity between the condition and the same map extracted from this result (1 = identical)',
    rmse: 'Root-mean-square difference, on 0–255, between the condition and the depth estimated from this result, both min-max normalised (0 = identical)',
    miou: "Mean intersection-over-union of the condition's classes and those segmented in this result (1 = identical)",
  };
  const base = `${what[c.metric] ?? c.metric}: ControlNet++'s consistency metric, how faithfully the result follows the structure. ${c.higherIsBetter ? 'Higher' : 'Lower'} is better.`;
  return c.ranked && c.ranked.length > 1 ? `${base} Best of ${c.ranked.length} seeds: this is the most consistent.` : base;
}

/** Best of N, best first: "seed 12: 0.42 · seed 13: 0.40 · …". */
export function rankingLabel(c: ConsistencyResult): string | undefined {
  if (!c.ranked || c.ranked.length < 2) return undefined;
  return c.ranked.map((r) => `seed ${r.seed}: ${formatConsistency({ metric: c.metric, value: r.value })}`).join(' · ');
}

/** E.g. "latent MSE 0.0012 · PSNR 41.5 dB" (the metrics an inversion edit reports). */
export function inversionMetricsLabel(metrics: Record<string, number>): string | undefined {
  const parts: string[] = [];
  if (isNumber(metrics.latent_mse)) parts.push(`latent MSE ${metrics.latent_mse < 0.01 ? metrics.latent_mse.toExponential(1) : metrics.latent_mse.toFixed(3)}`);
  if (isNumber(metrics.psnr)) parts.push(`PSNR ${metrics.psnr.toFixed(1)} dB`);
  return parts.length ? parts.join(' · ') : undefined;
}
