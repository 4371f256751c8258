import { describe, expect, it } from 'vitest';
import { DEFAULT_STRENGTH } from '../../../main/engine/pipelines/checkInputs';
import {
  DEFAULT_SETTINGS,
  loadSettings,
  MAX_SEED,
  randomSeed,
  requestScheduler,
  projectSettings,
  saveSettings,
  SETTINGS_KEY,
  settingsFromParameters,
  settingsFromPhotoParameters,
  restoreFromPhotoParameters,
  restoreNotice,
  resumableInversion,
  strengthKey,
  withProjectSettings,
} from '../../../renderer/src/editor/settings';
import { strengthHint } from '../../../renderer/src/editor/strengthHint';

function memoryStorage(initial: Record<string, string> = {}) {
  const items = new Map(Object.entries(initial));
  return { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => void items.set(k, v), items };
}

describe('settings', () => {
  it('round-trips through storage', () => {
    const storage = memoryStorage();
    const changed = { ...DEFAULT_SETTINGS, prompt: 'a red boat', steps: 7, seedMode: 'locked' as const, seed: 99, scheduler: 'euler-a' as const, mode: 'generate' as const };
    saveSettings(storage, changed);
    expect(loadSettings(storage)).toEqual(changed);
  });

  it('replaces each missing or invalid value by its default and keeps the valid ones', () => {
    const storage = memoryStorage({
      [SETTINGS_KEY]: JSON.stringify({ steps: 0, guidance: 12, width: 500, height: 768, scheduler: 'plms', seed: -1, hardness: 0.25, mode: 'nope' }),
    });
    const s = loadSettings(storage);
    expect(s).toEqual({ ...DEFAULT_SETTINGS, guidance: 12, height: 768, hardness: 0.25 });
    expect(loadSettings(memoryStorage({ [SETTINGS_KEY]: '{not json' }))).toEqual(DEFAULT_SETTINGS);
  });

  it('never throws when storage refuses to write', () => {
    expect(() => saveSettings({ setItem: () => { throw new Error('QuotaExceeded'); } }, DEFAULT_SETTINGS)).not.toThrow();
  });

  it('draws seeds over the whole 32-bit range, and takes any seed the engine does', () => {
    expect(randomSeed(() => 0)).toBe(0);
    expect(randomSeed(() => 0.999999999999)).toBe(2 ** 32 - 1);
    // The engine (and the CLI) take seeds up to 2^53−1.
    expect(MAX_SEED).toBe(Number.MAX_SAFE_INTEGER);
    expect(settingsFromParameters({ seed: Number.MAX_SAFE_INTEGER })).toMatchObject({ seed: Number.MAX_SAFE_INTEGER, seedMode: 'locked' });
  });
});

