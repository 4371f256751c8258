import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSchedulerConfig } from '../../../main/engine/schedulers/readSchedulerConfig';

// runwayml/stable-diffusion-v1-5 scheduler/scheduler_config.json
const SD15 = {
  _class_name: 'PNDMScheduler',
  _diffusers_version: '0.6.0',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  num_train_timesteps: 1000,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
  clip_sample: false,
};

describe('readSchedulerConfig', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pentimento-sched-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function file(name: string, content: unknown): Promise<string> {
    const p = path.join(dir, name);
    await writeFile(p, typeof content === 'string' ? content : JSON.stringify(content));
    return p;
  }

  it('reads an SD1.5 PNDM config as DDIM over its schedule', async () => {
    const r = await readSchedulerConfig(await file('sd15.json', SD15));
    expect(r.className).toBe('PNDMScheduler');
    expect(r.sampler).toBe('ddim');
    expect(r.warnings).toEqual([]);
    expect(r.config).toMatchObject({
      num_train_timesteps: 1000,
      beta_start: 0.00085,
      beta_end: 0.012,
      beta_schedule: 'scaled_linear',
      steps_offset: 1,
      set_alpha_to_one: false,
      clip_sample: false,
      prediction_type: 'epsilon',
      timestep_spacing: 'leading',
      trained_betas: null,
    });
  });

  it.each([
    ['DDIMScheduler', 'ddim'],
    ['EulerDiscreteScheduler', 'euler'],
    ['EulerAncestralDiscreteScheduler', 'euler-a'],
    ['DPMSolverMultistepScheduler', 'dpmpp-2m'],
    ['LMSDiscreteScheduler', 'euler'],
  ])('maps %s to %s', async (className, sampler) => {
    const r = await readSchedulerConfig(await file(`${className}.json`, { ...SD15, _class_name: className }));
    expect(r.sampler).toBe(sampler);
    expect(r.warnings).toEqual([]);
  });

  it('reads a folder holding scheduler_config.json, with v-prediction and Karras keys', async () => {
    const folder = path.join(dir, 'scheduler');
    await mkdir(folder);
    await writeFile(
      path.join(folder, 'scheduler_config.json'),
      JSON.stringify({ _class_name: 'DPMSolverMultistepScheduler', prediction_type: 'v_prediction', use_karras_sigmas: true, timestep_spacing: 'trailing' }),
    );
    const r = await readSchedulerConfig(folder);
    expect(r.sampler).toBe('dpmpp-2m');
    expect(r.config).toMatchObject({ prediction_type: 'v_prediction', use_karras_sigmas: true, timestep_spacing: 'trailing', beta_start: 0.00085 });
  });

  it('falls back to the default sampler with a warning for an unknown class', async () => {
    const p = await file('unknown.json', { ...SD15, _class_name: 'HeunDiscreteScheduler' });
    const r = await readSchedulerConfig(p);
    expect(r.sampler).toBe('ddim');
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toContain('HeunDiscreteScheduler');
    expect(r.warnings[0]).toContain(p);
  });

  it('warns when a DPM-Solver variant other than ++(2M) is requested', async () => {
    const r = await readSchedulerConfig(await file('sde.json', { _class_name: 'DPMSolverMultistepScheduler', algorithm_type: 'sde-dpmsolver++' }));
    expect(r.sampler).toBe('dpmpp-2m');
    expect(r.warnings[0]).toMatch(/sde-dpmsolver\+\+/);
  });

  it('rejects bad JSON with BAD_MODEL naming the file', async () => {
    const p = await file('broken.json', '{"_class_name": "DDIMScheduler",');
    await expect(readSchedulerConfig(p)).rejects.toMatchObject({ code: 'BAD_MODEL', message: expect.stringContaining(p) });
    const arr = await file('array.json', '[1, 2]');
    await expect(readSchedulerConfig(arr)).rejects.toMatchObject({ code: 'BAD_MODEL', message: expect.stringContaining(arr) });
  });

  it.each([
    [{ beta_schedule: 'cosine' }, /beta_schedule/],
    [{ prediction_type: 'sample' }, /prediction_type/],
    [{ num_train_timesteps: 12.5 }, /num_train_timesteps/],
    [{ steps_offset: -1 }, /steps_offset/],
    [{ beta_start: 0.02, beta_end: 0.01 }, /beta_end/],
    [{ set_alpha_to_one: 'no' }, /set_alpha_to_one/],
    [{ trained_betas: [0.1, 0.2] }, /trained_betas/],
  ])('rejects bad value %j with BAD_MODEL naming the key and file', async (patch, key) => {
    const p = await file('bad-value.json', { ...SD15, ...patch });
    const error = await readSchedulerConfig(p).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'BAD_MODEL', message: expect.stringContaining(p) });
    expect((error as Error).message).toMatch(key);
  });

  it('reports a missing file as MODEL_MISSING', async () => {
    await expect(readSchedulerConfig(path.join(dir, 'absent', 'scheduler_config.json'))).rejects.toMatchObject({ code: 'MODEL_MISSING' });
  });
});
