import os from 'node:os';
import path from 'node:path';
import { ensureGeneratedModel } from '../../../models/ensureGeneratedModel';
import { GENERATOR_VERSION } from '../../../models/generate';

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
  return ensureGeneratedModel(dir, { preset: 'tiny', seed: 0, variant: 'optimum', tokenizerAssets: opts.tokenizerAssets });
}
