import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { ANNOTATOR_GENERATOR_VERSION, generateAnnotators } from '../../../models/annotators/generate';
import { CONTROLNET_GENERATOR_VERSION, ensureGeneratedControlNet } from '../../../models/controlnet/generateControlNet';
import { ensureGeneratedModel } from '../../../models/ensureGeneratedModel';
import { GENERATOR_VERSION } from '../../../models/generate';
import { ANNOTATOR_TYPES, annotatorFile } from '../control/annotatorSlots';
import { loadModel } from '../graph/ModelIO';
import { PART_NAMES } from './ModelFolder';

/**
 * Where generated models are cached: $PENTIMENTO_CACHE_DIR, else <user cache>/pentimento
 * ($XDG_CACHE_HOME, %LOCALAPPDATA% on Windows, ~/Library/Caches on macOS, else ~/.cache).
 */
export function defaultCacheRoot(): string {
  if (process.env.PENTIMENTO_CACHE_DIR) return path.resolve(process.env.PENTIMENTO_CACHE_DIR);
  const home = os.homedir();
  const userCache =
    process.env.XDG_CACHE_HOME ||
    (process.platform === 'win32'
      ? process.env.LOCALAPPDATA || path.join(home, 'AppData', 'Local')
      : process.platform === 'darwin'
        ? path.join(home, 'Library', 'Caches')
        : path.join(home, '.cache'));
  return path.join(userCache, 'pentimento');
}

/**
 * The embedded random-weight tiny model (seed 0, optimum-style), generated on first use into
 * `<cacheRoot>/models/tiny-v<generatorVersion>` and reused afterwards; used when no real model
 * is installed. Concurrent callers are safe (see ensureGeneratedModel). A packaged app whose
 * bundle moved models/assets/clip-tokenizer passes its new place as `tokenizerAssets`.
 */
export async function ensureDefaultModel(cacheRoot: string = defaultCacheRoot(), opts: { tokenizerAssets?: string } = {}): Promise<string> {
  const dir = path.join(cacheRoot, 'models', `tiny-v${GENERATOR_VERSION}`);
  removeIfBroken(dir);
  const model = await ensureGeneratedModel(dir, { preset: 'tiny', seed: 0, variant: 'optimum', tokenizerAssets: opts.tokenizerAssets });
  // Structure mode works out of the box too: a ControlNet and annotators as random as the model.
  ensureDefaultControlNet(cacheRoot);
  ensureDefaultAnnotators(cacheRoot);
  return model;
}

/**
 * A cached test model whose files are all there but one is cut short (a full disk, a killed
 * copy) would pass the generator's presence check and then fail to load with advice to
 * download it again. Every graph and its external weights' lengths are checked here instead,
 * and a broken folder is moved aside and deleted, so it is regenerated.
 */
function removeIfBroken(dir: string): void {
  if (!fs.existsSync(dir)) return;
  const intact = PART_NAMES.every((part) => {
    const file = path.join(dir, part, 'model.onnx');
    if (!fs.existsSync(file)) return true; // a missing file: the generator's own check regenerates it
    try {
      loadModel(file); // decodes the graph and checks each external weight file's length
      return true;
    } catch {
      return false;
    }
  });
  if (intact) return;
  const aside = `${dir}.broken-${process.pid}-${Date.now()}`;
  try {
    fs.renameSync(dir, aside);
    fs.rmSync(aside, { recursive: true, force: true });
  } catch {
    // Another caller moved or replaced it meanwhile.
  }
}

/** The embedded test model's ControlNet: `<cacheRoot>/controlnets/tiny-v<version>` (model.onnx inside). */
export function defaultControlNetDir(cacheRoot: string = defaultCacheRoot()): string {
  return path.join(cacheRoot, 'controlnets', `tiny-v${CONTROLNET_GENERATOR_VERSION}`);
}

/**
 * A random-weight ControlNet of the embedded model's preset (seed 0), so it fits that UNet;
 * generated on first use, reused afterwards, safe with concurrent callers. Returns its folder.
 */
export function ensureDefaultControlNet(cacheRoot: string = defaultCacheRoot()): string {
  return ensureGeneratedControlNet(defaultControlNetDir(cacheRoot), { preset: 'tiny', seed: 0 });
}

/** The models folder whose `annotators/` holds the embedded test annotators. */
export function defaultAnnotatorsDir(cacheRoot: string = defaultCacheRoot()): string {
  return path.join(cacheRoot, `test-annotators-v${ANNOTATOR_GENERATOR_VERSION}`);
}

/**
 * Random-weight depth, segmentation, lineart and HED annotators (seed 0) in the slots of
 * `defaultAnnotatorsDir`, written when one is missing (each file atomically, with the same
 * bytes for every caller). Returns that models folder.
 */
export function ensureDefaultAnnotators(cacheRoot: string = defaultCacheRoot()): string {
  const dir = defaultAnnotatorsDir(cacheRoot);
  const complete = ANNOTATOR_TYPES.every((type) => fs.existsSync(annotatorFile(dir, type)));
  return complete ? dir : generateAnnotators(dir, { seed: 0 });
}
