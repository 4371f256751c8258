import type { ConditionType, JobKind, SchedulerName } from '../../../main/contract/contract';
import { MAX_GUIDANCE, MAX_SEED, MAX_STEPS } from '../../../main/contract/limits';

// The engine's limits, so every CLI result can be re-run here (the engine checks the same).
export { MAX_SEED, MAX_STEPS };

export type EditorMode = 'edit' | 'generate' | 'structure' | 'personalize';
export type SeedMode = 'random' | 'locked';
/** Edit photo's methods: img2img/inpaint (by the mask), or an edit by inversion (PAPERS.md §2). */
export type EditMethod = 'img2img' | 'pti' | 'nti' | 'ddim';
export const EDIT_METHODS: readonly EditMethod[] = ['img2img', 'pti', 'nti', 'ddim'];
export const CONDITION_TYPES: readonly ConditionType[] = ['canny', 'depth', 'segmentation', 'lineart', 'softedge'];
export const MAX_BEST_OF = 16;

export const isInversionMethod = (m: EditMethod): m is Exclude<EditMethod, 'img2img'> => m !== 'img2img';

/**
 * The scheduler control: one of the engine's samplers, or 'model' — the model folder's own
 * scheduler_config.json, which is what the CLI uses when `--scheduler` is not given (the
 * request then carries no scheduler).
 */
export type SchedulerChoice = SchedulerName | 'model';

/**
 * The editor's controls. The last-used ones are remembered in the browser's storage (the
 * defaults for a new project), and each project keeps its own (see projectSettings).
 *
 * Defaults match the CLI (`npm run edit`) so the same prompt gives the same picture in both:
 * the model's own scheduler, and a denoising strength per kind of edit — img2img 0.75 (the
 * engine's DEFAULT_STRENGTH), inpaint 1 (with a mask the whole masked area is regenerated).
 * The Strength slider shows and sets the value of the kind Generate will run: `inpaintStrength`
 * while a mask is painted, `strength` otherwise, so changing one never changes the other.
 */
export interface Settings {
  mode: EditorMode;
  prompt: string;
  negativePrompt: string;
  steps: number;
  guidance: number;
  /** img2img (no mask): the fraction of the schedule re-run. */
  strength: number;
  /** Inpaint (a mask is painted). */
  inpaintStrength: number;
  seed: number;
  seedMode: SeedMode;
  scheduler: SchedulerChoice;
  width: number;
  height: number;
  brushSize: number;
  hardness: number;
  /** Edit photo. */
  editMethod: EditMethod;
  /** Inversion: describes the photo (optional). */
  sourcePrompt: string;
  /** Inversion: edit strength η in [0, 1] (0 reconstructs the photo). */
  eta: number;
  /** Structure. */
  conditionType: ConditionType;
  /** A ControlNetInfo id; '' until one is chosen. */
  controlnetId: string;
  controlScale: number;
  controlStart: number;
  controlEnd: number;
  bestOf: number;
}

export const SCHEDULERS: readonly SchedulerName[] = ['ddim', 'euler', 'euler-a', 'dpmpp-2m'];
export const SCHEDULER_CHOICES: readonly SchedulerChoice[] = ['model', ...SCHEDULERS];
/** The CLI's defaults (main/engine/pipelines: DEFAULT_STRENGTH for img2img, 1 for inpaint). */
export const DEFAULT_IMG2IMG_STRENGTH = 0.75;
export const DEFAULT_INPAINT_STRENGTH = 1;
const MODES: readonly EditorMode[] = ['edit', 'generate', 'structure', 'personalize'];
/** Random seeds are drawn from 32 bits, short enough to read out and type back. */
export const MAX_RANDOM_SEED = 2 ** 32 - 1;

export const DEFAULT_SETTINGS: Settings = {
  mode: 'edit',
  prompt: '',
  negativePrompt: '',
  steps: 20,
  guidance: 7.5,
  strength: DEFAULT_IMG2IMG_STRENGTH,
  inpaintStrength: DEFAULT_INPAINT_STRENGTH,
  seed: 1234,
  seedMode: 'random',
  scheduler: 'model',
  width: 512,
  height: 512,
  brushSize: 48,
  hardness: 0.8,
  editMethod: 'img2img',
  sourcePrompt: '',
  eta: 0.7,
  conditionType: 'canny',
  controlnetId: '',
  controlScale: 1,
  controlStart: 0,
  controlEnd: 1,
  bestOf: 1,
};

