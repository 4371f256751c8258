import { base64ToBytes, bytesToBase64 } from '../api/base64';
import { MaskRaster } from './MaskRaster';

/** The mask as the engine wants it: an opaque grey PNG, white = regenerate, black = keep. */
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

/** A saved mask PNG back into a raster of the photo's size (the red channel of a grey PNG is its value). */
export async function maskFromPng(pngBase64: string, width: number, height: number): Promise<MaskRaster> {
  const bitmap = await createImageBitmap(new Blob([base64ToBytes(pngBase64)], { type: 'image/png' }), {
    colorSpaceConversion: 'none',
    premultiplyAlpha: 'none',
  });
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const mask = new MaskRaster(width, height);
  for (let i = 0; i < mask.data.length; i++) mask.data[i] = rgba[4 * i];
  return mask;
}
