import { PentimentoError } from '../errors';

/**
 * The keys of diffusers' `scheduler_config.json` that Pentimento's samplers read, under their
 * file names. Missing keys take Stable Diffusion 1.5's values (`SD15_SCHEDULER_CONFIG`).
 */
export interface SchedulerConfig {
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: 'scaled_linear' | 'linear' | 'squaredcos_cap_v2';
  /** Explicit β_t, overriding beta_start/beta_end/beta_schedule when present. */
  trained_betas: number[] | null;
  steps_offset: number;
  /** DDIM: ᾱ used past the last step — 1 if true, else ᾱ_0. */
  set_alpha_to_one: boolean;
  /** DDIM: clamp x̂₀ to ±clip_sample_range (meant for pixel-space models; off for SD latents). */
  clip_sample: boolean;
  clip_sample_range: number;
  prediction_type: 'epsilon' | 'v_prediction';
  timestep_spacing: 'leading' | 'trailing' | 'linspace';
  use_karras_sigmas: boolean;
  /** DPM-Solver: σ after the last step, 0 ('zero') or σ(t=0) ('sigma_min'). */
  final_sigmas_type: 'zero' | 'sigma_min';
  /** DPM-Solver: first-order last step when fewer than 15 steps (always so when final σ is 0). */
  lower_order_final: boolean;
}

/** runwayml/stable-diffusion-v1-5 scheduler/scheduler_config.json, plus diffusers' defaults. */
export const SD15_SCHEDULER_CONFIG: Readonly<SchedulerConfig> = Object.freeze({
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  trained_betas: null,
  steps_offset: 1,
  set_alpha_to_one: false,
  clip_sample: false,
  clip_sample_range: 1,
  prediction_type: 'epsilon',
  timestep_spacing: 'leading',
  use_karras_sigmas: false,
  final_sigmas_type: 'zero',
  lower_order_final: true,
});

const CHOICES = {
  beta_schedule: ['scaled_linear', 'linear', 'squaredcos_cap_v2'],
  prediction_type: ['epsilon', 'v_prediction'],
  timestep_spacing: ['leading', 'trailing', 'linspace'],
  final_sigmas_type: ['zero', 'sigma_min'],
} as const;

/**
 * Fills SD1.5 defaults into `raw` (a parsed scheduler_config.json or a partial config) and
 * validates every key Pentimento reads. Unknown keys are ignored. Errors are BAD_MODEL naming
 * `source` when one is given (a file), else BAD_ARGUMENT.
 */
export function resolveSchedulerConfig(raw: Partial<SchedulerConfig> | Record<string, unknown>, source?: string): SchedulerConfig {
  const fail = (key: string, value: unknown, expected: string): never => {
    const where = source ? `${source}: ` : '';
    const fix = source ? ' Fix or remove the key.' : '';
    throw new PentimentoError(
      source ? 'BAD_MODEL' : 'BAD_ARGUMENT',
      `${where}scheduler key "${key}" is ${JSON.stringify(value)}; expected ${expected}.${fix}`,
      { key, ...(source ? { file: source } : {}) },
    );
  };
  const r = raw as Record<string, unknown>;
  const d = SD15_SCHEDULER_CONFIG;
  const pick = <K extends keyof SchedulerConfig>(key: K): unknown => (r[key] === undefined || r[key] === null ? d[key] : r[key]);

  const int = (key: keyof SchedulerConfig, min: number): number => {
    const v = pick(key);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) fail(key, v, `an integer ≥ ${min}`);
    return v as number;
  };
  const positive = (key: keyof SchedulerConfig): number => {
    const v = pick(key);
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(key, v, 'a positive number');
    return v as number;
  };
  const bool = (key: keyof SchedulerConfig): boolean => {
    const v = pick(key);
    if (typeof v !== 'boolean') fail(key, v, 'true or false');
    return v as boolean;
  };
  const choice = <K extends keyof typeof CHOICES>(key: K): (typeof CHOICES)[K][number] => {
    const v = pick(key);
    if (!(CHOICES[key] as readonly unknown[]).includes(v)) fail(key, v, `one of ${CHOICES[key].map((c) => `"${c}"`).join(', ')}`);
    return v as (typeof CHOICES)[K][number];
  };

  const config: SchedulerConfig = {
    num_train_timesteps: int('num_train_timesteps', 2),
    beta_start: positive('beta_start'),
    beta_end: positive('beta_end'),
    beta_schedule: choice('beta_schedule'),
    trained_betas: null,
    steps_offset: int('steps_offset', 0),
    set_alpha_to_one: bool('set_alpha_to_one'),
    clip_sample: bool('clip_sample'),
    clip_sample_range: positive('clip_sample_range'),
    prediction_type: choice('prediction_type'),
    timestep_spacing: choice('timestep_spacing'),
    use_karras_sigmas: bool('use_karras_sigmas'),
    final_sigmas_type: choice('final_sigmas_type'),
    lower_order_final: bool('lower_order_final'),
  };
  const betas = r.trained_betas;
  if (betas !== undefined && betas !== null) {
    const ok =
      Array.isArray(betas) &&
      betas.length === config.num_train_timesteps &&
      betas.every((b) => typeof b === 'number' && b > 0 && b < 1);
    if (!ok) fail('trained_betas', '[…]', `null or ${config.num_train_timesteps} numbers in (0, 1)`);
    config.trained_betas = [...(betas as number[])];
  }
  if (config.beta_end < config.beta_start) fail('beta_end', config.beta_end, `a value ≥ beta_start (${config.beta_start})`);
  if (config.beta_end >= 1) fail('beta_end', config.beta_end, 'a value below 1');
  return config;
}
