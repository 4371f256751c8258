import { badArgument } from '../errors';

/**
 * Seeded, portable random numbers: the same seed gives bit-identical floats on every machine.
 *
 * Integer stream: Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy
 * as 1, 2, 3", SC'11; reference implementation Random123). The 64-bit key is the seed
 * (k0 = low 32 bits, k1 = high 32 bits); the 128-bit counter starts at 0 and is incremented by
 * one per block (word 0 least significant). Each block yields its four output words in order
 * x0, x1, x2, x3. Only 32-bit integer arithmetic is involved, so the stream is exact everywhere.
 *
 * Uniforms: `uniform()` takes two words a, b and returns ((a >>> 5)·2^26 + (b >>> 6)) · 2^-53,
 * a double in [0, 1) on a 53-bit grid (the construction of MT19937's genrand_res53).
 *
 * Normals: Marsaglia's polar method on pairs of uniforms u = 2·uniform() − 1, v = 2·uniform() − 1
 * (exact, since uniform() is a multiple of 2^-53): reject while s = u² + v² ≥ 1 or s = 0, then
 * f = √(−2·ln(s)/s) and the method yields u·f, then v·f. `ln` is computed below from IEEE basic
 * operations only (not Math.log, whose last bit is implementation-defined in ECMAScript), and
 * √ is IEEE-754 square root, which every engine rounds correctly. Every operation on the path is
 * therefore correctly rounded double arithmetic, so the normals are identical across platforms
 * and JS engines. Float32 outputs are those doubles rounded to nearest float32.
 */

// Philox4x32 multipliers and Weyl key increments (Random123, philox.h).
const PHILOX_M0 = 0xd2511f53;
const PHILOX_M1 = 0xcd9e8d57;
const PHILOX_W0 = 0x9e3779b9;
const PHILOX_W1 = 0xbb67ae85;
const PHILOX_ROUNDS = 10;

const TWO_POW_26 = 67108864;
const TWO_POW_53 = 9007199254740992;
const TWO_POW_32 = 4294967296;
const MAX_BIGINT_SEED = (1n << 64n) - 1n;

export type Seed = number | bigint;

/** High 32 bits of the 64-bit product a·b of two uint32 values, from 16-bit limbs (each partial product < 2^32, exact in a double). */
function mulhi32(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const t0 = al * bl;
  const t1 = ah * bl + (t0 >>> 16);
  const t2 = al * bh + (t1 & 0xffff);
  return (ah * bh + (t1 >>> 16) + (t2 >>> 16)) >>> 0;
}

/**
 * One Philox4x32-10 block: the bijection of `counter` under `key` (both read, `out` written).
 * Exposed for known-answer tests against Random123's kat_vectors.
 */
