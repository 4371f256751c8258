/**
 * Derived models (VJP graphs, split-kv UNets…) built once per source model and reused.
 *
 * A derived model lives in `<root>/<key>/model.onnx`, key = sha256 of (source content hash,
 * toolkit version, derivation name, arguments). It is built in a temporary folder beside its
 * destination and renamed into place, so a crash or a concurrent build never leaves a partial
 * model where a reader looks; a changed source has another content hash and so another key.
 * The derived graph references the source's external weights through links (see saveModel).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PentimentoError } from '../errors';
import { loadModel, saveModel, type LoadedModel } from './ModelIO';
import type { ModelProto } from './onnx';

/** Bump when the graph toolkit (autodiff, surgery passes) changes what a derivation produces. */
export const GRAPH_TOOLKIT_VERSION = 5;

export interface DerivedModelRecipe {
  /** What the derivation is, e.g. `guided-loss-vjp`. */
  name: string;
  /** Everything besides the source that changes the result (JSON-serialisable). */
  args: Record<string, unknown>;
  /** The .onnx file derived from. */
  sourceFile: string;
  /** Identity of the source's contents (a model folder's content hash). */
  sourceHash: string;
  derive(source: LoadedModel): ModelProto;
}

export interface DerivedModelProgress {
  recipe: string;
  stage: 'load' | 'derive' | 'save' | 'done';
  /** True when the model came from the cache (then `done` is the only stage reported). */
  cached: boolean;
}

export interface DerivedModel {
  file: string;
  /** False when it was already in the cache. */
  built: boolean;
  ms: number;
}

const META_FILE = 'derived.json';

export class DerivedModelCache {
  /** Models built by this instance (tests check reuse with it). */
  builds = 0;

  constructor(readonly root: string) {}

  keyOf(recipe: DerivedModelRecipe): string {
    const h = createHash('sha256');
    h.update(JSON.stringify([recipe.sourceHash, GRAPH_TOOLKIT_VERSION, recipe.name, recipe.args]));
    return h.digest('hex').slice(0, 24);
  }

  /** The derived model's file, building it first when it is not cached (or its weights vanished). */
  async ensure(recipe: DerivedModelRecipe, onProgress?: (p: DerivedModelProgress) => void): Promise<DerivedModel> {
    const start = performance.now();
    const key = this.keyOf(recipe);
    const dir = path.join(this.root, key);
    const file = path.join(dir, 'model.onnx');
    if (usable(file)) {
      onProgress?.({ recipe: recipe.name, stage: 'done', cached: true });
      return { file, built: false, ms: performance.now() - start };
    }
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(this.root, { recursive: true });
    const tmp = fs.mkdtempSync(path.join(this.root, `.${key}.tmp-`));
    try {
      onProgress?.({ recipe: recipe.name, stage: 'load', cached: false });
      // Yield between stages so progress reaches the caller: each one blocks for a while on big models.
      await tick();
      const source = loadModel(recipe.sourceFile);
      onProgress?.({ recipe: recipe.name, stage: 'derive', cached: false });
      await tick();
      const derived = recipe.derive(source);
      onProgress?.({ recipe: recipe.name, stage: 'save', cached: false });
      await tick();
      saveModel(derived, path.join(tmp, 'model.onnx'), { sourceDir: source.dir });
      const meta = { name: recipe.name, args: recipe.args, sourceFile: recipe.sourceFile, sourceHash: recipe.sourceHash, toolkit: GRAPH_TOOLKIT_VERSION };
      fs.writeFileSync(path.join(tmp, META_FILE), `${JSON.stringify(meta, null, 2)}\n`);
      try {
        fs.renameSync(tmp, dir);
      } catch (e) {
        // Another process finished the same build first: use theirs.
        if (!usable(file)) throw e;
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      if (e instanceof PentimentoError) throw e;
      if (typeof (e as NodeJS.ErrnoException).code === 'string') {
        throw new PentimentoError('IO_ERROR', `Cannot build the derived model ${recipe.name} in ${this.root} (${(e as Error).message}). Check that the folder is writable and has free space.`);
      }
      throw new PentimentoError('INTERNAL', `Deriving ${recipe.name} from ${recipe.sourceFile} failed: ${(e as Error).message}`);
    }
    this.builds++;
    onProgress?.({ recipe: recipe.name, stage: 'done', cached: false });
    return { file, built: true, ms: performance.now() - start };
  }
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The model is there and none of the weight links beside it dangles (a symlink to a deleted source). */
function usable(file: string): boolean {
  if (!fs.existsSync(file)) return false;
  const dir = path.dirname(file);
  return fs.readdirSync(dir).every((name) => fs.existsSync(path.join(dir, name)));
}
