import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { EncodedImage, ProjectHistory, ProjectResult, ProjectSettings, ProjectState, ProjectSummary } from '../../contract/contract';
import { badArgument, PentimentoError } from '../errors';
import { encodePng } from '../image/encodePng';
import { loadImage } from '../image/loadImage';
import { recordedParametersFromPng } from '../image/readParameters';
import { loadMask } from '../image/loadMask';
import { writeFileAtomic } from '../image/writeFileAtomic';

/** project.json: the project's identity; everything else lives in files beside it. */
interface ProjectFile {
  version: 1;
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
  width: number;
  height: number;
  /** The opened file as it came, e.g. "original.jpg". */
  original: string;
  /** The generation parameters that file carried (a PNG Pentimento wrote). */
  parameters?: Record<string, unknown>;
}

/** results/<id>.json; its presence is what commits a result (the PNG is written first). */
interface ResultFile {
  id: string;
  jobId?: string;
  createdAt: string;
  width: number;
  height: number;
  parameters: Record<string, unknown>;
}

export interface NewResult {
  jobId?: string;
  image: EncodedImage;
  parameters: Record<string, unknown>;
}

const ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;
const THUMBNAIL_SIDE = 96;
const MAX_HISTORY_BYTES = 1024 * 1024;
const MAX_SETTINGS_BYTES = 64 * 1024;
const ORIGINAL_EXTENSIONS: Record<string, string> = {
  png: 'png',
  jpeg: 'jpg',
  webp: 'webp',
  tiff: 'tif',
  avif: 'avif',
  gif: 'gif',
};

const notFound = (id: string) =>
  new PentimentoError('BAD_ARGUMENT', `There is no project "${id}"; pick one from the project list.`, { projectId: id });

/**
 * Projects on disk, one folder each under `root` (normally `<userDataDir>/projects`):
 *
 *   project.json      identity, photo size, times, the opened file's generation parameters
 *   original.<ext>    the opened file, byte for byte
 *   photo.png         the working photo: upright per EXIF, flattened onto white (the mask's grid)
 *   thumbnail.png     for the project list
 *   mask.png          the current mask, white = regenerate
 *   history.json      the editor's history document
 *   settings.json     the editor's controls as last used in this project
 *   results/<id>.png  each result, parameters in its text chunks; results/<id>.json commits it
 *
 * Every file is written atomically (temporary file, fsync, rename), and a new project's folder
 * is assembled under a temporary name and renamed into place, so a crash at any moment leaves
 * each file either as it was or as it was meant to be. Writes to one project are serialised.
 */
export class ProjectStore {
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(readonly root: string) {}

  async create(image: { base64: string; name?: string }): Promise<ProjectState> {
    if (!image || typeof image.base64 !== 'string') throw badArgument('createProject needs { image: { base64, name? } }.');
    const name = typeof image.name === 'string' && image.name.trim() ? path.basename(image.name.trim()) : 'Untitled';
    const bytes = Buffer.from(image.base64, 'base64');
    const loaded = await loadImage(bytes, { name });
    // A hand-edited chunk is kept as written: the editor restores what it can and names the rest.
    const recorded = loaded.sourceFormat === 'png' ? recordedParametersFromPng(bytes) : undefined;
    const photo = await encodePng(loaded.rgb, loaded.width, loaded.height);
    const thumbnail = await sharp(photo)
      .resize(THUMBNAIL_SIDE, THUMBNAIL_SIDE, { fit: 'inside', withoutEnlargement: true })
      .png()
      .toBuffer();

    const now = new Date();
    const id = newProjectId(now);
    const original = `original.${ORIGINAL_EXTENSIONS[loaded.sourceFormat] ?? 'bin'}`;
    const file: ProjectFile = {
      version: 1,
      id,
      name,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      width: loaded.width,
      height: loaded.height,
      original,
      ...(recorded ? { parameters: recorded } : {}),
    };

    await this.ensureRoot();
    const staging = path.join(this.root, `.new-${id}`);
    try {
      await mkdir(path.join(staging, 'results'), { recursive: true });
      await writeFileAtomic(path.join(staging, original), bytes);
      await writeFileAtomic(path.join(staging, 'photo.png'), photo);
      await writeFileAtomic(path.join(staging, 'thumbnail.png'), thumbnail);
      await writeJson(path.join(staging, 'project.json'), file);
      await rename(staging, this.dir(id));
    } catch (e) {
      await rm(staging, { recursive: true, force: true }).catch(() => {});
      throw e instanceof PentimentoError ? e : ioError(`Could not create the project in ${this.root}`, e);
    }
    return this.open(id);
  }

