import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy, parseNpy, readNpy, writeNpy } from '../../../main/engine/util/npy';

/** A .npy v1.0 file assembled by hand from its documented layout. */
function handBuilt(dict: string, data: Uint8Array, magic = '\x93NUMPY', version = [1, 0]): Uint8Array {
  const unpadded = 10 + dict.length + 1;
  const header = dict + ' '.repeat(Math.ceil(unpadded / 64) * 64 - unpadded) + '\n';
  const bytes = new Uint8Array(10 + header.length + data.length);
  for (let i = 0; i < 6; i++) bytes[i] = magic.charCodeAt(i);
  bytes[6] = version[0];
  bytes[7] = version[1];
  bytes[8] = header.length & 0xff;
  bytes[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) bytes[10 + i] = header.charCodeAt(i);
  bytes.set(data, 10 + header.length);
  return bytes;
}

const f32Bytes = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);

describe('parseNpy', () => {
  it('reads a hand-built v1.0 float32 file with shape (2, 3)', () => {
    const bytes = handBuilt("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f32Bytes([1, 2, 3, 4, 5, 6.5]));
    expect(bytes.length % 64).toBe(24); // header padded to 64, then 24 data bytes
    const arr = parseNpy(bytes, 'hand.npy');
    expect(arr.dtype).toBe('float32');
    expect(arr.shape).toEqual([2, 3]);
    expect(Array.from(arr.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6.5]);
  });

  it('reads 1-d "(n,)" and scalar "()" shapes', () => {
    expect(parseNpy(handBuilt("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f32Bytes([7, 8]))).shape).toEqual([2]);
    const scalar = parseNpy(handBuilt("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", f32Bytes([9])));
    expect(scalar.shape).toEqual([]);
    expect(Array.from(scalar.data as Float32Array)).toEqual([9]);
  });

  it('decodes float16 bit patterns exactly (normal, subnormal, max, infinity)', () => {
    const halves = Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001, 0x3555, 0x7c00]);
    const arr = parseNpy(handBuilt("{'descr': '<f2', 'fortran_order': False, 'shape': (6,), }", new Uint8Array(halves.buffer)));
    expect(arr.dtype).toBe('float16');
    expect(Array.from(arr.data as Float32Array)).toEqual([1, -2, 65504, 2 ** -24, (1 + 341 / 1024) / 4, Infinity]);
  });

  const f4 = (dict: string, data = f32Bytes([1, 2])) => handBuilt(dict, data);
  it.each([
    ['bad magic', handBuilt("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f32Bytes([1, 2]), '\x93NUMPZ'), /magic/],
    ['Fortran order', f4("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }"), /Fortran/],
    ['big-endian data', f4("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }"), /Big-endian/],
    ['an unsupported dtype', f4("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }"), /'<c8' is not supported/],
    ['too few data bytes', f4("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"), /needs 12 data bytes but the file has 8/],
    ['too many data bytes', f4("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }"), /needs 4 data bytes but the file has 8/],
    ['an unknown version', handBuilt("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f32Bytes([1, 2]), '\x93NUMPY', [9, 0]), /version 9\.0/],
    ['a malformed header', f4("{'descr': '<f4'}"), /header is malformed/],
  ])('rejects %s with BAD_ARGUMENT naming the file', (_what, bytes, message) => {
    let error: unknown;
    try {
      parseNpy(bytes, 'latents.npy');
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'BAD_ARGUMENT', details: { file: 'latents.npy' } });
    expect((error as Error).message).toMatch(/^latents\.npy /);
    expect((error as Error).message).toMatch(message);
  });

  it('rejects a file cut off inside the header', () => {
    const bytes = handBuilt("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f32Bytes([1, 2]));
    expect(() => parseNpy(bytes.subarray(0, 40), 'cut.npy')).toThrow(/cut\.npy .*ends inside the header/);
  });
});

describe('encodeNpy', () => {
  it('writes the v1.0 layout: magic, version, 64-byte aligned header ending in a newline', () => {
    const bytes = encodeNpy({ data: Float32Array.from([1, 2, 3, 4, 5, 6]), shape: [2, 3] });
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const headerLength = bytes[8] | (bytes[9] << 8);
    expect((10 + headerLength) % 64).toBe(0);
    const header = new TextDecoder('latin1').decode(bytes.subarray(10, 10 + headerLength));
    expect(header.trimEnd()).toBe("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
    expect(header.endsWith('\n')).toBe(true);
    expect(bytes.length).toBe(10 + headerLength + 24);
  });

  it('round-trips every dtype through encode and parse', () => {
    const cases = [
      { data: Float32Array.from([0.1, -2, 3e30, Number.NaN]), shape: [2, 2] },
      { data: Float64Array.from([Math.PI, -0, 1e-300]), shape: [3] },
      { data: BigInt64Array.from([-(2n ** 63n), 2n ** 53n + 1n, 0n]), shape: [1, 3] },
      { data: Int32Array.from([-(2 ** 31), 2 ** 31 - 1]), shape: [2, 1] },
      { data: Uint8Array.from([0, 128, 255]), shape: [3] },
    ];
    for (const c of cases) {
      const back = parseNpy(encodeNpy(c));
      expect(back.shape).toEqual(c.shape);
      expect(back.data.constructor).toBe(c.data.constructor);
      expect(Array.from(back.data as ArrayLike<number | bigint>)).toEqual(Array.from(c.data as ArrayLike<number | bigint>));
    }
    // A Node Buffer is a Uint8Array and writes as uint8.
    expect(Array.from(parseNpy(encodeNpy({ data: Buffer.from([9, 8]), shape: [2] })).data as Uint8Array)).toEqual([9, 8]);
  });

  it('rounds float32 to float16 to nearest, ties to even, overflowing to infinity', () => {
    const input = Float32Array.from([1, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 65504, 65519, 65520, 2 ** -25, 3 * 2 ** -25, -0.1]);
    const back = parseNpy(encodeNpy({ data: input, shape: [input.length], dtype: 'float16' }));
    expect(back.dtype).toBe('float16');
    // 1+2^-11 ties down to 1 (even); 1+3·2^-11 ties up to 1+2^-9; 65520 is the tie to 2^16 → ∞;
    // 2^-25 ties down to 0; 3·2^-25 rounds up to 2·2^-24.
    expect(Array.from(back.data as Float32Array)).toEqual([1, 1, 1 + 2 ** -9, 65504, 65504, Infinity, 0, 2 ** -23, Math.fround(-0.0999755859375)]);
  });

  it('switches to format 2.0 when the header exceeds 65535 bytes', () => {
    const shape = Array.from({ length: 25000 }, () => 1);
    const bytes = encodeNpy({ data: Float32Array.from([5]), shape });
    expect(bytes[6]).toBe(2);
    const back = parseNpy(bytes);
    expect(back.shape.length).toBe(25000);
    expect(Array.from(back.data as Float32Array)).toEqual([5]);
  });

  it('rejects a shape that does not match the data and a dtype that does not match the array', () => {
    expect(() => encodeNpy({ data: new Float32Array(5), shape: [2, 3] })).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
    expect(() => encodeNpy({ data: new Float64Array(2), shape: [2], dtype: 'float32' })).toThrow(/Float32Array/);
  });
});

describe('readNpy / writeNpy', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pentimento-npy-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips through a file and leaves no temporary files', async () => {
    const file = path.join(dir, 'noise.npy');
    const data = Float32Array.from({ length: 4 * 8 * 8 }, (_, i) => Math.sin(i));
    await writeNpy(file, { data, shape: [1, 4, 8, 8] });
    const back = await readNpy(file);
    expect(back.shape).toEqual([1, 4, 8, 8]);
    expect(Array.from(back.data as Float32Array)).toEqual(Array.from(data));
    expect(await readdir(dir)).toEqual(['noise.npy']);
  });

  it('names the file when it is missing or not an .npy', async () => {
    const missing = path.join(dir, 'nope.npy');
    await expect(readNpy(missing)).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringContaining(missing) });
    const junk = path.join(dir, 'junk.npy');
    await writeFile(junk, 'not numpy at all');
    await expect(readNpy(junk)).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringContaining(junk) });
  });

  it('reports IO_ERROR and writes nothing when the folder does not exist', async () => {
    const file = path.join(dir, 'missing-folder', 'x.npy');
    await expect(writeNpy(file, { data: new Float32Array(1), shape: [1] })).rejects.toMatchObject({ code: 'IO_ERROR' });
  });
});
