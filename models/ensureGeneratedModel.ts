import fs from 'node:fs';
import path from 'node:path';
import { generateModelFolder, isGeneratedModelComplete, type GenerateOptions } from './generate';

/**
 * Returns `dir` holding a complete generated model for `options`, generating it if needed.
 * Safe with concurrent callers (test workers, two app windows): every caller generates into its
 * own staging folder without overwriting, the first rename wins and the others reuse its folder.
 */
export async function ensureGeneratedModel(dir: string, options: Omit<GenerateOptions, 'outDir' | 'overwrite'>): Promise<string> {
  if (isGeneratedModelComplete(dir, options)) return dir;
  // A stale or broken folder (older generator, interrupted copy): move it aside, then delete it.
  if (fs.existsSync(dir)) {
    const aside = `${dir}.stale-${process.pid}-${Date.now()}`;
    try {
      fs.renameSync(dir, aside);
      fs.rmSync(aside, { recursive: true, force: true });
    } catch {
      // Another caller moved or replaced it meanwhile.
    }
  }
  removeAbandonedStaging(dir);
  try {
    await generateModelFolder({ ...options, outDir: dir, overwrite: false });
  } catch (e) {
    if (isGeneratedModelComplete(dir, options)) return dir;
    throw e;
  }
  return dir;
}

const ABANDONED_AFTER_MS = 60 * 60 * 1000;

/** Staging folders of generators that were killed (an hour old: no live generator takes that long). */
function removeAbandonedStaging(dir: string): void {
  const parent = path.dirname(dir);
  const prefix = `${path.basename(dir)}.partial-`;
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const full = path.join(parent, name);
    try {
      if (Date.now() - fs.statSync(full).mtimeMs > ABANDONED_AFTER_MS) fs.rmSync(full, { recursive: true, force: true });
    } catch {
      // Gone already.
    }
  }
}
