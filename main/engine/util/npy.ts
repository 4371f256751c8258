import { promises as fs } from 'node:fs';
import path from 'node:path';
import { badArgument, PentimentoError } from '../errors';

/**
 * NumPy .npy files (format versions 1.0, 2.0 and 3.0; see numpy.lib.format): the magic
 * "\x93NUMPY", a version byte pair, a little-endian header length (uint16 in 1.0, uint32 after),
 * then a Python dict literal {'descr': …, 'fortran_order': …, 'shape': (…)} padded with spaces
 * and a newline so the data starts on a 64-byte boundary, then the raw C-order data.
 *
 * Only little-endian C-order arrays of the dtypes below are read or written. float16 is
 * widened to Float32Array on read and rounded to nearest-even on write.
 */
export type NpyDtype = 'float32' | 'float16' | 'float64' | 'int64' | 'int32' | 'uint8';

export type NpyData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

export interface NpyArray {
  data: NpyData;
  shape: number[];
  dtype: NpyDtype;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const ALIGNMENT = 64;

const DESCR_TO_DTYPE: Record<string, NpyDtype> = {
  '<f4': 'float32',
  '<f2': 'float16',
  '<f8': 'float64',
  '<i8': 'int64',
  '<i4': 'int32',
  '|u1': 'uint8',
  '<u1': 'uint8',
};

const DTYPE_TO_DESCR: Record<NpyDtype, string> = {
  float32: '<f4',
  float16: '<f2',
  float64: '<f8',
  int64: '<i8',
  int32: '<i4',
  uint8: '|u1',
};

const ITEM_SIZE: Record<NpyDtype, number> = { float32: 4, float16: 2, float64: 8, int64: 8, int32: 4, uint8: 1 };

const SUPPORTED = Object.keys(DESCR_TO_DTYPE).join(', ');

function bad(source: string, what: string): PentimentoError {
  return badArgument(`${source} is not a readable .npy array: ${what}`, { file: source });
}

/** IEEE half → double, exact. */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? Number.NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Double → IEEE half, round to nearest, ties to even; overflow goes to ±Infinity. */
function numberToHalf(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a === Infinity) return sign | 0x7c00;
  // Subnormal halves are multiples of 2^-24; normal halves have 10 fraction bits.
  if (a < 2 ** -14) return sign | roundHalfEven(a * 2 ** 24);
  let exp = Math.floor(Math.log2(a));
  if (2 ** exp > a) exp -= 1; // guard log2 rounding up just below a power of two
  if (2 ** (exp + 1) <= a) exp += 1;
  let frac = roundHalfEven((a / 2 ** exp - 1) * 1024);
  if (frac === 1024) {
    frac = 0;
    exp += 1;
  }
  if (exp > 15) return sign | 0x7c00;
  return sign | ((exp + 15) << 10) | frac;
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function parseHeader(header: string, source: string): { dtype: NpyDtype; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shapeMatch = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeMatch) throw bad(source, `its header is malformed (${JSON.stringify(header.trim())}).`);
  if (fortran[1] === 'True') {
    throw bad(source, 'it is stored in Fortran (column-major) order; save it with np.ascontiguousarray first.');
  }
  const dtype = DESCR_TO_DTYPE[descr[1]];
  if (!dtype) {
    const hint = descr[1].startsWith('>') ? ' Big-endian data is not supported; save it with arr.astype(arr.dtype.newbyteorder("<")).' : '';
    throw bad(source, `dtype '${descr[1]}' is not supported (supported: ${SUPPORTED}).${hint}`);
  }
  const dims = shapeMatch[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const shape = dims.map((d) => {
    const n = Number(d.replace(/L$/, ''));
    if (!Number.isSafeInteger(n) || n < 0) throw bad(source, `shape entry '${d}' is not a non-negative integer.`);
    return n;
  });
  return { dtype, shape };
}

/** Decodes .npy bytes; `source` names the file in error messages. */
export function parseNpy(bytes: Uint8Array, source = 'the buffer'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw bad(source, 'the magic string "\\x93NUMPY" is missing.');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw bad(source, 'the file ends inside the header.');
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw bad(source, `format version ${major}.${bytes[7]} is not supported (1.0, 2.0 and 3.0 are).`);
  }
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) throw bad(source, 'the file ends inside the header.');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart));
  const { dtype, shape } = parseHeader(header, source);

  const count = shape.reduce((a, b) => a * b, 1);
  const itemSize = ITEM_SIZE[dtype];
  const expected = count * itemSize;
  const actual = bytes.length - dataStart;
  if (actual !== expected) {
    throw bad(source, `shape (${shape.join(', ')}) of ${dtype} needs ${expected} data bytes but the file has ${actual}.`);
  }
  return { data: decodeData(view, dataStart, count, dtype), shape, dtype };
}

