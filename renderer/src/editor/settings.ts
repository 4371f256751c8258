import type { SchedulerName } from '../../../main/contract/contract';

export type EditorMode = 'edit' | 'generate' | 'structure' | 'personalize';
export type SeedMode = 'random' | 'locked';

/** What the editor remembers between sessions (not per project): the last-used controls. */
export interface Settings {
  mode: EditorMode;
  prompt: string;
  negativePrompt: string;
  steps: number;
  guidance: number;
  strength: number;
  seed: number;
  seedMode: SeedMode;
  scheduler: SchedulerName;
  width: number;
  height: number;
  brushSize: number;
  hardness: number;
}

export const SCHEDULERS: readonly SchedulerName[] = ['ddim', 'euler', 'euler-a', 'dpmpp-2m'];
const MODES: readonly EditorMode[] = ['edit', 'generate', 'structure', 'personalize'];
export const MAX_SEED = 2 ** 32 - 1;

export const DEFAULT_SETTINGS: Settings = {
  mode: 'edit',
  prompt: '',
  negativePrompt: '',
  steps: 20,
  guidance: 7.5,
  strength: 0.75,
  seed: 1234,
  seedMode: 'random',
  scheduler: 'dpmpp-2m',
  width: 512,
  height: 512,
  brushSize: 48,
  hardness: 0.8,
};

export const SETTINGS_KEY = 'pentimento.settings.v1';

type Check<T> = (v: unknown) => v is T;
const isString: Check<string> = (v): v is string => typeof v === 'string';
const inRange = (min: number, max: number, integer = false): Check<number> =>
  ((v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max && (!integer || Number.isInteger(v))) as Check<number>;
const oneOf = <T>(values: readonly T[]): Check<T> => ((v: unknown) => values.includes(v as T)) as Check<T>;
/** Model sizes are multiples of 8 (the latent grid). */
const side: Check<number> = ((v: unknown) => inRange(64, 2048, true)(v) && (v as number) % 8 === 0) as Check<number>;

const CHECKS: { [K in keyof Settings]: Check<Settings[K]> } = {
  mode: oneOf(MODES),
  prompt: isString,
  negativePrompt: isString,
  steps: inRange(1, 200, true),
  guidance: inRange(0, 30),
  strength: inRange(0, 1),
  seed: inRange(0, MAX_SEED, true),
  seedMode: oneOf<SeedMode>(['random', 'locked']),
  scheduler: oneOf(SCHEDULERS),
  width: side,
  height: side,
  brushSize: inRange(1, 1000),
  hardness: inRange(0, 1),
};

/** The stored settings, each value that is missing or invalid replaced by its default. */
export function loadSettings(storage: Pick<Storage, 'getItem'>): Settings {
  let stored: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(storage.getItem(SETTINGS_KEY) ?? '{}');
    if (parsed && typeof parsed === 'object') stored = parsed as Record<string, unknown>;
  } catch {
    // Unreadable settings: start from the defaults.
  }
  const settings = { ...DEFAULT_SETTINGS } as Record<keyof Settings, unknown>;
  for (const key of Object.keys(CHECKS) as (keyof Settings)[]) {
    if ((CHECKS[key] as Check<unknown>)(stored[key])) settings[key] = stored[key];
  }
  return settings as unknown as Settings;
}

export function saveSettings(storage: Pick<Storage, 'setItem'>, settings: Settings): void {
  try {
    storage.setItem(SETTINGS_KEY, JSON.stringify(settings));
  } catch {
    // Storage full or disabled: settings are a convenience, never worth an error.
  }
}

/** A uniformly random 32-bit seed. */
export function randomSeed(random: () => number = Math.random): number {
  return Math.floor(random() * (MAX_SEED + 1));
}

/**
 * "Reuse settings" from a result: the controls that reproduce it, taken from the parameters
 * its PNG carries (fields that are missing or invalid are left as they are). The seed is locked,
 * since reusing a result means reproducing it.
 */
export function settingsFromParameters(parameters: Record<string, unknown>): Partial<Settings> {
  const out: Partial<Settings> = {};
  const take = <K extends keyof Settings>(key: K, value: unknown) => {
    if ((CHECKS[key] as Check<unknown>)(value)) out[key] = value as Settings[K];
  };
  take('prompt', parameters.prompt);
  take('negativePrompt', parameters.negativePrompt ?? '');
  take('steps', parameters.steps);
  take('guidance', parameters.guidance);
  take('strength', parameters.strength);
  take('scheduler', parameters.scheduler);
  if (parameters.method === 'txt2img' || parameters.kind === 'txt2img') {
    take('width', parameters.width);
    take('height', parameters.height);
  }
  if (CHECKS.seed(parameters.seed)) {
    out.seed = parameters.seed;
    out.seedMode = 'locked';
  }
  return out;
}
