import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PentimentoError } from '../errors';
import type { SamplerName } from './Scheduler';
import { resolveSchedulerConfig, type SchedulerConfig } from './SchedulerConfig';

export interface SchedulerFolderConfig {
  config: SchedulerConfig;
  /** The file's `_class_name` ('' when absent). */
  className: string;
  /** The sampler that best matches that class; callers may choose another. */
  sampler: SamplerName;
  /** Things the caller should show the user, e.g. an unknown class replaced by the default. */
  warnings: string[];
}

/**
 * diffusers scheduler classes → Pentimento samplers. Samplers we lack map to the nearest one on
 * the same noise schedule: PNDM (SD1.5 folders ship it, as PLMS with skip_prk_steps) → DDIM,
 * the deterministic sampler on the same 'leading' timesteps that Prompt Tuning and null-text
 * inversion assume; LMS (a σ-space linear multistep method) → Euler.
 */
const CLASS_TO_SAMPLER: Record<string, SamplerName> = {
  PNDMScheduler: 'ddim',
  DDIMScheduler: 'ddim',
  DDPMScheduler: 'ddim',
  EulerDiscreteScheduler: 'euler',
  EulerAncestralDiscreteScheduler: 'euler-a',
  DPMSolverMultistepScheduler: 'dpmpp-2m',
  LMSDiscreteScheduler: 'euler',
};

export const DEFAULT_SAMPLER: SamplerName = 'ddim';

/**
 * Reads `scheduler_config.json` (or a folder holding it). Missing file → MODEL_MISSING; bad JSON
 * or values → BAD_MODEL naming the file; an unknown `_class_name` → the default sampler plus a
 * warning.
 */
export async function readSchedulerConfig(file: string): Promise<SchedulerFolderConfig> {
  let target = file;
  let text: string;
  try {
    if ((await fs.stat(target)).isDirectory()) target = path.join(target, 'scheduler_config.json');
    text = await fs.readFile(target, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new PentimentoError('MODEL_MISSING', `${target} does not exist; the model folder needs scheduler/scheduler_config.json.`, { file: target });
    }
    throw new PentimentoError('IO_ERROR', `Could not read ${target}: ${(e as Error).message}`, { file: target });
  }

  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new PentimentoError('BAD_MODEL', `${target} is not valid JSON (${(e as Error).message}); restore the file from the model's source.`, { file: target });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new PentimentoError('BAD_MODEL', `${target} must hold a JSON object of scheduler settings.`, { file: target });
  }
  const json = raw as Record<string, unknown>;
  const config = resolveSchedulerConfig(json, target);
  const className = typeof json._class_name === 'string' ? json._class_name : '';
  const warnings: string[] = [];
  let sampler = CLASS_TO_SAMPLER[className];
  if (!sampler) {
    sampler = DEFAULT_SAMPLER;
    warnings.push(
      `${target}: scheduler class "${className || '(none)'}" is not one Pentimento knows; using its noise schedule with the ${DEFAULT_SAMPLER} sampler.`,
    );
  }
  if (className === 'DPMSolverMultistepScheduler') {
    const algorithm = json.algorithm_type ?? 'dpmsolver++';
    const order = json.solver_order ?? 2;
    if (algorithm !== 'dpmsolver++' || order !== 2) {
      warnings.push(`${target}: DPM-Solver variant ${String(algorithm)} of order ${String(order)} is not implemented; using DPM-Solver++(2M).`);
    }
  }
  return { config, className, sampler, warnings };
}
