import fs from 'node:fs';
import path from 'node:path';
import { ensureDefaultModel } from './defaultModel';

/**
 * Which model folder to open: the one asked for; else the first folder (by name) under
 * `<userDataDir>/models` holding a model_index.json (where downloaded models go); else the
 * embedded random-weight test model, generated on first use.
 */
export async function resolveModelDir(modelDir?: string, userDataDir?: string): Promise<{ dir: string; embedded: boolean }> {
  if (modelDir) return { dir: path.resolve(modelDir), embedded: false };
  if (userDataDir) {
    const root = path.join(userDataDir, 'models');
    const entries = fs.existsSync(root) ? fs.readdirSync(root, { withFileTypes: true }) : [];
    const installed = entries
      .filter((e) => e.isDirectory() && fs.existsSync(path.join(root, e.name, 'model_index.json')))
      .map((e) => e.name)
      .sort();
    if (installed.length > 0) return { dir: path.join(root, installed[0]), embedded: false };
  }
  return { dir: await ensureDefaultModel(), embedded: true };
}
