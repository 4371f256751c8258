import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProjectStore } from '../../../main/engine/projects/ProjectStore';
import { ProjectRequests } from '../../../main/engine/projects/ProjectRequests';
import { encodePng } from '../../../main/engine/image/encodePng';
import type { GenerationParameters } from '../../../main/engine/image/GenerationParameters';
import { insertPngTextChunks } from '../../../main/engine/image/pngTextChunks';
import { PENTIMENTO_TEXT_KEYWORD } from '../../../main/engine/image/readParameters';
import { restoreFromPhotoParameters, restoreNotice } from '../../../renderer/src/editor/settings';

let root: string;
let store: ProjectStore;

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'pentimento-projects-'));
  store = new ProjectStore(path.join(root, 'projects'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A w×h RGB PNG whose pixel (x, y) is (x mod 256, y mod 256, 7). */
async function gradientPng(w: number, h: number): Promise<string> {
  const rgb = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgb.set([x % 256, y % 256, 7], (y * w + x) * 3);
  return (await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer()).toString('base64');
}

/** A w×h grey mask: white inside the rectangle [x0, x1) × [y0, y1), black elsewhere. */
async function rectMask(w: number, h: number, x0: number, y0: number, x1: number, y1: number): Promise<string> {
  const grey = Buffer.alloc(w * h);
  for (let y = y0; y < y1; y++) grey.fill(255, y * w + x0, y * w + x1);
  return (await sharp(grey, { raw: { width: w, height: h, channels: 1 } }).png().toBuffer()).toString('base64');
}

async function greyPixels(pngBase64: string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(Buffer.from(pngBase64, 'base64')).greyscale().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

describe('ProjectStore', () => {
  it('creates a project folder with the original bytes, an upright working photo and a thumbnail', async () => {
    const base64 = await gradientPng(384, 216);
    const state = await store.create({ base64, name: '/some/where/odd.png' });
    expect(state.project).toMatchObject({ name: 'odd.png', width: 384, height: 216, resultCount: 0 });
    expect(state.project.id).toMatch(/^p-\d{8}-\d{6}-\d{3}-[0-9a-f]{6}$/);
    expect(state.results).toEqual([]);
    expect(state.mask).toBeUndefined();
    expect(state.history).toBeNull();
    expect(state.settings).toBeNull();
    expect(state.parameters).toBeUndefined();

    const dir = path.join(root, 'projects', state.project.id);
    expect(readdirSync(dir).sort()).toEqual(['original.png', 'photo.png', 'project.json', 'results', 'thumbnail.png']);
    expect(readFileSync(path.join(dir, 'original.png')).toString('base64')).toBe(base64);
    const { data, info } = await sharp(Buffer.from(state.photo.pngBase64, 'base64')).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([384, 216, 3]);
    expect([...data.subarray((5 * 384 + 300) * 3, (5 * 384 + 300) * 3 + 3)]).toEqual([300 % 256, 5, 7]);
    expect(state.project.thumbnail).toMatchObject({ width: 96, height: 54 }); // 16:9, longer side 96 px
    // No staging folder is left behind.
    expect(readdirSync(path.join(root, 'projects'))).toEqual([state.project.id]);
  });

  it('applies EXIF orientation to the working photo, so the mask grid is the upright image', async () => {
    // Stored 40×20 landscape with orientation 6 (rotate 90° clockwise to display): upright it is 20×40.
    const jpeg = await sharp(Buffer.from(await gradientPng(40, 20), 'base64')).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const state = await store.create({ base64: jpeg.toString('base64'), name: 'phone.jpg' });
    expect([state.project.width, state.project.height]).toEqual([20, 40]);
    expect([state.photo.width, state.photo.height]).toEqual([20, 40]);
    expect(existsSync(path.join(store.dir(state.project.id), 'original.jpg'))).toBe(true);
  });

  it('refuses a file that is not an image with BAD_IMAGE and leaves no folder', async () => {
    await expect(store.create({ base64: Buffer.from('not an image').toString('base64'), name: 'notes.txt' })).rejects.toMatchObject({
      code: 'BAD_IMAGE',
    });
    expect(await store.list()).toEqual([]);
    expect(existsSync(path.join(root, 'projects')) ? readdirSync(path.join(root, 'projects')) : []).toEqual([]);
  });

  it('saves the mask resized to the photo and reopens it', async () => {
    const { project } = await store.create({ base64: await gradientPng(30, 20), name: 'a.png' });
    // A half-resolution mask: white on the right half. Stored at the photo's 30×20.
    await store.saveMask(project.id, { base64: await rectMask(15, 10, 8, 0, 15, 10) });
    const state = await store.open(project.id);
    const mask = await greyPixels(state.mask!.pngBase64);
    expect([mask.width, mask.height]).toEqual([30, 20]);
    expect([mask.data[10 * 30 + 2], mask.data[10 * 30 + 27]]).toEqual([0, 255]);

    // An exact-size mask keeps every pixel value.
    await store.saveMask(project.id, { base64: await rectMask(30, 20, 3, 4, 9, 11) });
    const exact = await greyPixels((await store.open(project.id)).mask!.pngBase64);
    let white = 0;
    for (const v of exact.data) white += v === 255 ? 1 : 0;
    expect(white).toBe(6 * 7);
    expect(exact.data[4 * 30 + 3]).toBe(255);
    expect(exact.data[11 * 30 + 3]).toBe(0);
  });

  it('adds results in order, with their parameters, and counts them in the list', async () => {
    const { project } = await store.create({ base64: await gradientPng(16, 16), name: 'a.png' });
    const image = { pngBase64: await gradientPng(16, 16), width: 16, height: 16 };
    const first = await store.addResult(project.id, { jobId: 'job-1', image, parameters: { seed: 1, steps: 2 } });
    const second = await store.addResult(project.id, { jobId: 'job-2', image, parameters: { seed: 2, steps: 2 } });
    expect(first.id).not.toBe(second.id);
    const state = await store.open(project.id);
    expect(state.results.map((r) => [r.jobId, r.parameters.seed])).toEqual([
      ['job-1', 1],
      ['job-2', 2],
    ]);
    expect(state.results[0].image.pngBase64).toBe(image.pngBase64);
    expect(state.project.resultCount).toBe(2);
    expect((await store.list())[0].resultCount).toBe(2);
  });

  it('stores the history document as given and refuses one that is not an object', async () => {
    const { project } = await store.create({ base64: await gradientPng(8, 8), name: 'a.png' });
    const history = { version: 1, hiddenResultIds: ['r-x'], entries: [{ kind: 'stroke', label: 'Brush stroke' }] };
    await store.saveHistory(project.id, history);
    expect((await store.open(project.id)).history).toEqual(history);
    await expect(store.saveHistory(project.id, [] as never)).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(store.saveHistory(project.id, { big: 'x'.repeat(1024 * 1024) })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    expect((await store.open(project.id)).history).toEqual(history);
  });

  it('keeps the generation parameters of a PNG Pentimento wrote in project.json and returns them on every open', async () => {
    const parameters: GenerationParameters = {
      prompt: 'a red barn at dusk',
      negativePrompt: 'blurry',
      seed: 4242,
      steps: 9,
      guidance: 6,
      scheduler: 'euler-a',
      strength: 0.55,
      width: 16,
      height: 8,
      model: { name: 'sd15', hash: 'abcd' },
      method: 'img2img',
    };
    const png = await encodePng(new Uint8Array(16 * 8 * 3).fill(90), 16, 8, parameters);
    const created = await store.create({ base64: png.toString('base64'), name: 'result.png' });
    expect(created.parameters).toEqual(parameters);
    const file = JSON.parse(readFileSync(path.join(store.dir(created.project.id), 'project.json'), 'utf8'));
    expect(file.parameters).toEqual(parameters);
    expect((await store.open(created.project.id)).parameters).toEqual(parameters);
    // A plain image has none.
    const plain = await store.create({ base64: await gradientPng(8, 8), name: 'plain.png' });
    expect(plain.parameters).toBeUndefined();
    expect('parameters' in JSON.parse(readFileSync(path.join(store.dir(plain.project.id), 'project.json'), 'utf8'))).toBe(false);
  });

  it('keeps a hand-edited parameters chunk as written (the editor restores what it can), and an unreadable one as {}', async () => {
    const plain = await encodePng(new Uint8Array(8 * 8 * 3).fill(40), 8, 8);
    const withChunk = (text: string) => insertPngTextChunks(plain, [{ keyword: PENTIMENTO_TEXT_KEYWORD, text }]).toString('base64');
    // steps as a string: not GenerationParameters, but the prompt and seed are still worth restoring.
    const edited = { prompt: 'a lighthouse', negativePrompt: '', seed: 12, steps: 'nine', guidance: 7, scheduler: 'ddim', width: 8, height: 8 };
    const state = await store.create({ base64: withChunk(JSON.stringify(edited)), name: 'edited.png' });
    expect(state.parameters).toEqual(edited);
    const back = restoreFromPhotoParameters(state.parameters!);
    expect(back.settings).toMatchObject({ prompt: 'a lighthouse', seed: 12, guidance: 7, scheduler: 'ddim' });
    expect(back.settings.steps).toBeUndefined();
    expect(back.skipped.map((s) => s.name)).toEqual(['steps']);
    expect(restoreNotice(back)).toMatch(/^Settings restored from the image's parameters, except steps \(/);
    // Not JSON, an array, or far too large: there were parameters, and they could not be read.
    for (const text of ['{"prompt": "cut off', '[1, 2]', JSON.stringify({ prompt: 'x'.repeat(300 * 1024) })]) {
      const unreadable = await store.create({ base64: withChunk(text), name: 'broken.png' });
      expect(unreadable.parameters).toEqual({});
      expect(restoreNotice(restoreFromPhotoParameters(unreadable.parameters!))).toBe("The image's parameters could not be read; the controls are unchanged.");
    }
  });

  it('stores the editor settings as given, refuses non-objects and oversized ones, and ignores a damaged file', async () => {
    const { project } = await store.create({ base64: await gradientPng(8, 8), name: 'a.png' });
    expect((await store.open(project.id)).settings).toBeNull();
    const settings = { prompt: 'a quiet harbour', steps: 33, seed: 77, seedMode: 'locked', editMethod: 'pti' };
    await store.saveSettings(project.id, settings);
    expect((await store.open(project.id)).settings).toEqual(settings);
    await expect(store.saveSettings(project.id, [] as never)).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(store.saveSettings(project.id, { prompt: 'x'.repeat(64 * 1024) })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    expect((await store.open(project.id)).settings).toEqual(settings);
    writeFileSync(path.join(store.dir(project.id), 'settings.json'), '{"prompt": ');
    expect((await store.open(project.id)).settings).toBeNull();
  });

  it('lists projects newest activity first', async () => {
    const a = (await store.create({ base64: await gradientPng(8, 8), name: 'a.png' })).project;
    const b = (await store.create({ base64: await gradientPng(8, 8), name: 'b.png' })).project;
    expect((await store.list()).map((p) => p.name)).toEqual(['b.png', 'a.png']);
    await new Promise((r) => setTimeout(r, 5));
    await store.saveHistory(a.id, { touched: true });
    expect((await store.list()).map((p) => p.id)).toEqual([a.id, b.id]);
  });

  it('refuses unknown and malformed project ids without touching the disk outside the store', async () => {
    await expect(store.open('p-nope')).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringContaining('no project "p-nope"') });
    await expect(store.open('../../etc')).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringContaining('not a project id') });
    await expect(store.saveMask('../x', { base64: '' })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });

  it('a crash mid-write leaves the previous state readable', async () => {
    const { project } = await store.create({ base64: await gradientPng(20, 10), name: 'a.png' });
    await store.saveMask(project.id, { base64: await rectMask(20, 10, 0, 0, 10, 10) });
    const image = { pngBase64: await gradientPng(20, 10), width: 20, height: 10 };
    await store.addResult(project.id, { image, parameters: { seed: 9 } });
    const before = await store.open(project.id);

    // What a process killed mid-write leaves: the temporary files of an atomic write (never
    // renamed over the target), a result PNG whose .json was never written, a staging folder.
    const dir = store.dir(project.id);
    writeFileSync(path.join(dir, '.mask.png.999-deadbeef.tmp'), Buffer.from([0x89, 0x50]));
    writeFileSync(path.join(dir, '.project.json.999-deadbeef.tmp'), '{"id": "p-trunc');
    writeFileSync(path.join(dir, 'results', 'r-20990101-000000-000-abcdef.png'), Buffer.from([0x89]));
    writeFileSync(path.join(dir, 'results', '.r-20990101-000000-000-abcdef.json.1-2.tmp'), '{');
    mkdirSync(path.join(root, 'projects', '.new-p-20990101-000000-000-abcdef'), { recursive: true });

    const after = await store.open(project.id);
    expect(after).toEqual(before);
    expect((await store.list()).map((p) => p.id)).toEqual([project.id]);

    // A failed write (the mask is not an image) changes nothing either.
    await expect(store.saveMask(project.id, { base64: Buffer.from('garbage').toString('base64') })).rejects.toMatchObject({ code: 'BAD_IMAGE' });
    expect((await store.open(project.id)).mask).toEqual(before.mask);
  });

  it('serialises concurrent writes to one project (none is lost)', async () => {
    const { project } = await store.create({ base64: await gradientPng(8, 8), name: 'a.png' });
    const image = { pngBase64: await gradientPng(8, 8), width: 8, height: 8 };
    await Promise.all(Array.from({ length: 6 }, (_, i) => store.addResult(project.id, { image, parameters: { seed: i } })));
    const state = await store.open(project.id);
    expect(state.results.map((r) => r.parameters.seed).sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('ProjectRequests', () => {
  it('answers the contract requests and saves a job result into its project', async () => {
    const requests = new ProjectRequests(root);
    const created = await requests.handle('createProject', { image: { base64: await gradientPng(12, 9), name: 'c.png' } });
    const id = created.project.id;
    expect(await requests.handle('listProjects', undefined as never)).toHaveLength(1);
    expect(await requests.handle('saveMask', { projectId: id, mask: { base64: await rectMask(12, 9, 0, 0, 6, 9) } })).toEqual({ saved: true });
    expect(await requests.handle('saveHistory', { projectId: id, history: { cursor: 1 } })).toEqual({ saved: true });
    expect(await requests.handle('saveSettings', { projectId: id, settings: { prompt: 'p', steps: 5 } })).toEqual({ saved: true });

    const result = {
      jobId: 'job-7',
      image: { pngBase64: await gradientPng(12, 9), width: 12, height: 9 },
      parameters: { seed: 7 },
      timings: {},
    };
    const announced = await requests.saveResult(id, result);
    expect(announced.saved?.projectId).toBe(id);
    expect(await requests.saveResult(undefined, result)).toBe(result);

    const state = await requests.handle('openProject', { projectId: id });
    expect(state.results.map((r) => [r.id, r.jobId])).toEqual([[announced.saved!.resultId, 'job-7']]);
    expect(state.history).toEqual({ cursor: 1 });
    expect(state.settings).toEqual({ prompt: 'p', steps: 5 });
    expect(path.dirname(requests.store.dir(id))).toBe(path.join(root, 'projects'));

    await expect(requests.handle('openProject', {} as never)).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(requests.checkProject('p-missing')).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(requests.checkProject(id)).resolves.toBeUndefined();
    expect(ProjectRequests.handles('saveMask')).toBe(true);
    expect(ProjectRequests.handles('generate')).toBe(false);
  });
});
