import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { byteLevelAlphabet } from '../../../main/engine/tokenizer/byteLevelAlphabet';

describe('byteLevelAlphabet', () => {
  const { byteToChar, charToByte } = byteLevelAlphabet;

  it('gives the 256 bytes distinct, single, non-whitespace characters and inverts', () => {
    expect(new Set(byteToChar).size).toBe(256);
    for (let b = 0; b < 256; b++) {
      expect([...byteToChar[b]]).toHaveLength(1);
      expect(/\p{White_Space}/u.test(byteToChar[b])).toBe(false);
      expect(charToByte.get(byteToChar[b])).toBe(b);
    }
  });

  it('matches the GPT-2 table: printable bytes are themselves, space is "Ġ", newline "Ċ", soft hyphen "Ń"', () => {
    expect(byteToChar[0x61]).toBe('a');
    expect(byteToChar[0xe9]).toBe('\u00e9');
    expect(byteToChar[0x00]).toBe('\u0100');
    expect(byteToChar[0x0a]).toBe('\u010a');
    expect(byteToChar[0x20]).toBe('\u0120');
    expect(byteToChar[0x7f]).toBe('\u0121');
    expect(byteToChar[0xad]).toBe('\u0143');
  });

  it('is the first 256 entries of the CLIP vocabulary, then the same with "</w>"', () => {
    // CLIP built its vocabulary as the alphabet in printable-first order, then each with </w>.
    const vocab = JSON.parse(readFileSync(path.resolve(process.cwd(), 'models/assets/clip-tokenizer/vocab.json'), 'utf8')) as Record<string, number>;
    const order = [...byteToChar.keys()].sort((x, y) => byteToChar[x].codePointAt(0)! - byteToChar[y].codePointAt(0)!);
    order.forEach((b, i) => {
      expect(vocab[byteToChar[b]]).toBe(i);
      expect(vocab[`${byteToChar[b]}</w>`]).toBe(256 + i);
    });
  });
});
