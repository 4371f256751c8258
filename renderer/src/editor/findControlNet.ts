import type { ControlNetInfo } from '../../../main/contract/contract';

/** The id of the engine's embedded test ControlNet, and the name results record for it (as `--control test`). */
const EMBEDDED_ID = 'builtin:test-controlnet';
const EMBEDDED_NAME = 'test';

/**
 * The name of the ControlNet a result's parameters record (`extra.control[].controlnet`): a
 * name already (its folder's, or `test`), or — in older PNGs — the model file's path,
 * `…/<name>/model.onnx` or `…/<name>/controlnet/model.onnx` (another file is named by its stem).
 */
export function recordedControlNetName(recorded: string): string {
  const parts = recorded.split(/[\\/]/).filter((p) => p !== '');
  if (parts.length <= 1 && !/\.onnx$/i.test(recorded)) return recorded;
  const file = parts.at(-1) ?? recorded;
  if (file !== 'model.onnx') return file.replace(/\.onnx$/i, '');
  const dir = parts.at(-2) ?? file;
  return dir === 'controlnet' ? (parts.at(-3) ?? dir) : dir;
}

/** The installed ControlNet a result recorded, matched by name (or by its file, on the machine that made it). */
export function findControlNet(recorded: unknown, installed: readonly ControlNetInfo[]): ControlNetInfo | undefined {
  if (typeof recorded !== 'string' || recorded === '') return undefined;
  const same = installed.find((c) => c.id === recorded || c.file === recorded);
  if (same) return same;
  const name = recordedControlNetName(recorded);
  if (name === EMBEDDED_NAME) return installed.find((c) => c.id === EMBEDDED_ID);
  return installed.find((c) => c.id === name || c.name === name);
}

/** The ControlNet a photo's parameters name (the first unit's), if any. */
export function recordedControlNet(parameters: Record<string, unknown>): string | undefined {
  const extra = parameters.extra;
  const control = extra && typeof extra === 'object' ? (extra as Record<string, unknown>).control : undefined;
  const first: unknown = Array.isArray(control) ? control[0] : undefined;
  const name = first && typeof first === 'object' ? (first as Record<string, unknown>).controlnet : undefined;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/**
 * Said when a photo that ControlNets made is opened: Structure now takes its condition from this
 * image, not from the photo the result was made from (named when the parameters record it, and
 * unless it is this very file), so its score and a new result may differ from the recorded ones.
 */
export function conditionSourceNote(parameters: Record<string, unknown>, openedName: string): string | undefined {
  const extra = parameters.extra;
  const control = extra && typeof extra === 'object' ? (extra as Record<string, unknown>).control : undefined;
  const first: unknown = Array.isArray(control) ? control[0] : undefined;
  if (!first || typeof first !== 'object') return undefined;
  const unit = first as Record<string, unknown>;
  const source = typeof unit.image === 'string' && unit.image !== '' ? unit.image : undefined;
  if (source !== undefined && source === openedName) return undefined;
  const from = source !== undefined ? `${source}, the image it was made from` : 'the image it was made from';
  return `Structure now takes its condition from this image, not from ${from}.`;
}
