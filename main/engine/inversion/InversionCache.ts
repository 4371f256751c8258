import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PentimentoError } from '../errors';
import { encodePng } from '../image/encodePng';
import { loadImage } from '../image/loadImage';
import type { RgbImage } from '../image/RgbImage';
import { writeFileAtomic } from '../image/writeFileAtomic';
import { encodeNpy, parseNpy } from '../util/npy';
import type { Inversion } from './Inversion';
import type { InversionSettings } from './InversionSettings';

/** Bump when the inversion's algorithm or stored layout changes, so old entries are not reused. */
export const INVERSION_CACHE_VERSION = 1;

const META = 'inversion.json';
const PHOTO = 'photo.png';

/**
 * Inversions on disk, one folder per (photo, model, settings):
 *
 *   <dir>/<key>/inversion.json     settings, sizes, timesteps, stats
 *              trajectory.npy      [S+1, 4, h, w]  z*_0 … z*_S
 *              reconstruction.npy  [S+1, 4, h, w]  z̄ as the edit walks it
 *              embeddings.npy      [S, tokens, width]  (PTI, null-text)
 *              photo.png           the photo at its own size (re-edits paste its unmasked pixels back)
 *
 * A folder is written beside its destination and renamed into place, so a reader sees a whole
 * entry or none. η and the mask are not part of the key: changing them re-runs only the edit.
 * Nor is the target prompt, except where PTI's tuning starts from it (init 'target', the
 * default): there another target prompt is another inversion. Re-editing a cached inversion by
 * its id (reeditInversion) takes any target prompt and re-runs only the edit.
 */
export class InversionCache {
  constructor(readonly dir: string) {}

  has(key: string): boolean {
    return fs.existsSync(path.join(this.dir, checkKey(key), META));
  }

  /**
   * The stored inversion for a re-edit by id: BAD_ARGUMENT naming what is wrong when there is none
   * under this id, or its files are damaged (then it says to invert again, which replaces them).
   */
  require(key: string): Inversion {
    const found = this.load(key);
    if (found) return found;
    if (this.has(key)) {
      throw new PentimentoError(
        'BAD_ARGUMENT',
        `Inversion ${key} in ${this.dir} is damaged (its files cannot be read); make it again by inverting the photo with the same settings, which replaces it.`,
      );
    }
    throw new PentimentoError('BAD_ARGUMENT', `No inversion ${key} in ${this.dir}: it was never made here or has been removed; invert the photo again.`);
  }

  /** The stored inversion, or undefined when there is none (or it is unreadable). */
  load(key: string): Inversion | undefined {
    const folder = path.join(this.dir, checkKey(key));
    if (!fs.existsSync(path.join(folder, META))) return undefined;
    try {
      const meta = JSON.parse(fs.readFileSync(path.join(folder, META), 'utf8')) as Omit<Inversion, 'trajectory' | 'reconstruction' | 'embeddings'>;
      const rows = (name: string, count: number): Float32Array[] => {
        if (count === 0) return [];
        const npy = parseNpy(fs.readFileSync(path.join(folder, name)), name);
        const data = npy.data as Float32Array;
        const size = data.length / count;
        return Array.from({ length: count }, (_, i) => data.slice(i * size, (i + 1) * size));
      };
      const S = meta.settings.steps;
      return {
        ...meta,
        trajectory: rows('trajectory.npy', S + 1),
        reconstruction: rows('reconstruction.npy', S + 1),
        embeddings: rows('embeddings.npy', meta.settings.method === 'ddim' ? 0 : S),
      };
    } catch {
      return undefined;
    }
  }

  /** Keeps the photo an entry was made from, beside it: a masked re-edit keeps its pixels outside the mask. */
  async savePhoto(key: string, photo: RgbImage): Promise<void> {
    const folder = path.join(this.dir, checkKey(key));
    try {
      await writeFileAtomic(path.join(folder, PHOTO), await encodePng(photo.rgb, photo.width, photo.height));
    } catch (e) {
      throw new PentimentoError('IO_ERROR', `Cannot save the inversion's photo in ${folder} (${(e as Error).message}). Check that the folder is writable and has free space.`);
    }
  }