export const SETTINGS_KEY = 'pentimento.settings.v1';

/** A setting's validity test; `limits` and `choices` say what it accepts, for messages. */
interface CheckInfo {
  limits?: { min: number; max: number; integer: boolean; aboveMin?: boolean };
  choices?: readonly unknown[];
  kind?: 'text';
}
type Check<T> = ((v: unknown) => v is T) & CheckInfo;
const withInfo = <T>(test: (v: unknown) => boolean, info: CheckInfo): Check<T> => Object.assign(test as (v: unknown) => v is T, info);
const isString: Check<string> = withInfo<string>((v) => typeof v === 'string', { kind: 'text' });
const inRange = (min: number, max: number, integer = false): Check<number> =>
  withInfo<number>((v) => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max && (!integer || Number.isInteger(v)), { limits: { min, max, integer } });
const oneOf = <T>(values: readonly T[]): Check<T> => withInfo<T>((v) => values.includes(v as T), { choices: values });
/** Denoising strength: the engine takes (0, 1]. */
const strengthCheck: Check<number> = withInfo<number>((v) => inRange(0, 1)(v) && (v as number) > 0, { limits: { min: 0, max: 1, integer: false, aboveMin: true } });
/** Model sizes are multiples of 8 (the latent grid). */
const side: Check<number> = withInfo<number>((v) => inRange(64, 2048, true)(v) && (v as number) % 8 === 0, { limits: { min: 64, max: 2048, integer: true } });

const CHECKS: { [K in keyof Settings]: Check<Settings[K]> } = {
  mode: oneOf(MODES),
  prompt: isString,
  negativePrompt: isString,
  steps: inRange(1, MAX_STEPS, true),
  guidance: inRange(0, MAX_GUIDANCE),
  strength: strengthCheck,
  inpaintStrength: strengthCheck,
  seed: inRange(0, MAX_SEED, true),
  seedMode: oneOf<SeedMode>(['random', 'locked']),
  scheduler: oneOf(SCHEDULER_CHOICES),
  width: side,
  height: side,
  brushSize: inRange(1, 1000),
  hardness: inRange(0, 1),
  editMethod: oneOf(EDIT_METHODS),
  sourcePrompt: isString,
  eta: inRange(0, 1),
  conditionType: oneOf(CONDITION_TYPES),
  controlnetId: isString,
  controlScale: inRange(0, 2),
  controlStart: inRange(0, 1),
  controlEnd: inRange(0, 1),
  bestOf: inRange(1, MAX_BEST_OF, true),
};

/** The engine's names for the inversion methods (GenerationParameters.method). */
const INVERSION_METHOD_NAMES: Record<string, EditMethod> = {
  'prompt-tuning-inversion': 'pti',
  'null-text-inversion': 'nti',
  'ddim-inversion': 'ddim',
};

/**
 * The inversion a project's results were made from that the current settings would make again
 * (same method, steps, guidance and source prompt), newest first: after a reload the η slider
 * re-edits from it instead of waiting for Generate to invert again. Undefined when none fits.
 */
export function resumableInversion(results: readonly { parameters: Record<string, unknown> }[], s: Settings): string | undefined {
  if (!isInversionMethod(s.editMethod)) return undefined;
  const source = s.sourcePrompt.trim() ? s.sourcePrompt : '';
  for (let i = results.length - 1; i >= 0; i--) {
    const p = results[i].parameters;
    const extra = (p.extra && typeof p.extra === 'object' ? p.extra : {}) as Record<string, unknown>;
    if (typeof extra.inversionId !== 'string' || !/^[0-9a-f]{24}$/.test(extra.inversionId)) continue;
    if (INVERSION_METHOD_NAMES[String(p.method)] !== s.editMethod || p.steps !== s.steps || p.guidance !== s.guidance) continue;
    if ((typeof extra.sourcePrompt === 'string' ? extra.sourcePrompt : '') !== source) continue;
    return extra.inversionId;
  }
  return undefined;
}

