/**
 * A result's denoising steps as the engine reports them: the steps asked for (`steps`), and the
 * steps that ran when fewer did — img2img and inpaint enter the schedule part-way and run
 * ⌊steps·strength⌋ of it; the engine records that count as `extra.stepsRun`.
 */
export interface ResultSteps {
  requested?: number;
  /** Present only when it differs from `requested`. */
  run?: number;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

export function resultSteps(parameters: Record<string, unknown>): ResultSteps {
  const extra = parameters.extra && typeof parameters.extra === 'object' && !Array.isArray(parameters.extra) ? (parameters.extra as Record<string, unknown>) : {};
  const requested = isCount(parameters.steps) ? parameters.steps : undefined;
  const reported = parameters.stepsRun ?? extra.stepsRun;
  const run = isCount(reported) && reported !== requested ? reported : undefined;
  return { ...(requested !== undefined ? { requested } : {}), ...(run !== undefined ? { run } : {}) };
}

const steps = (n: number) => (n === 1 ? '1 step' : `${n} steps`);

/** "20 steps" ("1 step"), or "20 steps, 15 run" when the engine ran fewer; undefined when unknown. */
export function stepsLabel(parameters: Record<string, unknown>): string | undefined {
  const { requested, run } = resultSteps(parameters);
  if (requested === undefined) return run === undefined ? undefined : `${steps(run)} run`;
  return run === undefined ? steps(requested) : `${steps(requested)}, ${run} run`;
}
