import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPentimentoError, type PentimentoError } from '../../../main/engine/errors';
import { DEFAULT_MAX_PIXELS } from '../../../main/engine/image/decodeImage';
import { loadImage } from '../../../main/engine/image/loadImage';
import {
  PHOTOS,
  cmykJpeg,
  encodeLossless,
  grey16Png,
  greyPng,
  jpeg,
  makeTempDir,
  markedRgb,
  patternRgb,
  pixelBombPng,
  rgbaPng,
  truncated,
  type TempDir,
} from '../../fixtures/images';

let tmp: TempDir;
beforeAll(() => {
  tmp = makeTempDir();
});
afterAll(() => tmp.remove());

async function rejection(p: Promise<unknown>): Promise<PentimentoError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isPentimentoError(e)) throw new Error(`expected a PentimentoError, got ${String(e)}`);
  return e;
}

const pixel = (rgb: Uint8Array, width: number, x: number, y: number) => Array.from(rgb.subarray((y * width + x) * 3, (y * width + x) * 3 + 3));

describe('loadImage formats', () => {
  it.each(['png', 'webp', 'tiff', 'avif'] as const)('decodes lossless %s exactly, with its size and format', async (format) => {
    const [w, h] = [37, 23];
    const rgb = patternRgb(w, h);
    const path = tmp.write(`pattern.${format}`, await encodeLossless(rgb, w, h, format));
    const img = await loadImage(path);
    expect([img.width, img.height, img.sourceFormat]).toEqual([w, h, format]);
    expect(img.alpha).toBeUndefined();
    expect(Buffer.from(img.rgb).equals(Buffer.from(rgb))).toBe(true);
  });

  it('decodes JPEG to within compression error of the source colour', async () => {
    const [w, h] = [40, 24];
    const path = tmp.write('flat.jpg', await jpeg(markedRgb(w, h, [200, 100, 50], [0, 0, 0]), w, h));
    const img = await loadImage(path);
    expect([img.width, img.height, img.sourceFormat]).toEqual([w, h, 'jpeg']);
    for (const [got, want] of pixel(img.rgb, w, 20, 12).map((v, i) => [v, [200, 100, 50][i]])) expect(Math.abs(got - want)).toBeLessThanOrEqual(3);
  });

  it('loads from a Buffer as from a path', async () => {
    const rgb = patternRgb(5, 4);
    const img = await loadImage(await encodeLossless(rgb, 5, 4, 'png'));
    expect(Buffer.from(img.rgb).equals(Buffer.from(rgb))).toBe(true);
  });

  it('loads a 1×1 image', async () => {
    const img = await loadImage(await encodeLossless(new Uint8Array([16, 32, 48]), 1, 1, 'png'));
    expect([img.width, img.height, ...img.rgb]).toEqual([1, 1, 16, 32, 48]);
  });

  it('applies EXIF orientation 6: upright, sides swapped, top-left mark now top-right', async () => {
    const [w, h] = [64, 32];
    const path = tmp.write('rotated.jpg', await jpeg(markedRgb(w, h, [128, 128, 128], [255, 0, 0], 8), w, h, 6));
    const img = await loadImage(path);
    expect([img.width, img.height]).toEqual([h, w]);
    // Orientation 6 = displayed rotated 90° clockwise: stored (0,0) shows at (newWidth−1, 0).
    const [r, g] = pixel(img.rgb, img.width, img.width - 3, 2);
    expect(r).toBeGreaterThan(200);
    expect(g).toBeLessThan(60);
    for (const [x, y] of [[2, 2], [2, img.height - 3], [img.width - 3, img.height - 3]]) {
      const [r2, g2] = pixel(img.rgb, img.width, x, y);
      expect(Math.abs(r2 - 128) + Math.abs(g2 - 128)).toBeLessThan(12);
    }
  });

  it('keeps alpha separately and composites RGB over white: (255,0,0,128) → (255,127,127)', async () => {
    const img = await loadImage(await rgbaPng(3, 2, [255, 0, 0, 128]));
    expect(Array.from(img.alpha!)).toEqual(new Array(6).fill(128));
    expect(pixel(img.rgb, 3, 2, 1)).toEqual([255, 127, 127]);
  });

  it('reads horse.png (RGBA) with its alpha plane', async () => {
    const img = await loadImage(join(PHOTOS, 'horse.png'));
    expect([img.width, img.height]).toEqual([400, 328]);
    expect(img.rgb.length).toBe(400 * 328 * 3);
    expect(img.alpha!.length).toBe(400 * 328);
    // Its top-left pixel is white at alpha 110; over white it stays white.
    expect(img.alpha![0]).toBe(110);
    expect(pixel(img.rgb, 400, 0, 0)).toEqual([255, 255, 255]);
    expect(pixel(img.rgb, 400, 200, 164)).toEqual([0, 0, 0]);
  });

  it('expands grey to RGB (camera.png)', async () => {
    const img = await loadImage(join(PHOTOS, 'camera.png'));
    expect([img.width, img.height, img.rgb.length]).toEqual([512, 512, 512 * 512 * 3]);
    for (let i = 0; i < img.rgb.length; i += 3 * 997) {
      expect(img.rgb[i]).toBe(img.rgb[i + 1]);
      expect(img.rgb[i]).toBe(img.rgb[i + 2]);
    }
  });

  it('maps a grey PNG value v to (v, v, v)', async () => {
    const img = await loadImage(await greyPng(new Uint8Array([0, 77, 200, 255]), 2, 2));
    expect(Array.from(img.rgb)).toEqual([0, 0, 0, 77, 77, 77, 200, 200, 200, 255, 255, 255]);
  });

  it('scales 16-bit grey to 8 bits: 0x8040 → 128, 0xFFFF → 255', async () => {
    for (const [v16, v8] of [[0x8040, 128], [0xffff, 255], [0, 0]]) {
      const img = await loadImage(await grey16Png(3, 2, v16));
      expect(new Set(img.rgb)).toEqual(new Set([v8]));
    }
  });

  it('converts CMYK JPEG to sRGB of roughly the original colour', async () => {
    const [w, h] = [32, 16];
    const img = await loadImage(await cmykJpeg(markedRgb(w, h, [200, 60, 40], [0, 0, 0]), w, h));
    expect([img.width, img.height, img.rgb.length]).toEqual([w, h, w * h * 3]);
    const [r, g, b] = pixel(img.rgb, w, 16, 8);
    // The CMYK round trip passes through a printing profile; hue and ordering survive.
    expect(r).toBeGreaterThan(150);
    expect(g).toBeLessThan(110);
    expect(b).toBeLessThan(100);
    expect(r - g).toBeGreaterThan(80);
  });

  it('loads rocket.jpg at its size', async () => {
    const img = await loadImage(join(PHOTOS, 'rocket.jpg'));
    expect([img.width, img.height, img.sourceFormat]).toEqual([640, 427, 'jpeg']);
  });
});

