import { inflateSync } from 'node:zlib';
import extractChunks from 'png-chunks-extract';
import encodeChunks from 'png-chunks-encode';

/** One PNG text entry; tEXt, zTXt and iTXt all read as this. */
export interface PngTextEntry {
  keyword: string;
  text: string;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Compressed text larger than this is ignored rather than inflated (a zTXt bomb). */
const MAX_INFLATED_TEXT = 4 * 1024 * 1024;

export function isPng(data: Uint8Array): boolean {
  return data.length >= 8 && Buffer.from(data.buffer, data.byteOffset, 8).equals(PNG_SIGNATURE);
}

/**
 * Checks every chunk's declared length fits the file before png-chunks-extract sees it: that
 * library allocates the declared length and copies byte by byte, so one forged length would
 * mean gigabytes and minutes.
 */
function chunkLayoutIsSound(data: Uint8Array): boolean {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = 8;
  while (at + 12 <= data.length) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(data[at + 4], data[at + 5], data[at + 6], data[at + 7]);
    if (at + 12 + length > data.length) return false;
    if (type === 'IEND') return true;
    at += 12 + length;
  }
  return false;
}

/**
 * The text entries of a PNG, in file order. Undefined when the data is not a structurally
 * sound PNG (bad signature, chunk running past the end, CRC mismatch).
 */
export function readPngTextChunks(png: Uint8Array): PngTextEntry[] | undefined {
  if (!isPng(png) || !chunkLayoutIsSound(png)) return undefined;
  let chunks: Array<{ name: string; data: Uint8Array }>;
  try {
    chunks = extractChunks(png);
  } catch {
    return undefined;
  }
  const entries: PngTextEntry[] = [];
  for (const { name, data } of chunks) {
    const entry =
      name === 'tEXt' ? decodeText(data) : name === 'zTXt' ? decodeZText(data) : name === 'iTXt' ? decodeIText(data) : undefined;
    if (entry) entries.push(entry);
  }
  return entries;
}

/**
 * The PNG with the entries added as uncompressed iTXt chunks right after IHDR, where
 * header-only readers find them. iTXt rather than tEXt because tEXt is Latin-1 and prompts
 * carry emoji and CJK.
 */
export function insertPngTextChunks(png: Uint8Array, entries: readonly PngTextEntry[]): Buffer {
  const chunks = extractChunks(png);
  const text = entries.map((e) => ({ name: 'iTXt', data: encodeIText(e) }));
  return Buffer.from(encodeChunks([chunks[0], ...text, ...chunks.slice(1)]));
}

/** PNG spec 11.3.4.3: keyword, NUL, compression flag, method, language, NUL, translated keyword, NUL, UTF-8 text. */
function encodeIText({ keyword, text }: PngTextEntry): Uint8Array {
  if (!/^[\x20-\x7e]{1,79}$/.test(keyword) || /^ | $| {2}/.test(keyword)) {
    throw new Error(`PNG text keyword "${keyword}" must be 1–79 printable ASCII characters without leading, trailing or double spaces.`);
  }
  return Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0, 0, 0, 0, 0]), Buffer.from(text, 'utf8')]);
}

function splitAtNul(data: Uint8Array, from = 0): [Buffer, number] | undefined {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const nul = b.indexOf(0, from);
  return nul < 0 ? undefined : [b.subarray(from, nul), nul + 1];
}

function decodeText(data: Uint8Array): PngTextEntry | undefined {
  const split = splitAtNul(data);
  if (!split) return undefined;
  const [keyword, rest] = split;
  return { keyword: keyword.toString('latin1'), text: Buffer.from(data).subarray(rest).toString('latin1') };
}

function decodeZText(data: Uint8Array): PngTextEntry | undefined {
  const split = splitAtNul(data);
  if (!split) return undefined;
  const [keyword, rest] = split;
  const text = inflate(Buffer.from(data).subarray(rest + 1));
  return text === undefined ? undefined : { keyword: keyword.toString('latin1'), text: text.toString('latin1') };
}

function decodeIText(data: Uint8Array): PngTextEntry | undefined {
  const b = Buffer.from(data);
  const k = splitAtNul(b);
  if (!k) return undefined;
  const [keyword, afterKeyword] = k;
  const compressed = b[afterKeyword] === 1;
  const lang = splitAtNul(b, afterKeyword + 2);
  if (!lang) return undefined;
  const translated = splitAtNul(b, lang[1]);
  if (!translated) return undefined;
  const body = b.subarray(translated[1]);
  const text = compressed ? inflate(body) : body;
  return text === undefined ? undefined : { keyword: keyword.toString('latin1'), text: text.toString('utf8') };
}

function inflate(data: Buffer): Buffer | undefined {
  try {
    return inflateSync(data, { maxOutputLength: MAX_INFLATED_TEXT });
  } catch {
    return undefined;
  }
}
