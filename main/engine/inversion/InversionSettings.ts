import { badArgument } from '../errors';
import { MAX_GUIDANCE, MAX_STEPS } from '../pipelines/checkInputs';

/**
 * `pti`: Prompt Tuning Inversion (Dong et al. 2023) — per-step conditional embeddings c_t.
 * `nti`: null-text inversion (Mokady et al. 2022) — per-step unconditional embeddings ∅_t.
 * `ddim`: plain DDIM inversion, nothing tuned (the baseline both improve on).
 */
export type InversionMethod = 'pti' | 'nti' | 'ddim';
export const INVERSION_METHODS: readonly InversionMethod[] = ['pti', 'nti', 'ddim'];

/** Everything the inversion stage depends on besides the photo and the model (the cache key). */
export interface InversionSettings {
  method: InversionMethod;
  /** DDIM steps S of the inversion and of the edit (default 50). */
  steps: number;
  /** Guidance w the embeddings are tuned for and the edit samples with (default 7.5). */
  guidance: number;
  /** Describes the photo; conditions the DDIM inversion ('' = the empty prompt, default). */
  sourcePrompt: string;
  /** Adam iterations per timestep, at most (default 10). */
  innerSteps: number;
  /** Adam step size at step i: lr·max(0, 1 − lrDecay·i) (defaults 0.01 and 0.01, i.e. 0.01·(1 − i/100)). */
  lr: number;
  lrDecay: number;
  /** Stop tuning step i once the loss is below earlyStop + earlyStopSlope·i (defaults 1e-5, 2e-5). */
  earlyStop: number;
  earlyStopSlope: number;
  /** PTI: the first c_t starts from the target prompt's embedding (default) or the source prompt's. */
  init: 'target' | 'source';
  /**
   * Timestep label of the UNet call in an inversion step t_prev → t: `from` = t_prev, as in the
   * spec (clamped at 0 for the first step), or `to` = t, as diffusers' DDIMInverseScheduler does.
   */
  invertAt: 'from' | 'to';
}

export const DEFAULT_INVERSION_STEPS = 50;

export const DEFAULT_INVERSION_SETTINGS: Omit<InversionSettings, 'method'> = {
  steps: DEFAULT_INVERSION_STEPS,
  guidance: 7.5,
  sourcePrompt: '',
  innerSteps: 10,
  lr: 0.01,
  lrDecay: 0.01,
  earlyStop: 1e-5,
  earlyStopSlope: 2e-5,
  init: 'target',
  invertAt: 'from',
};

/** Edit strength η by method: PTI's slider default; null-text and DDIM edit with the target prompt itself. */
export const DEFAULT_ETA: Record<InversionMethod, number> = { pti: 0.7, nti: 1, ddim: 1 };

function finite(name: string, v: unknown, min: number, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw badArgument(`${name} is ${String(v)}; use a number from ${min}${max < Infinity ? ` to ${max}` : ' up'}.`, { field: name, [name]: v });
  }
  return v;
}

function whole(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw badArgument(`${name} is ${String(v)}; use a whole number from ${min} to ${max}.`, { field: name, [name]: v });
  }
  return v;
}

/** Settings with defaults filled in; each bad value is named with its valid range or choices. */
export function checkInversionSettings(s: Partial<InversionSettings> & { method?: InversionMethod }): InversionSettings {
  const method = s.method ?? 'pti';
  if (!INVERSION_METHODS.includes(method)) {
    throw badArgument(`method is "${String(method)}"; choose one of ${INVERSION_METHODS.join(', ')}.`, { valid: [...INVERSION_METHODS] });
  }
  const d = DEFAULT_INVERSION_SETTINGS;
  const init = s.init ?? d.init;
  if (init !== 'target' && init !== 'source') throw badArgument(`init is "${String(init)}"; choose target or source.`);
  const invertAt = s.invertAt ?? d.invertAt;
  if (invertAt !== 'from' && invertAt !== 'to') throw badArgument(`invertAt is "${String(invertAt)}"; choose from or to.`);
  const sourcePrompt = s.sourcePrompt ?? d.sourcePrompt;
  if (typeof sourcePrompt !== 'string') throw badArgument(`sourcePrompt must be text, got ${typeof sourcePrompt}.`);
  const settings: InversionSettings = {
    method,
    steps: whole('steps', s.steps ?? d.steps, 1, MAX_STEPS),
    guidance: finite('guidance', s.guidance ?? d.guidance, 0, MAX_GUIDANCE),
    sourcePrompt,
    innerSteps: whole('innerSteps', s.innerSteps ?? d.innerSteps, 0, 1000),
    lr: finite('lr', s.lr ?? d.lr, 0, 10),
    lrDecay: finite('lrDecay', s.lrDecay ?? d.lrDecay, 0, 1),
    earlyStop: finite('earlyStop', s.earlyStop ?? d.earlyStop, 0),
    earlyStopSlope: finite('earlyStopSlope', s.earlyStopSlope ?? d.earlyStopSlope, 0),
    init,
    invertAt,
  };
  if (method === 'nti' && settings.guidance <= 1) {
    throw badArgument(`guidance is ${settings.guidance}; null-text inversion tunes the unconditional branch, which only guidance > 1 uses.`, { field: 'guidance', guidance: settings.guidance });
  }
  return settings;
}

/** η in [0, 1]: 0 reconstructs the photo, 1 conditions every step on the target prompt alone. */
export function checkEta(eta: unknown): number {
  return finite('eta', eta, 0, 1);
}