  async list(): Promise<ProjectSummary[]> {
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw ioError(`Could not list projects in ${this.root}`, e);
    }
    const summaries: ProjectSummary[] = [];
    for (const name of names) {
      if (!ID_PATTERN.test(name)) continue; // staging folders, stray files
      try {
        summaries.push(await this.summary(name));
      } catch {
        // An unreadable folder is skipped, so one damaged project cannot hide the others.
      }
    }
    return summaries.sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0));
  }

  async open(id: string): Promise<ProjectState> {
    const project = await this.summary(id);
    const dir = this.dir(id);
    const photoPng = await readFile(path.join(dir, 'photo.png')).catch((e) => {
      throw ioError(`The photo of project "${id}" could not be read`, e);
    });
    const maskPng = await readOptional(path.join(dir, 'mask.png'));
    // Written atomically, so only a hand edit makes either unreadable: then it starts afresh.
    const history = parseObject(await readOptional(path.join(dir, 'history.json'))) as ProjectHistory | null;
    const settings = parseObject(await readOptional(path.join(dir, 'settings.json'))) as ProjectSettings | null;
    const file = await this.readProjectFile(id);
    return {
      project,
      photo: encoded(photoPng, project.width, project.height),
      ...(maskPng ? { mask: encoded(maskPng, project.width, project.height) } : {}),
      results: await this.results(id),
      history,
      settings,
      ...(isPlainObject(file.parameters) ? { parameters: file.parameters } : {}),
    };
  }

  /** Stores the mask resized to the photo, as a grey PNG (white = regenerate). */
  async saveMask(id: string, mask: { base64: string }): Promise<void> {
    if (!mask || typeof mask.base64 !== 'string') throw badArgument('saveMask needs { projectId, mask: { base64 } }.');
    await this.locked(id, async () => {
      const file = await this.readProjectFile(id);
      const values = await loadMask(Buffer.from(mask.base64, 'base64'), file.width, file.height, { name: 'the mask' });
      const grey = Buffer.alloc(values.length);
      for (let i = 0; i < values.length; i++) grey[i] = Math.round(values[i] * 255);
      const png = await sharp(grey, {
        raw: { width: file.width, height: file.height, channels: 1 },
      })
        .png()
        .toBuffer();
      await writeFileAtomic(path.join(this.dir(id), 'mask.png'), png);
      await this.touch(file);
    });
  }

  async saveHistory(id: string, history: ProjectHistory): Promise<void> {
    if (!history || typeof history !== 'object' || Array.isArray(history)) {
      throw badArgument('saveHistory needs { projectId, history: {…} } with history a JSON object.');
    }
    const text = JSON.stringify(history);
    if (Buffer.byteLength(text) > MAX_HISTORY_BYTES) {
      throw badArgument(`The history document is ${Buffer.byteLength(text)} bytes; at most ${MAX_HISTORY_BYTES} are stored.`);
    }
    await this.locked(id, async () => {
      const file = await this.readProjectFile(id);
      await writeFileAtomic(path.join(this.dir(id), 'history.json'), Buffer.from(text));
      await this.touch(file);
    });
  }

  async saveSettings(id: string, settings: ProjectSettings): Promise<void> {
    if (!isPlainObject(settings)) throw badArgument('saveSettings needs { projectId, settings: {…} } with settings a JSON object.');
    const text = JSON.stringify(settings);
    if (Buffer.byteLength(text) > MAX_SETTINGS_BYTES) {
      throw badArgument(`The settings are ${Buffer.byteLength(text)} bytes; at most ${MAX_SETTINGS_BYTES} are stored.`);
    }
    await this.locked(id, async () => {
      const file = await this.readProjectFile(id);
      await writeFileAtomic(path.join(this.dir(id), 'settings.json'), Buffer.from(text));
      await this.touch(file);
    });
  }

  /** Saves a generated image (PNG bytes as the engine encoded them, parameters included). */
  async addResult(id: string, result: NewResult): Promise<ProjectResult> {
    if (!result?.image || typeof result.image.pngBase64 !== 'string') throw badArgument('A result needs its PNG image.');
    return this.locked(id, async () => {
      const file = await this.readProjectFile(id);
      const createdAt = new Date();
      const resultId = `r-${stamp(createdAt)}-${randomBytes(3).toString('hex')}`;
      const record: ResultFile = {
        id: resultId,
        ...(result.jobId ? { jobId: result.jobId } : {}),
        createdAt: createdAt.toISOString(),
        width: result.image.width,
        height: result.image.height,
        parameters: result.parameters ?? {},
      };
      const resultsDir = path.join(this.dir(id), 'results');
      await mkdir(resultsDir, { recursive: true });
      await writeFileAtomic(path.join(resultsDir, `${resultId}.png`), Buffer.from(result.image.pngBase64, 'base64'));
      await writeJson(path.join(resultsDir, `${resultId}.json`), record);
      await this.touch(file);
      return { id: resultId, ...(record.jobId ? { jobId: record.jobId } : {}), createdAt: record.createdAt, image: result.image, parameters: record.parameters };
    });
  }

  /** Rejects with BAD_ARGUMENT when there is no such project. */
  async check(id: string): Promise<void> {
    await this.readProjectFile(id);
  }

  dir(id: string): string {
    if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
      throw badArgument(`"${String(id)}" is not a project id; ids are lower-case letters, digits and dashes.`);
    }
    return path.join(this.root, id);
  }

  private async summary(id: string): Promise<ProjectSummary> {
    const file = await this.readProjectFile(id);
    const thumb = await readOptional(path.join(this.dir(id), 'thumbnail.png'));
    const resultCount = (await this.resultFiles(id)).length;
    let thumbnail: EncodedImage | undefined;
    if (thumb) {
      const meta = await sharp(thumb).metadata();
      thumbnail = encoded(thumb, meta.width ?? 0, meta.height ?? 0);
    }
    return {
      id: file.id,
      name: file.name,
      createdAt: file.createdAt,
      updatedAt: file.updatedAt,
      width: file.width,
      height: file.height,
      resultCount,
      ...(thumbnail ? { thumbnail } : {}),
    };
  }

  private async results(id: string): Promise<ProjectResult[]> {
    const resultsDir = path.join(this.dir(id), 'results');
    const out: ProjectResult[] = [];
    for (const name of await this.resultFiles(id)) {
      try {
        const record = JSON.parse(await readFile(path.join(resultsDir, name), 'utf8')) as ResultFile;
        const png = await readFile(path.join(resultsDir, `${record.id}.png`));
        out.push({
          id: record.id,
          ...(record.jobId ? { jobId: record.jobId } : {}),
          createdAt: record.createdAt,
          image: encoded(png, record.width, record.height),
          parameters: record.parameters,
        });
      } catch {
        // A result whose files cannot be read is left out rather than failing the project.
      }
    }
    return out.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1));
  }

  private async resultFiles(id: string): Promise<string[]> {
    const names = await readdir(path.join(this.dir(id), 'results')).catch(() => [] as string[]);
    return names.filter((n) => /^r-[a-z0-9-]+\.json$/.test(n));
  }

  private async readProjectFile(id: string): Promise<ProjectFile> {
    const dir = this.dir(id);
    let text: string;
    try {
      text = await readFile(path.join(dir, 'project.json'), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(id);
      throw ioError(`Could not read project "${id}"`, e);
    }
    try {
      const file = JSON.parse(text) as ProjectFile;
      if (file.id !== id || !(file.width > 0) || !(file.height > 0)) throw new Error('fields missing');
      return file;
    } catch {
      throw new PentimentoError('IO_ERROR', `${path.join(dir, 'project.json')} is damaged; the project cannot be opened.`, { projectId: id });
    }
  }

  private async touch(file: ProjectFile): Promise<void> {
    // Never move backwards: results saved within one millisecond keep their order.
    const now = new Date().toISOString();
    file.updatedAt = now > file.updatedAt ? now : file.updatedAt;
    await writeJson(path.join(this.dir(file.id), 'project.json'), file);
  }

  private async ensureRoot(): Promise<void> {
    try {
      await mkdir(this.root, { recursive: true });
    } catch (e) {
      throw ioError(`Could not create the projects folder ${this.root}`, e);
    }
  }

  /** Runs `work` after every earlier write to the same project has settled. */
  private locked<T>(id: string, work: () => Promise<T>): Promise<T> {
    this.dir(id); // validates the id before anything waits on it
    const previous = this.locks.get(id) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(work);
    this.locks.set(id, next);
    void next.finally(() => {
      if (this.locks.get(id) === next) this.locks.delete(id);
    }).catch(() => {});
    return next;
  }
}

function encoded(png: Buffer, width: number, height: number): EncodedImage {
  return { pngBase64: png.toString('base64'), width, height };
}

async function readOptional(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError(`Could not read ${file}`, e);
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The JSON object in `bytes`, or null when absent, unreadable or not an object. */
function parseObject(bytes: Buffer | undefined): Record<string, unknown> | null {
  if (!bytes) return null;
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return isPlainObject(value) ? value : null;
  } catch {
    return null;
  }
}

function writeJson(file: string, value: unknown): Promise<void> {
  return writeFileAtomic(file, Buffer.from(JSON.stringify(value, null, 2) + '\n'));
}

function ioError(what: string, e: unknown): PentimentoError {
  return new PentimentoError('IO_ERROR', `${what}: ${e instanceof Error ? e.message : String(e)}. Check the disk and its permissions.`);
}

/** yyyymmdd-hhmmss-mmm in UTC: ids sort by creation time. */
function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').replace('.', '-').replace('Z', '').toLowerCase();
}

function newProjectId(now: Date): string {
  return `p-${stamp(now)}-${randomBytes(3).toString('hex')}`;
}
