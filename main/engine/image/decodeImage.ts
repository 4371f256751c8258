import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import sharp, { type Metadata } from 'sharp';
import { PentimentoError } from '../errors';

export type ImageSource = string | Uint8Array;
export type SourceFormat = 'png' | 'jpeg' | 'webp' | 'tiff' | 'avif' | 'gif';

export interface DecodeOptions {
  /**
   * Largest width × height accepted, checked from the header before any pixel is decoded.
   * Default 8192 × 8192 ≈ 67 Mpx: above any camera Pentimento targets, while the decoded
   * RGBA stays near 256 MiB.
   */
  maxPixels?: number;
  /** Largest file read into memory. Default 1 GiB. */
  maxFileBytes?: number;
  /**
   * libvips' strictness (sharp's `failOn`). Default 'error': truncated or corrupt pixel data
   * is refused, while benign encoder warnings that many camera JPEGs trigger are tolerated.
   */
  failOn?: 'truncated' | 'error' | 'warning';
  /** Name used in error messages when the source is a Buffer. */
  name?: string;
}

export const DEFAULT_MAX_PIXELS = 8192 * 8192;
export const DEFAULT_MAX_FILE_BYTES = 1024 ** 3;

export interface DecodedImage {
  /** 8-bit sRGB, HWC, 3 channels or 4 when the source had alpha. */
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3 | 4;
  sourceFormat: SourceFormat;
  /** The encoded bytes, for callers that read metadata chunks. */
  encoded: Buffer;
}

const SUPPORTED = 'PNG, JPEG, WebP, TIFF, AVIF or GIF';

const badImage = (message: string, details?: Record<string, unknown>) =>
  new PentimentoError('BAD_IMAGE', message, details);

/**
 * Reads and decodes an image to 8-bit sRGB with EXIF orientation applied. Every failure is
 * a BAD_IMAGE naming the file; nothing is decoded before the header's size passes the pixel
 * limit, so a decompression bomb costs a header parse.
 */
export async function decodeImage(source: ImageSource, options: DecodeOptions = {}): Promise<DecodedImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const name = typeof source === 'string' ? source : (options.name ?? 'the image data');
  const encoded = typeof source === 'string' ? await readImageFile(source, options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES) : Buffer.from(source.buffer, source.byteOffset, source.byteLength);
  if (encoded.length === 0) throw badImage(`${name} is empty (0 bytes). Choose another image file.`, { source: name });

  let meta: Metadata;
  try {
    // Header only; sharp's own pixel limit is lifted here so the message below can give the size.
    meta = await sharp(encoded, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw fromSharpError(e, name);
  }
  const sourceFormat = supportedFormat(meta, name);
  const { width, height } = meta;
  if (!width || !height) throw badImage(`${name} has no readable size in its header; it is corrupt.`, { source: name });
  if (width * height > maxPixels) {
    const mpx = (n: number) => (n / 1e6).toFixed(1);
    throw badImage(
      `${name} is ${width}×${height} (${mpx(width * height)} megapixels), above the pixel limit of ` +
        `${maxPixels} pixels (${mpx(maxPixels)} megapixels). Downscale it below the limit and open it again.`,
      { source: name, width, height, maxPixels },
    );
  }

  try {
    const { data, info } = await sharp(encoded, {
      autoOrient: true,
      failOn: options.failOn ?? 'error',
      limitInputPixels: maxPixels,
    })
      // CMYK, grey, 16-bit and ICC-tagged sources all arrive as 8-bit sRGB (+ alpha).
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if ((info.channels !== 3 && info.channels !== 4) || data.length !== info.width * info.height * info.channels) {
      throw new Error(`decoder returned ${info.channels} channels for ${info.width}×${info.height}`);
    }
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
      channels: info.channels,
      sourceFormat,
      encoded,
    };
  } catch (e) {
    throw badImage(`${name} is corrupt or truncated (${errorText(e)}). Re-export or re-download it.`, { source: name });
  }
}

async function readImageFile(path: string, maxFileBytes: number): Promise<Buffer> {
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw badImage(`${path} is a folder, not an image file.`, { source: path });
    if (s.size > maxFileBytes) {
      throw badImage(`${path} is ${s.size} bytes, over the ${maxFileBytes}-byte limit for an image file.`, { source: path });
    }
    return await readFile(path);
  } catch (e) {
    if (e instanceof PentimentoError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw badImage(`${path} was not found. Check the path; the file may have been moved or deleted.`, { source: path });
    }
    throw new PentimentoError('IO_ERROR', `Could not read ${path}: ${errorText(e)}`, { source: path });
  }
}

function supportedFormat(meta: Metadata, name: string): SourceFormat {
  switch (meta.format) {
    case 'png':
    case 'jpeg':
    case 'webp':
    case 'tiff':
    case 'gif':
      return meta.format;
    case 'heif':
      if (meta.compression === 'av1') return 'avif';
      throw badImage(`${name} is HEIC (HEVC-compressed), which this build cannot decode. Convert it to ${SUPPORTED}.`, { source: name });
    default:
      throw badImage(`${name} is a ${meta.format} file; Pentimento opens ${SUPPORTED}.`, { source: name, format: meta.format });
  }
}

function fromSharpError(e: unknown, name: string): PentimentoError {
  const text = errorText(e);
  if (/unsupported image format/i.test(text)) {
    return badImage(`${name} is not an image: its contents match none of ${SUPPORTED}. ${hint(name)}`, { source: name });
  }
  return badImage(`${name} is not a readable image (${text}). It may be corrupt or truncated.`, { source: name });
}

function hint(name: string): string {
  return name.includes('.') ? `Check that ${basename(name)} really is an image (its extension may be wrong).` : 'Choose an image file.';
}

/**
 * The decoder's message on one line, without a trailing ':' left by an empty detail (libvips says
 * "Input buffer has corrupt header:" for a truncated file), so a message quoting it ends cleanly.
 */
function errorText(e: unknown): string {
  return (e instanceof Error ? e.message : String(e))
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\s*:$/, '');
}
