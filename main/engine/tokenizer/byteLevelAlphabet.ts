/**
 * GPT-2's reversible byte → character table, which CLIP's BPE also uses: every byte value gets a
 * printable, non-whitespace character so merges.txt can be plain text. Printable Latin-1 bytes
 * ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves; the other 68 bytes take the characters
 * U+0100, U+0101, … in byte order.
 */
export interface ByteLevelAlphabet {
  /** byte (0..255) → its character */
  readonly byteToChar: readonly string[];
  /** character → byte */
  readonly charToByte: ReadonlyMap<string, number>;
}

function buildAlphabet(): ByteLevelAlphabet {
  const isPrintable = (b: number) =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const byteToChar: string[] = new Array(256);
  let next = 0x100;
  for (let b = 0; b < 256; b++) {
    byteToChar[b] = String.fromCodePoint(isPrintable(b) ? b : next++);
  }
  const charToByte = new Map(byteToChar.map((c, b) => [c, b] as const));
  return { byteToChar, charToByte };
}

export const byteLevelAlphabet: ByteLevelAlphabet = buildAlphabet();