  /** The photo savePhoto kept for an entry, or undefined when there is none (an older entry) or it is unreadable. */
  async loadPhoto(key: string): Promise<RgbImage | undefined> {
    const file = path.join(this.dir, checkKey(key), PHOTO);
    if (!fs.existsSync(file)) return undefined;
    try {
      const { rgb, width, height } = await loadImage(file, { name: file });
      return { rgb, width, height };
    } catch {
      return undefined;
    }
  }

  save(inv: Inversion): void {
    const final = path.join(this.dir, checkKey(inv.key));
    let tmp: string | undefined;
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      tmp = fs.mkdtempSync(path.join(this.dir, `.${inv.key}.tmp-`));
      const latent = [4, inv.latentHeight, inv.latentWidth];
      const stack = (rows: Float32Array[]) => {
        const out = new Float32Array(rows.reduce((n, r) => n + r.length, 0));
        rows.forEach((r, i) => out.set(r, i * r.length));
        return out;
      };
      fs.writeFileSync(path.join(tmp, 'trajectory.npy'), encodeNpy({ data: stack(inv.trajectory), shape: [inv.trajectory.length, ...latent] }));
      fs.writeFileSync(path.join(tmp, 'reconstruction.npy'), encodeNpy({ data: stack(inv.reconstruction), shape: [inv.reconstruction.length, ...latent] }));
      if (inv.embeddings.length) {
        fs.writeFileSync(path.join(tmp, 'embeddings.npy'), encodeNpy({ data: stack(inv.embeddings), shape: [inv.embeddings.length, ...inv.contextDims.slice(1)] }));
      }
      const { trajectory: _t, reconstruction: _r, embeddings: _e, ...meta } = inv;
      fs.writeFileSync(path.join(tmp, META), `${JSON.stringify(meta)}\n`);
      fs.rmSync(final, { recursive: true, force: true });
      fs.renameSync(tmp, final);
    } catch (e) {
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
      throw new PentimentoError('IO_ERROR', `Cannot save the inversion in ${this.dir} (${(e as Error).message}). Check that the folder is writable and has free space.`);
    }
  }
}

/**
 * The cache key. photo: see photoHash(); modelHash: the model folder's content hash; initPrompt:
 * the prompt PTI's tuning starts from when it is the target prompt (init 'target'), since the
 * tuned embeddings then depend on it — one id is one inversion, whatever ran before.
 */
export function inversionKey(photo: string, modelHash: string, settings: InversionSettings, targetPrompt?: string): string {
  const h = createHash('sha256');
  const parts: unknown[] = [INVERSION_CACHE_VERSION, photo, modelHash, settings];
  const init = tuningInitPrompt(settings, targetPrompt);
  if (init !== undefined && settings.init === 'target') parts.push({ initPrompt: init });
  h.update(JSON.stringify(parts));
  return h.digest('hex').slice(0, 24);
}

/** The prompt PTI's first tuned embedding starts from (undefined for null-text and DDIM inversion). */
export function tuningInitPrompt(settings: InversionSettings, targetPrompt: string | undefined): string | undefined {
  if (settings.method !== 'pti') return undefined;
  return settings.init === 'target' ? (targetPrompt ?? '') : settings.sourcePrompt;
}

/** Identity of a photo as fitted to the model: its pixels and size. */
export function photoHash(rgb: Uint8Array, width: number, height: number): string {
  return createHash('sha256').update(`${width}x${height}\0`).update(rgb).digest('hex').slice(0, 24);
}

function checkKey(key: string): string {
  if (typeof key !== 'string' || !/^[0-9a-f]{24}$/.test(key)) {
    throw new PentimentoError('BAD_ARGUMENT', `"${String(key)}" is not an inversion id (24 hex digits, as returned with an inversion's result).`);
  }
  return key;
}
