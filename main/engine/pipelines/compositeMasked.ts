/**
 * Pastes the generated pixels into the photo through a feathered mask:
 * out = m̃·generated + (1 − m̃)·photo, m̃ = the mask blurred by a Gaussian of σ = `blur` px.
 *
 * The VAE round trip is lossy (and with the test model's attention, every latent touches every
 * pixel), so without this step "unmasked" pixels would drift. Pixels farther than ⌈3σ⌉ from
 * any masked pixel come back bit-exact from the photo; the feather hides the seam.
 */
/** Default feather of the paste-back edge: Gaussian σ in pixels (inpainting and inversion edits). */
export const DEFAULT_MASK_BLUR = 4;

export function compositeMasked(
  photo: Uint8Array,
  generated: Uint8Array,
  mask: Float32Array,
  width: number,
  height: number,
  blur: number,
): Uint8Array {
  const m = blur > 0 ? gaussianBlur(mask, width, height, blur) : mask;
  const out = new Uint8Array(photo.length);
  for (let p = 0; p < width * height; p++) {
    const w = Math.min(1, Math.max(0, m[p]));
    for (let c = 0; c < 3; c++) {
      const i = p * 3 + c;
      out[i] = w === 0 ? photo[i] : w === 1 ? generated[i] : Math.round(w * generated[i] + (1 - w) * photo[i]);
    }
  }
  return out;
}

/** Separable Gaussian blur, kernel radius ⌈3σ⌉, edges clamped. Exact zeros stay zero far from the mask. */
export function gaussianBlur(src: Float32Array, width: number, height: number, sigma: number): Float32Array {
  const r = Math.ceil(3 * sigma);
  const k = new Float64Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let i = -r; i <= r; i++) s += k[i + r] * src[y * width + Math.min(width - 1, Math.max(0, x + i))];
      tmp[y * width + x] = s;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let i = -r; i <= r; i++) s += k[i + r] * tmp[Math.min(height - 1, Math.max(0, y + i)) * width + x];
      out[y * width + x] = s;
    }
  }
  return out;
}
