/**
 * numpy's legacy `np.random.RandomState(seed).randn(n)`, re-implemented so tests can rebuild the
 * noisy images of published scikit-image reference values: MT19937 seeded by init_genrand
 * (Matsumoto & Nishimura 1998; numpy's mt19937_seed), 53-bit doubles from two 32-bit words
 * ((a >>> 5)·2^26 + (b >>> 6))·2^-53, and normals by the Marsaglia polar method, returning f·x2
 * first and keeping f·x1 for the next call (numpy's legacy_gauss).
 */
export function numpyRandn(seed: number, count: number): Float64Array {
  const N = 624;
  const M = 397;
  const mt = new Uint32Array(N);
  mt[0] = seed >>> 0;
  for (let i = 1; i < N; i++) {
    const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
    mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
  }
  let index = N;
  const nextUint32 = (): number => {
    if (index >= N) {
      for (let k = 0; k < N; k++) {
        const y = (mt[k] & 0x80000000) | (mt[(k + 1) % N] & 0x7fffffff);
        mt[k] = mt[(k + M) % N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      index = 0;
    }
    let y = mt[index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  };
  const nextDouble = () => ((nextUint32() >>> 5) * 67108864 + (nextUint32() >>> 6)) / 9007199254740992;
  const out = new Float64Array(count);
  let cached: number | undefined;
  for (let i = 0; i < count; i++) {
    if (cached !== undefined) {
      out[i] = cached;
      cached = undefined;
      continue;
    }
    let x1: number;
    let x2: number;
    let r2: number;
    do {
      x1 = 2 * nextDouble() - 1;
      x2 = 2 * nextDouble() - 1;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1 || r2 === 0);
    const f = Math.sqrt((-2 * Math.log(r2)) / r2);
    cached = f * x1;
    out[i] = f * x2;
  }
  return out;
}
