/**
 * Luma in [0, 1] with ITU-R BT.601 weights (0.299 R + 0.587 G + 0.114 B), the conversion of
 * OpenCV's COLOR_RGB2GRAY, which ControlNet's annotators and evaluation scripts use.
 */
export function grayFromRgb(rgb: Uint8Array, width: number, height: number): Float32Array {
  const n = width * height;
  const gray = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    gray[i] = (0.299 * rgb[i * 3] + 0.587 * rgb[i * 3 + 1] + 0.114 * rgb[i * 3 + 2]) / 255;
  }
  return gray;
}

/** A one-channel map (values 0…255) as RGB with equal channels. */
export function rgbFromGray(gray: ArrayLike<number>, width: number, height: number): Uint8Array {
  const n = width * height;
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const v = Math.min(255, Math.max(0, Math.round(gray[i])));
    rgb[i * 3] = v;
    rgb[i * 3 + 1] = v;
    rgb[i * 3 + 2] = v;
  }
  return rgb;
}