/**
 * The stored settings, each value that is missing or invalid replaced by its default. Older
 * versions stored the same key: their explicit scheduler stays chosen, their one `strength` is
 * kept as img2img's, and inpaint starts at its default (1) since `inpaintStrength` is absent.
 */
export function loadSettings(storage: Pick<Storage, 'getItem'>): Settings {
  let stored: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(storage.getItem(SETTINGS_KEY) ?? '{}');
    if (parsed && typeof parsed === 'object') stored = parsed as Record<string, unknown>;
  } catch {
    // Unreadable settings: start from the defaults.
  }
  return mergeSettings(DEFAULT_SETTINGS, stored);
}

/** `base` with each valid value of `stored` (of `keys`) in place of its own. */
function mergeSettings(base: Settings, stored: Record<string, unknown>, keys = Object.keys(CHECKS) as (keyof Settings)[]): Settings {
  const settings = { ...base } as Record<keyof Settings, unknown>;
  for (const key of keys) {
    if ((CHECKS[key] as Check<unknown>)(stored[key])) settings[key] = stored[key];
  }
  return settings as unknown as Settings;
}

/**
 * What a project does not keep: the mode is the window's (which panel is shown), the brush the
 * hand's; both stay as they are when another project opens.
 */
const PROJECT_KEYS = (Object.keys(CHECKS) as (keyof Settings)[]).filter((k) => k !== 'mode' && k !== 'brushSize' && k !== 'hardness');

/** What a project keeps of the settings (saved with it, so they travel with the project). */
export function projectSettings(settings: Settings): Record<string, unknown> {
  return Object.fromEntries(PROJECT_KEYS.map((k) => [k, settings[k]]));
}

/** The settings with a project's saved ones in place (values missing or invalid there stay as in `current`). */
export function withProjectSettings(current: Settings, saved: Record<string, unknown>): Settings {
  return mergeSettings(current, saved, PROJECT_KEYS);
}

export function saveSettings(storage: Pick<Storage, 'setItem'>, settings: Settings): void {
  try {
    storage.setItem(SETTINGS_KEY, JSON.stringify(settings));
  } catch {
    // Storage full or disabled: settings are a convenience, never worth an error.
  }
}

/** The scheduler a request names: none for 'model', so the engine uses the model's own. */
export function requestScheduler(choice: SchedulerChoice): SchedulerName | undefined {
  return choice === 'model' ? undefined : choice;
}

/** The setting that holds the strength of a job of this kind (see Settings). */
export function strengthKey(kind: Extract<JobKind, 'img2img' | 'inpaint'>): 'strength' | 'inpaintStrength' {
  return kind === 'inpaint' ? 'inpaintStrength' : 'strength';
}

/** A uniformly random 32-bit seed (any seed up to MAX_SEED can be typed). */
export function randomSeed(random: () => number = Math.random): number {
  return Math.floor(random() * (MAX_RANDOM_SEED + 1));
}

