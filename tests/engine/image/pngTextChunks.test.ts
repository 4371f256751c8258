import { deflateSync } from 'node:zlib';
import encodeChunks from 'png-chunks-encode';
import extractChunks from 'png-chunks-extract';
import { describe, expect, it } from 'vitest';
import { insertPngTextChunks, readPngTextChunks } from '../../../main/engine/image/pngTextChunks';
import { encodeLossless, patternRgb } from '../../fixtures/images';

describe('PNG text chunks', () => {
  it('reads tEXt (Latin-1), zTXt and compressed iTXt written by other tools', async () => {
    const png = extractChunks(await encodeLossless(patternRgb(2, 2), 2, 2, 'png'));
    const text = Buffer.concat([Buffer.from('Comment\0', 'latin1'), Buffer.from('café', 'latin1')]);
    const ztxt = Buffer.concat([Buffer.from('Author\0\0', 'latin1'), deflateSync(Buffer.from('Zoë', 'latin1'))]);
    const itxt = Buffer.concat([Buffer.from('parameters\0\x01\x00en\0\0', 'latin1'), deflateSync(Buffer.from('猫 🐱', 'utf8'))]);
    const file = encodeChunks([png[0], { name: 'tEXt', data: text }, { name: 'zTXt', data: ztxt }, { name: 'iTXt', data: itxt }, ...png.slice(1)]);
    expect(readPngTextChunks(file)).toEqual([
      { keyword: 'Comment', text: 'café' },
      { keyword: 'Author', text: 'Zoë' },
      { keyword: 'parameters', text: '猫 🐱' },
    ]);
  });

  it('writes iTXt that reads back, keeping the image decodable', async () => {
    const png = await encodeLossless(patternRgb(3, 2), 3, 2, 'png');
    const out = insertPngTextChunks(png, [{ keyword: 'pentimento', text: '{"p":"東京 🗼"}' }]);
    expect(readPngTextChunks(out)).toEqual([{ keyword: 'pentimento', text: '{"p":"東京 🗼"}' }]);
  });

  it('refuses invalid keywords', async () => {
    const png = await encodeLossless(patternRgb(1, 1), 1, 1, 'png');
    expect(() => insertPngTextChunks(png, [{ keyword: '', text: 'x' }])).toThrow(/keyword/);
    expect(() => insertPngTextChunks(png, [{ keyword: 'x'.repeat(80), text: 'x' }])).toThrow(/keyword/);
    expect(() => insertPngTextChunks(png, [{ keyword: 'clé', text: 'x' }])).toThrow(/keyword/);
  });

  it('gives undefined, quickly, for a forged chunk length or a bad CRC', async () => {
    const png = Buffer.from(await encodeLossless(patternRgb(2, 2), 2, 2, 'png'));
    const forged = Buffer.from(png);
    forged.writeUInt32BE(0xfffffff0, 8); // IHDR claims ~4 GiB
    const t0 = performance.now();
    expect(readPngTextChunks(forged)).toBeUndefined();
    expect(performance.now() - t0).toBeLessThan(100);
    const badCrc = Buffer.from(png);
    badCrc[8 + 8 + 13] ^= 0xff; // first byte of IHDR's CRC
    expect(readPngTextChunks(badCrc)).toBeUndefined();
    expect(readPngTextChunks(Buffer.from('not a png'))).toBeUndefined();
  });
});