describe('loadImage errors', () => {
  it('names a missing file as not found', async () => {
    const path = tmp.path('nope.png');
    const e = await rejection(loadImage(path));
    expect(e.code).toBe('BAD_IMAGE');
    expect(e.message).toContain(path);
    expect(e.message).toContain('not found');
  });

  it('rejects an empty file', async () => {
    const path = tmp.write('empty.png', new Uint8Array(0));
    const e = await rejection(loadImage(path));
    expect(e.code).toBe('BAD_IMAGE');
    expect(e.message).toContain(path);
    expect(e.message).toContain('empty');
  });

  it('rejects a text file named .png as not an image', async () => {
    const path = tmp.write('notes.png', 'shopping list: eggs, milk\n');
    const e = await rejection(loadImage(path));
    expect(e.code).toBe('BAD_IMAGE');
    expect(e.message).toContain(`${path} is not an image`);
  });

  it('rejects a folder', async () => {
    const e = await rejection(loadImage(tmp.dir));
    expect(e.code).toBe('BAD_IMAGE');
    expect(e.message).toContain('folder');
  });

  it.each([
    ['PNG', 0.6],
    ['PNG', 0.95],
    ['JPEG', 0.6],
    ['JPEG', 0.98],
  ] as const)('rejects a %s cut to %s of its bytes instead of decoding garbage', async (format, fraction) => {
    const [w, h] = [120, 80];
    const rgb = patternRgb(w, h);
    const full = format === 'PNG' ? await encodeLossless(rgb, w, h, 'png') : await jpeg(rgb, w, h);
    await expect(loadImage(full)).resolves.toBeDefined();
    const path = tmp.write(`cut-${fraction}.${format.toLowerCase()}`, truncated(full, fraction));
    const e = await rejection(loadImage(path));
    expect(e.code).toBe('BAD_IMAGE');
    expect(e.message).toContain(path);
    expect(e.message).toMatch(/corrupt|truncated/);
    // libvips' "Input buffer has corrupt header:" had an empty detail after its colon.
    expect(e.message).not.toMatch(/:\)|:\s*$|\n/);
  });

  it('quotes a header-truncated PNG\'s decoder message without its dangling colon', async () => {
    const full = await encodeLossless(patternRgb(32, 32), 32, 32, 'png');
    const e = await rejection(loadImage(tmp.write('header-cut.png', full.subarray(0, 20))));
    expect(e.code).toBe('BAD_IMAGE');
    expect(e.message).toMatch(/\(Input buffer has corrupt header\)\. It may be corrupt or truncated\.$/);
  });

  it('refuses a 20000×20000 PNG from its header, fast and naming the pixel limit', async () => {
    const path = tmp.write('bomb.png', pixelBombPng(20000, 20000));
    const rssBefore = process.memoryUsage().rss;
    const t0 = performance.now();
    const e = await rejection(loadImage(path));
    const ms = performance.now() - t0;
    expect(e.code).toBe('BAD_IMAGE');
    expect(e.message).toContain('20000×20000');
    expect(e.message).toContain(`pixel limit of ${DEFAULT_MAX_PIXELS}`);
    expect(e.details).toMatchObject({ width: 20000, height: 20000, maxPixels: DEFAULT_MAX_PIXELS });
    expect(ms).toBeLessThan(1000);
    // Decoding would need 1.2 GB for RGB alone.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024);
  });

  it('applies a custom pixel limit', async () => {
    const png = await encodeLossless(patternRgb(10, 10), 10, 10, 'png');
    await expect(loadImage(png, { maxPixels: 100 })).resolves.toBeDefined();
    const e = await rejection(loadImage(png, { maxPixels: 99, name: 'small.png' }));
    expect(e.message).toContain('small.png is 10×10');
  });

  it('rejects formats it does not open (SVG) by name', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>';
    const e = await rejection(loadImage(tmp.write('drawing.svg', svg)));
    expect(e.code).toBe('BAD_IMAGE');
    expect(e.message).toContain('svg');
  });
});
