import { bytesToBase64 } from '../api/base64';
import type { MaskRaster } from './MaskRaster';

/** The mask as the engine wants it: an opaque PNG, white = regenerate, black = keep. */
export async function maskToPng(mask: MaskRaster): Promise<string> {
  const canvas = document.createElement('canvas');
  canvas.width = mask.width;
  canvas.height = mask.height;
  const pixels = new ImageData(mask.width, mask.height);
  for (let i = 0; i < mask.data.length; i++) {
    const v = mask.data[i];
    pixels.data[4 * i] = v;
    pixels.data[4 * i + 1] = v;
    pixels.data[4 * i + 2] = v;
    pixels.data[4 * i + 3] = 255;
  }
  canvas.getContext('2d')!.putImageData(pixels, 0, 0);
  const blob = await new Promise<Blob>((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('The mask could not be encoded as PNG.'))), 'image/png'),
  );
  return bytesToBase64(new Uint8Array(await blob.arrayBuffer()));
}
