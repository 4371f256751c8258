import sharp from 'sharp';
import { badArgument } from '../errors';
import { checkRgbImage } from './RgbImage';

export interface PreviewPng {
  png: Buffer;
  width: number;
  height: number;
  /** `data:image/png;base64,…`, ready for an <img> in the renderer. */
  dataUrl: string;
}

/**
 * A small PNG of an intermediate result for progress display: the longer side shrunk to
 * maxSide (never enlarged), bilinear, light compression — speed over size and fidelity.
 */
export async function encodePreviewPng(rgb: Uint8Array, width: number, height: number, maxSide = 128): Promise<PreviewPng> {
  checkRgbImage(rgb, width, height);
  if (!Number.isInteger(maxSide) || maxSide < 1) throw badArgument(`maxSide must be a whole number ≥ 1, got ${maxSide}.`);
  const scale = Math.min(1, maxSide / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  let pipeline = sharp(rgb, { raw: { width, height, channels: 3 } });
  if (w !== width || h !== height) pipeline = pipeline.resize(w, h, { fit: 'fill', kernel: 'linear' });
  const png = await pipeline.png({ compressionLevel: 1, adaptiveFiltering: false }).toBuffer();
  return { png, width: w, height: h, dataUrl: `data:image/png;base64,${png.toString('base64')}` };
}
