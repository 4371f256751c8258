import { badArgument } from '../errors';
import { DDIMScheduler } from './DDIMScheduler';
import { DPMSolverMultistepScheduler } from './DPMSolverMultistepScheduler';
import { EulerAncestralDiscreteScheduler } from './EulerAncestralDiscreteScheduler';
import { EulerDiscreteScheduler } from './EulerDiscreteScheduler';
import { SAMPLER_NAMES, type SamplerName, type Scheduler } from './Scheduler';
import { resolveSchedulerConfig, type SchedulerConfig } from './SchedulerConfig';

export interface CreateSchedulerOptions {
  /** Karras σ schedule (euler, euler-a, dpmpp-2m); defaults to the config's use_karras_sigmas. */
  karras?: boolean;
  /** DDIM's η (0 = deterministic); DDIM only. */
  eta?: number;
}

/**
 * A sampler by name over a model's noise schedule. `config` may be partial: missing keys take
 * SD1.5's values. Throws BAD_ARGUMENT for an unknown name or options the sampler lacks.
 */
export function createScheduler(name: SamplerName, config: Partial<SchedulerConfig> = {}, opts: CreateSchedulerOptions = {}): Scheduler {
  const resolved = resolveSchedulerConfig(config);
  const karras = opts.karras ?? resolved.use_karras_sigmas;
  if (opts.eta !== undefined && name !== 'ddim') {
    throw badArgument(`η applies to the ddim sampler only, not ${name}.`, { sampler: name });
  }
  switch (name) {
    case 'ddim':
      if (opts.karras) throw badArgument('The ddim sampler has no Karras σ schedule; use euler, euler-a or dpmpp-2m for Karras.');
      return new DDIMScheduler(resolved, opts.eta ?? 0);
    case 'euler':
      return new EulerDiscreteScheduler(resolved, karras);
    case 'euler-a':
      return new EulerAncestralDiscreteScheduler(resolved, karras);
    case 'dpmpp-2m':
      return new DPMSolverMultistepScheduler(resolved, karras);
    default:
      throw badArgument(`Unknown sampler "${String(name)}"; choose one of ${SAMPLER_NAMES.join(', ')}.`, { sampler: name });
  }
}
