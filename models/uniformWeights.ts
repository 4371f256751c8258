import { Rng } from '../main/engine/util/random';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const TWO_POW_MINUS_24 = 2 ** -24;

/** FNV-1a over the UTF-16 code units of a parameter name. */
function nameHash(name: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME) >>> 0;
  }
  return h;
}

/**
 * `count` values uniform in [center − bound, center + bound), drawn from a Philox stream keyed by
 * (seed, parameter name). Keying by name rather than drawing from one shared stream makes every
 * tensor independent of the order layers are built in, so variants of one seed (fp16, torch-style
 * naming, 4 or 9 input channels) share all the weights they have in common.
 */
export function uniformWeights(seed: number, name: string, count: number, bound: number, center = 0): Float32Array {
  const rng = new Rng((BigInt(nameHash(name)) << 32n) | BigInt(seed >>> 0));
  const out = new Float32Array(count);
  const scale = 2 * bound * TWO_POW_MINUS_24;
  const offset = center - bound;
  // 24 bits per value: every u·2^-24 is exact in float32, so the result is the same everywhere.
  for (let i = 0; i < count; i++) out[i] = offset + (rng.nextUint32() >>> 8) * scale;
  return out;
}
