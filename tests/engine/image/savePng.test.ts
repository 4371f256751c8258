import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import extractChunks from 'png-chunks-extract';
import type { GenerationParameters } from '../../../main/engine/image/GenerationParameters';
import { loadImage } from '../../../main/engine/image/loadImage';
import { readParameters } from '../../../main/engine/image/readParameters';
import { savePng } from '../../../main/engine/image/savePng';
import { makeTempDir, patternRgb, type TempDir } from '../../fixtures/images';

let tmp: TempDir;
beforeAll(() => {
  tmp = makeTempDir();
});
afterAll(() => tmp.remove());

const params: GenerationParameters = {
  prompt: 'a cat on the moon 🐱🌕, 月の猫, «astronaute»',
  negativePrompt: 'blurry, low quality',
  seed: 1234567890,
  steps: 20,
  guidance: 7.5,
  scheduler: 'euler-ancestral',
  strength: 0.75,
  width: 512,
  height: 512,
  model: { name: 'stable-diffusion-v1-5', hash: 'abc123def0' },
  method: 'inpaint',
  extra: { maskBlur: 4, tags: ['x', 'y'] },
};

describe('savePng', () => {
  it('round-trips pixels and UTF-8 parameters (emoji, CJK)', async () => {
    const rgb = patternRgb(19, 11);
    const path = tmp.path('out.png');
    await savePng(path, rgb, 19, 11, params);
    const img = await loadImage(path);
    expect(Buffer.from(img.rgb).equals(Buffer.from(rgb))).toBe(true);
    expect(img.parameters).toEqual(params);
    expect(await readParameters(path)).toEqual(params);
    expect(await readParameters(readFileSync(path))).toEqual(params);
  });

  it('writes an A1111-style `parameters` iTXt chunk before the image data', async () => {
    const path = tmp.path('a1111.png');
    await savePng(path, patternRgb(4, 4), 4, 4, params);
    const chunks = extractChunks(readFileSync(path));
    expect(chunks.map((c) => c.name).slice(0, 3)).toEqual(['IHDR', 'iTXt', 'iTXt']);
    expect(chunks.findIndex((c) => c.name === 'iTXt')).toBeLessThan(chunks.findIndex((c) => c.name === 'IDAT'));
    const a1111 = Buffer.from(chunks[2].data);
    const keywordEnd = a1111.indexOf(0);
    expect(a1111.subarray(0, keywordEnd).toString('latin1')).toBe('parameters');
    // iTXt: keyword NUL, flag, method, empty language NUL, empty translated keyword NUL.
    expect(Array.from(a1111.subarray(keywordEnd, keywordEnd + 5))).toEqual([0, 0, 0, 0, 0]);
    expect(a1111.subarray(keywordEnd + 5).toString('utf8')).toBe(
      'a cat on the moon 🐱🌕, 月の猫, «astronaute»\n' +
        'Negative prompt: blurry, low quality\n' +
        'Steps: 20, Sampler: euler-ancestral, CFG scale: 7.5, Seed: 1234567890, Size: 512x512, ' +
        'Model hash: abc123def0, Model: stable-diffusion-v1-5, Denoising strength: 0.75, Method: inpaint, ' +
        'maskBlur: 4, tags: "[\\"x\\",\\"y\\"]"',
    );
  });

  it('gives byte-identical files for identical pixels and parameters, whatever the key order', async () => {
    const rgb = patternRgb(33, 17);
    const reordered = Object.fromEntries(Object.entries(params).reverse()) as unknown as GenerationParameters;
    await savePng(tmp.path('a.png'), rgb, 33, 17, params);
    await new Promise((r) => setTimeout(r, 1100)); // a timestamp chunk would now differ
    await savePng(tmp.path('b.png'), rgb.slice(), 33, 17, reordered);
    expect(readFileSync(tmp.path('a.png')).equals(readFileSync(tmp.path('b.png')))).toBe(true);
  });

  it('with an alpha plane writes RGBA: pixels and alpha round-trip, bytes stay deterministic', async () => {
    const [w, h] = [21, 13];
    const rgb = patternRgb(w, h);
    const alpha = Uint8Array.from({ length: w * h }, (_, i) => (i * 37) % 256);
    await savePng(tmp.path('rgba-a.png'), rgb, w, h, params, { alpha });
    await savePng(tmp.path('rgba-b.png'), rgb.slice(), w, h, params, { alpha: alpha.slice() });
    expect(readFileSync(tmp.path('rgba-a.png')).equals(readFileSync(tmp.path('rgba-b.png')))).toBe(true);
    const loaded = await loadImage(tmp.path('rgba-a.png'));
    expect(Buffer.from(loaded.alpha!).equals(Buffer.from(alpha))).toBe(true);
    // loadImage flattens onto white; where alpha is 255 the stored colour comes back as it was.
    for (let i = 0; i < w * h; i++) {
      if (alpha[i] === 255) expect([...loaded.rgb.subarray(i * 3, i * 3 + 3)]).toEqual([...rgb.subarray(i * 3, i * 3 + 3)]);
    }
    expect(await readParameters(tmp.path('rgba-a.png'))).toEqual(params);
    // Without alpha the same pixels give a different (RGB) file.
    await savePng(tmp.path('rgb.png'), rgb, w, h, params);
    expect((await loadImage(tmp.path('rgb.png'))).alpha).toBeUndefined();
    await expect(savePng(tmp.path('bad.png'), rgb, w, h, params, { alpha: new Uint8Array(5) })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });

  it('writes no text chunks without parameters, and readParameters gives undefined', async () => {
    const path = tmp.path('plain.png');
    await savePng(path, patternRgb(3, 3), 3, 3);
    expect(extractChunks(readFileSync(path)).some((c) => c.name.endsWith('Xt'))).toBe(false);
    expect(await readParameters(path)).toBeUndefined();
    expect((await loadImage(path)).parameters).toBeUndefined();
  });

  it('replaces an existing file whole', async () => {
    const path = tmp.write('replace.png', 'old contents');
    await savePng(path, patternRgb(2, 2), 2, 2, params);
    expect((await loadImage(path)).width).toBe(2);
  });

  it('leaves no temporary or partial file when the final rename fails', async () => {
    const dir = tmp.path('rename-fails');
    mkdirSync(dir);
    const target = `${dir}/taken.png`;
    mkdirSync(target); // rename(file, non-empty folder) fails after the data is written
    writeFileSync(`${target}/keep`, 'x');
    await expect(savePng(target, patternRgb(8, 8), 8, 8, params)).rejects.toMatchObject({ code: 'IO_ERROR' });
    expect(readdirSync(dir)).toEqual(['taken.png']);
    expect(readdirSync(target)).toEqual(['keep']);
  });

  // Root ignores folder permissions, so there the failure cannot be provoked this way.
  it.skipIf(process.getuid?.() === 0)('leaves nothing behind when the folder cannot be written', async () => {
    const dir = tmp.path('read-only');
    mkdirSync(dir);
    chmodSync(dir, 0o500);
    await expect(savePng(`${dir}/x.png`, patternRgb(2, 2), 2, 2)).rejects.toMatchObject({ code: 'IO_ERROR' });
    chmodSync(dir, 0o700);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a missing folder and a pixel buffer of the wrong length before writing', async () => {
    await expect(savePng(tmp.path('no/such/dir/x.png'), patternRgb(2, 2), 2, 2)).rejects.toThrow(/does not exist/);
    const before = readdirSync(tmp.dir).sort();
    await expect(savePng(tmp.path('short.png'), new Uint8Array(5), 2, 2)).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    expect(readdirSync(tmp.dir).sort()).toEqual(before);
  });
});

describe('readParameters', () => {
  it('is undefined for non-PNG data, PNGs with malformed JSON, and JSON of the wrong shape', async () => {
    expect(await readParameters(Buffer.from('GIF89a...'))).toBeUndefined();
    const { insertPngTextChunks } = await import('../../../main/engine/image/pngTextChunks');
    const { encodePng } = await import('../../../main/engine/image/encodePng');
    const png = await encodePng(patternRgb(2, 2), 2, 2);
    expect(await readParameters(insertPngTextChunks(png, [{ keyword: 'pentimento', text: '{not json' }]))).toBeUndefined();
    expect(await readParameters(insertPngTextChunks(png, [{ keyword: 'pentimento', text: '{"prompt":"x"}' }]))).toBeUndefined();
    const wrongSeed = JSON.stringify({ ...params, seed: 'one' });
    expect(await readParameters(insertPngTextChunks(png, [{ keyword: 'pentimento', text: wrongSeed }]))).toBeUndefined();
  });

  it('reads parameters without a seed (an inversion edit, where nothing is random) as having none', async () => {
    const { seed: _seed, ...noSeed } = params;
    const path = tmp.path('no-seed.png');
    await savePng(path, patternRgb(4, 4), 4, 4, noSeed);
    const read = await readParameters(path);
    expect(read).toEqual(noSeed);
    expect(read).not.toHaveProperty('seed');
  });

  it('reports a missing file as BAD_IMAGE not found', async () => {
    await expect(readParameters(tmp.path('gone.png'))).rejects.toMatchObject({ code: 'BAD_IMAGE', message: expect.stringContaining('not found') });
  });
});