function decodeData(view: DataView, offset: number, count: number, dtype: NpyDtype): NpyData {
  switch (dtype) {
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, true);
      return out;
    }
    case 'float16': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToNumber(view.getUint16(offset + 2 * i, true));
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + 8 * i, true);
      return out;
    }
    case 'int64': {
      const out = new BigInt64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getBigInt64(offset + 8 * i, true);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(offset + 4 * i, true);
      return out;
    }
    case 'uint8':
      return new Uint8Array(view.buffer.slice(view.byteOffset + offset, view.byteOffset + offset + count));
  }
}

function defaultDtype(data: NpyData): NpyDtype {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int32Array) return 'int32';
  return 'uint8';
}

const ARRAY_FOR_DTYPE: Record<NpyDtype, { name: string; ctor: abstract new (...args: never[]) => NpyData }> = {
  float32: { name: 'Float32Array', ctor: Float32Array },
  float16: { name: 'Float32Array', ctor: Float32Array },
  float64: { name: 'Float64Array', ctor: Float64Array },
  int64: { name: 'BigInt64Array', ctor: BigInt64Array },
  int32: { name: 'Int32Array', ctor: Int32Array },
  uint8: { name: 'Uint8Array', ctor: Uint8Array },
};

/**
 * Encodes an array as .npy bytes (version 1.0, or 2.0 when the header outgrows 65535 bytes).
 * `dtype` defaults to the typed array's own; 'float16' takes a Float32Array and rounds it.
 */
export function encodeNpy(array: { data: NpyData; shape: readonly number[]; dtype?: NpyDtype }): Uint8Array {
  const dtype = array.dtype ?? defaultDtype(array.data);
  const { data, shape } = array;
  const expected = ARRAY_FOR_DTYPE[dtype];
  if (!(data instanceof expected.ctor)) {
    throw badArgument(`Cannot write ${dtype} from a ${data.constructor.name}; pass a ${expected.name}.`);
  }
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw badArgument(`Shape [${shape.join(', ')}] is not valid: dimensions must be non-negative integers.`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw badArgument(`Shape [${shape.join(', ')}] holds ${count} elements but the data has ${data.length}.`);
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${DTYPE_TO_DESCR[dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let major = 1;
  let prefix = 10;
  if (Math.ceil((prefix + dict.length + 1) / ALIGNMENT) * ALIGNMENT - prefix > 0xffff) {
    major = 2;
    prefix = 12;
  }
  const total = Math.ceil((prefix + dict.length + 1) / ALIGNMENT) * ALIGNMENT;
  const header = dict.padEnd(total - prefix - 1, ' ') + '\n';
  const itemSize = ITEM_SIZE[dtype];
  const out = new Uint8Array(total + count * itemSize);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  if (major === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  encodeData(view, total, data, dtype);
  return out;
}

function encodeData(view: DataView, offset: number, data: NpyData, dtype: NpyDtype): void {
  const n = data.length;
  switch (dtype) {
    case 'float32':
      for (let i = 0; i < n; i++) view.setFloat32(offset + 4 * i, (data as Float32Array)[i], true);
      return;
    case 'float16':
      for (let i = 0; i < n; i++) view.setUint16(offset + 2 * i, numberToHalf((data as Float32Array)[i]), true);
      return;
    case 'float64':
      for (let i = 0; i < n; i++) view.setFloat64(offset + 8 * i, (data as Float64Array)[i], true);
      return;
    case 'int64':
      for (let i = 0; i < n; i++) view.setBigInt64(offset + 8 * i, (data as BigInt64Array)[i], true);
      return;
    case 'int32':
      for (let i = 0; i < n; i++) view.setInt32(offset + 4 * i, (data as Int32Array)[i], true);
      return;
    case 'uint8':
      new Uint8Array(view.buffer, offset, n).set(data as Uint8Array);
      return;
  }
}

export async function readNpy(file: string): Promise<NpyArray> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw badArgument(`${file} does not exist; check the path.`, { file });
    throw new PentimentoError('IO_ERROR', `Could not read ${file}: ${(e as Error).message}`, { file });
  }
  return parseNpy(bytes, file);
}

/** Writes via a temporary file and rename, so a failure never leaves a partial .npy behind. */
export async function writeNpy(file: string, array: { data: NpyData; shape: readonly number[]; dtype?: NpyDtype }): Promise<void> {
  const bytes = encodeNpy(array);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await fs.writeFile(tmp, bytes);
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw new PentimentoError('IO_ERROR', `Could not write ${file}: ${(e as Error).message}`, { file });
  }
}