describe('settingsFromParameters', () => {
  it('takes what reproduces a result and locks its seed', async () => {
    const { settingsFromParameters } = await import('../../../renderer/src/editor/settings');
    const params = { prompt: 'a cat', negativePrompt: 'blur', seed: 42, steps: 6, guidance: 5, scheduler: 'euler', strength: 0.6, width: 456, height: 304, method: 'inpaint', model: { name: 'm', hash: 'h' } };
    expect(settingsFromParameters(params)).toEqual({ prompt: 'a cat', negativePrompt: 'blur', seed: 42, seedMode: 'locked', steps: 6, guidance: 5, scheduler: 'euler', inpaintStrength: 0.6, editMethod: 'img2img' });
    // An img2img result's strength is img2img's.
    expect(settingsFromParameters({ ...params, method: 'img2img' })).toMatchObject({ strength: 0.6 });
    expect(settingsFromParameters({ ...params, method: 'img2img' }).inpaintStrength).toBeUndefined();
    expect(settingsFromParameters({ ...params, method: 'txt2img', width: 512, height: 768 })).toMatchObject({ width: 512, height: 768 });
    expect(settingsFromParameters({ steps: 'ten', scheduler: 'plms', seed: 1.5 })).toEqual({ negativePrompt: '' });
  });

  it('brings back an inversion edit\'s method, η and source prompt, and a controlled result\'s ControlNet settings', async () => {
    const { settingsFromParameters } = await import('../../../renderer/src/editor/settings');
    const inversion = { prompt: 'tea', seed: 0, steps: 50, guidance: 7.5, scheduler: 'ddim', method: 'null-text-inversion', extra: { eta: 0.35, sourcePrompt: 'coffee', inversionId: 'abc' } };
    expect(settingsFromParameters(inversion)).toMatchObject({ editMethod: 'nti', eta: 0.35, sourcePrompt: 'coffee', prompt: 'tea' });
    const controlled = {
      prompt: 'x',
      seed: 3,
      steps: 2,
      method: 'txt2img',
      width: 448,
      height: 304,
      extra: { control: [{ type: 'depth', scale: 0.5, start: 0.1, end: 0.9, controlnet: '/x/model.onnx' }] },
    };
    const back = settingsFromParameters(controlled);
    expect(back).toMatchObject({ conditionType: 'depth', controlScale: 0.5, controlStart: 0.1, controlEnd: 0.9 });
    // The size came from the photo, not from Generate's size control.
    expect(back.width).toBeUndefined();
    expect(settingsFromParameters({ method: 'ddim-inversion', extra: { eta: 3 } })).toEqual({ negativePrompt: '', editMethod: 'ddim' });
  });

  it('names each parameter it could not restore, and why', () => {
    const back = restoreFromPhotoParameters({ prompt: 'a barn', steps: 600, seed: 2 ** 60, guidance: 'high', scheduler: 'plms', strength: 0, method: 'img2img' });
    expect(back.settings).toMatchObject({ prompt: 'a barn', mode: 'edit' });
    expect(back.settings.steps).toBeUndefined();
    expect(back.skipped.map((s) => s.name)).toEqual(['steps', 'guidance', 'strength', 'scheduler', 'seed']);
    expect(restoreNotice(back)).toBe(
      "Settings restored from the image's parameters, except steps (600 is over 500), guidance (\"high\" is not a number), strength (0 is not above 0), " +
        `scheduler ("plms" is not one of model, ddim, euler, euler-a, dpmpp-2m) and seed (${2 ** 60} is over ${Number.MAX_SAFE_INTEGER}).`,
    );
    expect(restoreNotice(restoreFromPhotoParameters({ prompt: 'x', steps: 'abc', seed: 1.5 }))).toBe(
      "Settings restored from the image's parameters, except steps (\"abc\" is not a number) and seed (1.5 is not a whole number).",
    );
    expect(restoreNotice(restoreFromPhotoParameters({ prompt: 'x', steps: 20 }))).toBe("Settings restored from the image's parameters.");
  });

  it('parameters with nothing usable do not claim a restore', () => {
    const back = restoreFromPhotoParameters({ prompt: 7, steps: 'abc', method: 'img2img' });
    expect(back.restored).toBe(0);
    expect(restoreNotice(back)).toBe('The image\'s parameters could not be read (prompt (7 is not text) and steps ("abc" is not a number)); the controls are unchanged.');
    expect(restoreNotice(restoreFromPhotoParameters({}))).toBe("The image's parameters could not be read; the controls are unchanged.");
  });

  it('an inversion edit without a seed leaves the seed controls alone', () => {
    const back = settingsFromParameters({ prompt: 'tea', steps: 50, guidance: 7.5, scheduler: 'ddim', method: 'prompt-tuning-inversion', extra: { eta: 0.6 } });
    expect(back).toMatchObject({ editMethod: 'pti', eta: 0.6, prompt: 'tea', steps: 50 });
    expect('seed' in back || 'seedMode' in back).toBe(false);
  });

  it('an opened photo\'s parameters choose Edit photo, or Structure when ControlNets made it', () => {
    const params = { prompt: 'a barn', negativePrompt: '', seed: 9, steps: 12, guidance: 6, scheduler: 'euler-a', strength: 0.4, method: 'img2img' };
    expect(settingsFromPhotoParameters(params)).toEqual({
      prompt: 'a barn',
      negativePrompt: '',
      seed: 9,
      seedMode: 'locked',
      steps: 12,
      guidance: 6,
      scheduler: 'euler-a',
      strength: 0.4,
      editMethod: 'img2img',
      mode: 'edit',
    });
    const controlled = { ...params, method: 'txt2img', extra: { control: [{ type: 'canny', scale: 0.8, start: 0, end: 1 }] } };
    expect(settingsFromPhotoParameters(controlled)).toMatchObject({ mode: 'structure', conditionType: 'canny', controlScale: 0.8 });
  });

  it('loads the Structure and inversion settings, defaulting invalid ones', () => {
    const storage = memoryStorage({
      [SETTINGS_KEY]: JSON.stringify({ editMethod: 'pti', eta: 0.3, conditionType: 'pose', controlScale: 1.5, controlStart: 2, bestOf: 4.5, controlnetId: 'cn' }),
    });
    expect(loadSettings(storage)).toEqual({ ...DEFAULT_SETTINGS, editMethod: 'pti', eta: 0.3, controlScale: 1.5, controlnetId: 'cn' });
  });
});