export function philox4x32(counter: ArrayLike<number>, key: ArrayLike<number>, out: Uint32Array = new Uint32Array(4)): Uint32Array {
  let c0 = counter[0] >>> 0;
  let c1 = counter[1] >>> 0;
  let c2 = counter[2] >>> 0;
  let c3 = counter[3] >>> 0;
  let k0 = key[0] >>> 0;
  let k1 = key[1] >>> 0;
  for (let round = 0; round < PHILOX_ROUNDS; round++) {
    if (round > 0) {
      k0 = (k0 + PHILOX_W0) >>> 0;
      k1 = (k1 + PHILOX_W1) >>> 0;
    }
    const hi0 = mulhi32(PHILOX_M0, c0);
    const lo0 = Math.imul(PHILOX_M0, c0) >>> 0;
    const hi1 = mulhi32(PHILOX_M1, c2);
    const lo1 = Math.imul(PHILOX_M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
  return out;
}

// ln 2 split so that e·LN2_HI is exact for |e| < 2^11 (the classic Cody–Waite constants).
const LN2_HI = 6.93147180369123816490e-1;
const LN2_LO = 1.90821492927058770002e-10;
const SQRT_HALF = Math.SQRT1_2;

const logScratch = new DataView(new ArrayBuffer(8));

/**
 * Natural logarithm of a positive normal double from basic IEEE operations only:
 * x = m·2^e with m ∈ [√½, √2), ln m = 2·atanh(f) with f = (m−1)/(m+1), |f| ≤ 0.1716, summed as
 * the odd series 2(f + f³/3 + … + f²¹/21) (truncation < 2^-55 relative). Accuracy is a few ulp;
 * what matters here is that the result is the same bit pattern on every IEEE-754 machine.
 */
export function portableLog(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return x === 0 ? -Infinity : Number.NaN;
  logScratch.setFloat64(0, x);
  const hi = logScratch.getUint32(0);
  let e = ((hi >>> 20) & 0x7ff) - 1023;
  if (e === -1023) {
    // Subnormal: scale into the normal range first (exact, a power of two).
    return portableLog(x * TWO_POW_53) - 53 * LN2_HI - 53 * LN2_LO;
  }
  logScratch.setUint32(0, (hi & 0x800fffff) | 0x3ff00000);
  let m = logScratch.getFloat64(0);
  if (m > Math.SQRT2) {
    m *= 0.5;
    e += 1;
  }
  if (m < SQRT_HALF) {
    m *= 2;
    e -= 1;
  }
  const f = (m - 1) / (m + 1);
  const f2 = f * f;
  let series = 1 / 21;
  for (let k = 19; k >= 1; k -= 2) series = 1 / k + f2 * series;
  return e * LN2_HI + (e * LN2_LO + 2 * f * series);
}

/** Validates a seed and splits it into the two 32-bit Philox key words. */
function seedToKey(seed: Seed): [number, number] {
  if (typeof seed === 'bigint') {
    if (seed < 0n || seed > MAX_BIGINT_SEED) {
      throw badArgument(`Seed ${seed} is out of range: use an integer from 0 to 2^64−1.`, { seed: String(seed) });
    }
    return [Number(seed & 0xffffffffn), Number(seed >> 32n)];
  }
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw badArgument(`Seed ${String(seed)} is not valid: use an integer from 0 to 2^53−1.`, { seed: String(seed) });
  }
  return [seed % TWO_POW_32, Math.floor(seed / TWO_POW_32)];
}

export class Rng {
  private readonly key: [number, number];
  private readonly counter = new Uint32Array(4);
  private readonly block = new Uint32Array(4);
  private blockPos = 4;
  private spareNormal: number | null = null;

  constructor(seed: Seed) {
    this.key = seedToKey(seed);
  }

  nextUint32(): number {
    if (this.blockPos === 4) {
      philox4x32(this.counter, this.key, this.block);
      this.incrementCounter();
      this.blockPos = 0;
    }
    return this.block[this.blockPos++];
  }

  /** Double in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * TWO_POW_26 + b) / TWO_POW_53;
  }

  /** Standard normal double (polar method; see the module comment for the exact definition). */
  normal(): number {
    if (this.spareNormal !== null) {
      const spare = this.spareNormal;
      this.spareNormal = null;
      return spare;
    }
    for (;;) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s >= 1 || s === 0) continue;
      const f = Math.sqrt((-2 * portableLog(s)) / s);
      this.spareNormal = v * f;
      return u * f;
    }
  }

  /** Fills `out` with standard normals in order, each rounded to float32. */
  fillNormal(out: Float32Array): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.normal();
    return out;
  }

  private incrementCounter(): void {
    for (let i = 0; i < 4; i++) {
      this.counter[i] = (this.counter[i] + 1) >>> 0;
      if (this.counter[i] !== 0) return;
    }
  }
}

/** A C-order tensor of standard normals from a fresh `Rng(seed)`. */
export function randomNormal(shape: readonly number[], seed: Seed): Float32Array {
  let size = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw badArgument(`Shape [${shape.join(', ')}] is not valid: every dimension must be a non-negative integer.`, { shape });
    }
    size *= d;
  }
  if (!Number.isSafeInteger(size)) throw badArgument(`Shape [${shape.join(', ')}] has too many elements.`, { shape });
  const rng = new Rng(seed);
  return rng.fillNormal(new Float32Array(size));
}