/** Why `value` is not a valid `key` setting ("600 is over 500"), for notices. */
function rejection(key: keyof Settings, value: unknown): string {
  const check = CHECKS[key] as Check<unknown>;
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  if (check.kind === 'text') return `${shown} is not text`;
  if (check.choices) return `${shown} is not one of ${check.choices.join(', ')}`;
  const limits = check.limits;
  if (!limits) return `${shown} is not valid`;
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${shown} is not a number`;
  if (limits.integer && !Number.isInteger(value)) return `${shown} is not a whole number`;
  if (value > limits.max) return `${shown} is over ${limits.max}`;
  if (value < limits.min || (limits.aboveMin && value <= limits.min)) return `${shown} is ${limits.aboveMin ? 'not above' : 'under'} ${limits.min}`;
  return `${shown} is not valid`;
}

/** A parameter the controls could not take: its name in the parameters, and why. */
export interface SkippedParameter {
  name: string;
  reason: string;
}

/** What parameters give the controls: the settings, how many came from the parameters, and what was left out. */
export interface RestoredSettings {
  settings: Partial<Settings>;
  /** Settings taken from values in the parameters (not counting defaults filled in, or the mode). */
  restored: number;
  skipped: SkippedParameter[];
}

/**
 * "Reuse settings" from a result: the controls that reproduce it, taken from the parameters
 * its PNG carries (fields that are missing or invalid are left as they are; `skipped` names the
 * invalid ones). The seed is locked, since reusing a result means reproducing it.
 */
export function restoreFromParameters(parameters: Record<string, unknown>): RestoredSettings {
  const out: Partial<Settings> = {};
  const skipped: SkippedParameter[] = [];
  let restored = 0;
  const take = <K extends keyof Settings>(key: K, value: unknown, name: string = key) => {
    if ((CHECKS[key] as Check<unknown>)(value)) {
      out[key] = value as Settings[K];
      restored++;
    } else if (value !== undefined && value !== null) {
      skipped.push({ name, reason: rejection(key, value) });
    }
  };
  take('prompt', parameters.prompt);
  if (parameters.negativePrompt == null) out.negativePrompt = '';
  else take('negativePrompt', parameters.negativePrompt);
  take('steps', parameters.steps);
  take('guidance', parameters.guidance);
  take(parameters.method === 'inpaint' || parameters.kind === 'inpaint' ? 'inpaintStrength' : 'strength', parameters.strength, 'strength');
  take('scheduler', parameters.scheduler);
  const extra = (parameters.extra && typeof parameters.extra === 'object' ? parameters.extra : {}) as Record<string, unknown>;
  // txt2img from a condition takes its size from the photo, so a controlled result keeps Generate's size.
  if ((parameters.method === 'txt2img' || parameters.kind === 'txt2img') && !extra.control) {
    take('width', parameters.width);
    take('height', parameters.height);
  }
  const inversion = INVERSION_METHOD_NAMES[String(parameters.method)];
  if (parameters.method === 'img2img' || parameters.method === 'inpaint') out.editMethod = 'img2img';
  if (inversion) {
    out.editMethod = inversion;
    take('eta', extra.eta, 'eta');
    take('sourcePrompt', extra.sourcePrompt);
  }
  const control = Array.isArray(extra.control) ? (extra.control[0] as Record<string, unknown> | undefined) : undefined;
  if (control && typeof control === 'object') {
    take('conditionType', control.type, 'control type');
    take('controlScale', control.scale, 'control scale');
    take('controlStart', control.start, 'control start');
    take('controlEnd', control.end, 'control end');
  }
  // Edits by inversion have no seed (they are deterministic): the seed controls stay as they are.
  const before = restored;
  take('seed', parameters.seed);
  if (restored > before) out.seedMode = 'locked';
  return { settings: out, restored, skipped };
}

/** restoreFromParameters's settings alone. */
export function settingsFromParameters(parameters: Record<string, unknown>): Partial<Settings> {
  return restoreFromParameters(parameters).settings;
}

/**
 * The controls for a photo opened from a PNG Pentimento wrote: its parameters as "Reuse
 * settings" takes them, in Structure mode when ControlNets made it and Edit photo otherwise.
 */
export function restoreFromPhotoParameters(parameters: Record<string, unknown>): RestoredSettings {
  const extra = (parameters.extra && typeof parameters.extra === 'object' ? parameters.extra : {}) as Record<string, unknown>;
  const back = restoreFromParameters(parameters);
  return { ...back, settings: { ...back.settings, mode: Array.isArray(extra.control) && extra.control.length > 0 ? 'structure' : 'edit' } };
}

export function settingsFromPhotoParameters(parameters: Record<string, unknown>): Partial<Settings> {
  return restoreFromPhotoParameters(parameters).settings;
}

/** "steps (600 is over 500) and seed (…)": the skipped parameters, for a notice. */
export function describeSkipped(skipped: readonly SkippedParameter[]): string {
  const items = skipped.map((s) => `${s.name} (${s.reason})`);
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/**
 * The notice for a photo whose parameters were restored: what was left out, or — when nothing
 * could be used — that they could not be read (the controls are then left as they were).
 */
export function restoreNotice(back: RestoredSettings): string {
  if (back.restored === 0) {
    return `The image's parameters could not be read${back.skipped.length ? ` (${describeSkipped(back.skipped)})` : ''}; the controls are unchanged.`;
  }
  return back.skipped.length ? `Settings restored from the image's parameters, except ${describeSkipped(back.skipped)}.` : "Settings restored from the image's parameters.";
}
