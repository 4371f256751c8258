import { describe, expect, it } from 'vitest';
import { philox4x32, portableLog, randomNormal, Rng } from '../../../main/engine/util/random';

const hex = (words: string) => words.trim().split(/\s+/).map((w) => parseInt(w, 16));

// An independent Philox4x32-10 written with BigInt products, to check the 16-bit-limb mulhi.
function philoxBig(counter: number[], key: number[]): number[] {
  const M0 = 0xd2511f53n;
  const M1 = 0xcd9e8d57n;
  let [c0, c1, c2, c3] = counter.map(BigInt);
  let [k0, k1] = key.map(BigInt);
  const mask = 0xffffffffn;
  for (let r = 0; r < 10; r++) {
    const p0 = M0 * c0;
    const p1 = M1 * c2;
    [c0, c1, c2, c3] = [(p1 >> 32n) ^ c1 ^ k0, p1 & mask, (p0 >> 32n) ^ c3 ^ k1, p0 & mask];
    k0 = (k0 + 0x9e3779b9n) & mask;
    k1 = (k1 + 0xbb67ae85n) & mask;
  }
  return [c0, c1, c2, c3].map(Number);
}

describe('philox4x32', () => {
  // Random123 kat_vectors, philox4x32 with 10 rounds: counter (4 words), key (2 words) → output.
  it.each([
    ['00000000 00000000 00000000 00000000', '00000000 00000000', '6627e8d5 e169c58d bc57ac4c 9b00dbd8'],
    ['ffffffff ffffffff ffffffff ffffffff', 'ffffffff ffffffff', '408f276d 41c83b0e a20bc7c6 6d5451fd'],
    ['243f6a88 85a308d3 13198a2e 03707344', 'a4093822 299f31d0', 'd16cfe09 94fdcceb 5001e420 24126ea1'],
  ])('matches the Random123 known answer for counter %s, key %s', (ctr, key, expected) => {
    expect(Array.from(philox4x32(hex(ctr), hex(key)))).toEqual(hex(expected));
  });

  it('agrees with a BigInt implementation on pseudo-random counters and keys', () => {
    const words = new Rng(7);
    for (let i = 0; i < 300; i++) {
      const ctr = [words.nextUint32(), words.nextUint32(), words.nextUint32(), words.nextUint32()];
      const key = [words.nextUint32(), words.nextUint32()];
      expect(Array.from(philox4x32(ctr, key))).toEqual(philoxBig(ctr, key));
    }
  });
});