describe('defaults shared with the CLI', () => {
  it('start from the model\'s scheduler and the engine\'s strengths: img2img 0.75, inpaint 1', () => {
    const s = loadSettings(memoryStorage());
    expect(s.scheduler).toBe('model');
    expect(requestScheduler(s.scheduler)).toBeUndefined(); // the request names none, as the CLI without --scheduler
    expect(s.strength).toBe(DEFAULT_STRENGTH);
    expect(s.strength).toBe(0.75);
    expect(s.inpaintStrength).toBe(1);
    expect(s[strengthKey('img2img')]).toBe(0.75);
    expect(s[strengthKey('inpaint')]).toBe(1);
    expect(requestScheduler('euler-a')).toBe('euler-a');
  });

  it('migrates settings stored before: a chosen scheduler stays, the one strength stays img2img\'s, inpaint starts at 1', () => {
    const old = { mode: 'edit', prompt: 'boat', steps: 30, strength: 0.5, scheduler: 'dpmpp-2m', seed: 5, seedMode: 'locked' };
    const s = loadSettings(memoryStorage({ [SETTINGS_KEY]: JSON.stringify(old) }));
    expect(s).toMatchObject({ prompt: 'boat', steps: 30, strength: 0.5, inpaintStrength: 1, scheduler: 'dpmpp-2m', seed: 5 });
    expect(loadSettings(memoryStorage({ [SETTINGS_KEY]: JSON.stringify({ scheduler: 'euler' }) })).scheduler).toBe('euler');
    // Saved again and reloaded, the new fields round-trip; strengths outside (0, 1] fall back.
    const storage = memoryStorage();
    saveSettings(storage, { ...s, scheduler: 'model', inpaintStrength: 0.85 });
    expect(loadSettings(storage)).toMatchObject({ scheduler: 'model', inpaintStrength: 0.85, strength: 0.5 });
    const bad = loadSettings(memoryStorage({ [SETTINGS_KEY]: JSON.stringify({ strength: 0, inpaintStrength: 1.5 }) }));
    expect([bad.strength, bad.inpaintStrength]).toEqual([0.75, 1]);
  });

  it('says how many steps img2img runs, by the engine\'s rule ⌊steps·strength⌋, and why none would', () => {
    expect(strengthHint(20, 0.75)).toEqual({ text: 'Runs 15 of the 20 steps.', problem: false });
    expect(strengthHint(6, 0.75)).toEqual({ text: 'Runs 4 of the 6 steps.', problem: false });
    expect(strengthHint(6, 1)).toEqual({ text: 'Runs all 6 steps.', problem: false });
    const none = strengthHint(4, 0.2);
    expect(none.problem).toBe(true);
    expect(none.text).toMatch(/runs no denoising step.*at least 0\.25/);
    // One step is "1 step", here and in the engine's reason.
    expect(strengthHint(1, 1)).toEqual({ text: 'Runs its 1 step.', problem: false });
    expect(strengthHint(1, 0.5).text).toMatch(/^Strength 0\.5 with 1 step runs no denoising step/);
  });
});

describe('project settings', () => {
  it('a project keeps every control but the mode and the brush, and its saved ones replace the current ones when it opens', () => {
    const mine = { ...DEFAULT_SETTINGS, prompt: 'a harbour', steps: 31, seed: 5, seedMode: 'locked' as const, editMethod: 'nti' as const, mode: 'generate' as const, brushSize: 90 };
    const saved = JSON.parse(JSON.stringify(projectSettings(mine)));
    expect(saved).toMatchObject({ prompt: 'a harbour', steps: 31, seed: 5, seedMode: 'locked', editMethod: 'nti' });
    expect('mode' in saved || 'brushSize' in saved || 'hardness' in saved).toBe(false);
    const other = { ...DEFAULT_SETTINGS, prompt: 'elsewhere', brushSize: 12 };
    expect(withProjectSettings(other, saved)).toEqual({ ...mine, mode: 'edit', brushSize: 12 });
    // Invalid or missing values keep the current ones.
    expect(withProjectSettings(other, { steps: -3, prompt: 7, guidance: 9 })).toEqual({ ...other, guidance: 9 });
  });
});

describe('resumableInversion', () => {
  const made = (id: string, over: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
    parameters: { method: 'prompt-tuning-inversion', steps: 4, guidance: 7.5, prompt: 'tea', ...over, extra: { inversionId: id, sourcePrompt: 'coffee', eta: 0.7, ...extra } },
  });
  const s = { ...DEFAULT_SETTINGS, editMethod: 'pti' as const, steps: 4, guidance: 7.5, sourcePrompt: 'coffee' };
  const a = 'a'.repeat(24);
  const b = 'b'.repeat(24);
  it('finds the newest result whose inversion the current settings would make', () => {
    expect(resumableInversion([made(a), made(b)], s)).toBe(b);
    expect(resumableInversion([made(a), made(b, { steps: 5 })], s)).toBe(a);
    expect(resumableInversion([made(a, {}, { sourcePrompt: '' })], { ...s, sourcePrompt: '  ' })).toBe(a);
  });
  it('none for other settings, another method, img2img, or results without a valid id', () => {
    expect(resumableInversion([made(a)], { ...s, guidance: 5 })).toBeUndefined();
    expect(resumableInversion([made(a)], { ...s, editMethod: 'nti' })).toBeUndefined();
    expect(resumableInversion([made(a)], { ...s, editMethod: 'img2img' })).toBeUndefined();
    expect(resumableInversion([made(a, {}, { sourcePrompt: 'milk' })], s)).toBeUndefined();
    expect(resumableInversion([made('not-an-id'), { parameters: { method: 'img2img', steps: 4 } }], s)).toBeUndefined();
  });
});