describe('Rng', () => {
  it('streams Philox blocks for counters 0, 1, 2, … under the key (seed low word, seed high word)', () => {
    const seed = 2 ** 32 * 3 + 5;
    const rng = new Rng(seed);
    const got = Array.from({ length: 12 }, () => rng.nextUint32());
    const expected = [0, 1, 2].flatMap((c) => philoxBig([c, 0, 0, 0], [5, 3]));
    expect(got).toEqual(expected);
  });

  it('treats a bigint seed like the same number, and accepts 64-bit bigint seeds', () => {
    const a = new Rng(123456789);
    const b = new Rng(123456789n);
    for (let i = 0; i < 8; i++) expect(a.nextUint32()).toBe(b.nextUint32());
    const big = new Rng((0xdeadbeefn << 32n) | 0x01234567n);
    expect(big.nextUint32()).toBe(philoxBig([0, 0, 0, 0], [0x01234567, 0xdeadbeef])[0]);
  });

  it('forms uniforms as ((a >>> 5)·2^26 + (b >>> 6))·2^-53 from consecutive words', () => {
    const words = new Rng(99);
    const rng = new Rng(99);
    for (let i = 0; i < 100; i++) {
      const a = words.nextUint32() >>> 5;
      const b = words.nextUint32() >>> 6;
      const u = rng.uniform();
      expect(u).toBe((a * 2 ** 26 + b) / 2 ** 53);
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
    }
  });

  it('forms normals by the polar method from those uniforms', () => {
    const uniforms = new Rng(5);
    const rng = new Rng(5);
    for (let pair = 0; pair < 200; pair++) {
      let u: number, v: number, s: number;
      do {
        u = 2 * uniforms.uniform() - 1;
        v = 2 * uniforms.uniform() - 1;
        s = u * u + v * v;
      } while (s >= 1 || s === 0);
      const f = Math.sqrt((-2 * Math.log(s)) / s);
      // Math.log may differ from portableLog in the last bit; the values agree to ~1e-15.
      expect(rng.normal()).toBeCloseTo(u * f, 12);
      expect(rng.normal()).toBeCloseTo(v * f, 12);
    }
  });

  it('gives identical sequences for the same seed and different ones for different seeds', () => {
    const a = new Rng(2024).fillNormal(new Float32Array(1000));
    const b = new Rng(2024).fillNormal(new Float32Array(1000));
    const c = new Rng(2025).fillNormal(new Float32Array(1000));
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(a.filter((x, i) => x === c[i]).length).toBeLessThan(5);
  });

  it('samples a standard normal: moments and the 1σ mass over 10^6 draws', () => {
    const n = 1_000_000;
    const xs = new Rng(1).fillNormal(new Float32Array(n));
    let m1 = 0;
    let m2 = 0;
    let m4 = 0;
    let within = 0;
    for (const x of xs) {
      m1 += x;
      m2 += x * x;
      m4 += x ** 4;
      if (Math.abs(x) < 1) within++;
    }
    m1 /= n;
    m2 /= n;
    m4 /= n;
    // Standard errors: mean 1e-3, variance 1.4e-3, 4th moment ~1e-2, 1σ mass 4.7e-4; allow ~5 SE.
    expect(Math.abs(m1)).toBeLessThan(5e-3);
    expect(Math.abs(m2 - 1)).toBeLessThan(7e-3);
    expect(Math.abs(m4 - 3)).toBeLessThan(5e-2);
    expect(Math.abs(within / n - 0.6826894921)).toBeLessThan(2.5e-3);
  });

  it.each([-1, 1.5, 2 ** 53, Number.NaN, Infinity, -1n, 1n << 64n])('rejects seed %s with BAD_ARGUMENT', (seed) => {
    expect(() => new Rng(seed as number | bigint)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });

  it('accepts the largest safe integer seed', () => {
    expect(() => new Rng(2 ** 53 - 1).normal()).not.toThrow();
  });
});

describe('portableLog', () => {
  it('is exact at powers of two and 1, and within 2 ulp of Math.log elsewhere', () => {
    expect(portableLog(1)).toBe(0);
    expect(portableLog(0.5)).toBeCloseTo(-Math.LN2, 15);
    const rng = new Rng(3);
    for (let i = 0; i < 20000; i++) {
      const x = rng.uniform() * 2 ** (Math.floor(rng.uniform() * 200) - 100) || 1e-300;
      const ref = Math.log(x);
      expect(Math.abs(portableLog(x) - ref)).toBeLessThanOrEqual(2 * Number.EPSILON * Math.max(Math.abs(ref), 1));
    }
  });

  it('handles the edges: 0 → −∞, negatives and NaN → NaN, subnormals', () => {
    expect(portableLog(0)).toBe(-Infinity);
    expect(portableLog(-1)).toBeNaN();
    expect(portableLog(Number.NaN)).toBeNaN();
    expect(portableLog(5e-324)).toBeCloseTo(Math.log(5e-324), 10);
  });
});

describe('randomNormal', () => {
  it('fills a C-order tensor of the shape from a fresh Rng(seed)', () => {
    const t = randomNormal([1, 4, 8, 8], 42);
    expect(t.length).toBe(256);
    expect(Array.from(t)).toEqual(Array.from(new Rng(42).fillNormal(new Float32Array(256))));
  });

  it('rejects bad shapes', () => {
    expect(() => randomNormal([2, -1], 0)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
    expect(() => randomNormal([2.5], 0)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });
});
