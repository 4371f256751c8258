/**
 * Loading and saving ONNX models, including external-data weights (location/offset/length).
 *
 * A loaded model keeps its external tensors external: only the protobuf is decoded, so a 3 GB
 * UNet loads in milliseconds. Derived models saved elsewhere keep pointing at the source's
 * weight files — through a hard link (or symlink, or as a last resort a copy) placed beside
 * the derived model, because onnxruntime refuses external data outside the model's folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PentimentoError } from '../errors';
import {
  DataType,
  bytesPerElement,
  decodeModel,
  elementCount,
  encodeModel,
  type ModelProto,
  type TensorProto,
} from './onnx';

export interface LoadedModel {
  model: ModelProto;
  /** Absolute path of the .onnx file. */
  path: string;
  /** Folder external-data locations are relative to. */
  dir: string;
}

export interface ExternalRef {
  location: string;
  offset: number;
  length: number;
}

export function isExternal(t: TensorProto): boolean {
  return t.dataLocation === 1;
}

export function externalRef(t: TensorProto): ExternalRef {
  const entries = new Map((t.externalData ?? []).map((e) => [e.key, e.value]));
  const location = entries.get('location');
  if (!location) throw new PentimentoError('BAD_MODEL', `tensor '${t.name}' is marked external but has no location`);
  const offset = Number(entries.get('offset') ?? 0);
  const length = entries.has('length')
    ? Number(entries.get('length'))
    : elementCount(t.dims.map(Number)) * bytesPerElement(t.dataType);
  return { location, offset, length };
}

function setExternalRef(t: TensorProto, ref: ExternalRef): void {
  t.dataLocation = 1;
  t.rawData = undefined;
  t.externalData = [
    { key: 'location', value: ref.location },
    { key: 'offset', value: String(ref.offset) },
    { key: 'length', value: String(ref.length) },
  ];
}

/** Reads and decodes an ONNX file; checks that every external-data file exists and is long enough. */
export function loadModel(file: string, opts: { checkExternalData?: boolean } = {}): LoadedModel {
  const abs = path.resolve(file);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new PentimentoError('MODEL_MISSING', `${file}: file not found.`);
    throw new PentimentoError('IO_ERROR', `${file}: cannot read (${(e as Error).message})`);
  }
  if (bytes.length === 0) throw new PentimentoError('BAD_MODEL', `${file}: the file is empty, not an ONNX model.`);
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    // protobufjs's messages ("index out of range", "invalid wire type") say where parsing stopped, not why.
    throw new PentimentoError(
      'BAD_MODEL',
      `${file}: not a valid ONNX model (its ${bytes.length} bytes do not parse as an ONNX protobuf: the file is truncated, damaged or not ONNX; the parser stopped with "${(e as Error).message}").`,
    );
  }
  if (!model.graph || (model.graph.node.length === 0 && model.graph.output.length === 0)) {
    throw new PentimentoError('BAD_MODEL', `${file}: not a valid ONNX model (it has no graph).`);
  }
  const loaded: LoadedModel = { model, path: abs, dir: path.dirname(abs) };
  if (opts.checkExternalData !== false) checkExternalData(loaded, file);
  return loaded;
}

/** Names the file and the tensor when an external weight file is missing or truncated. */
export function checkExternalData(loaded: LoadedModel, displayName = loaded.path): void {
  const sizes = new Map<string, number>();
  for (const t of loaded.model.graph.initializer) {
    if (!isExternal(t)) continue;
    const ref = externalRef(t);
    const file = path.resolve(loaded.dir, ref.location);
    let size = sizes.get(file);
    if (size === undefined) {
      try {
        size = fs.statSync(file).size;
      } catch {
        throw new PentimentoError(
          'BAD_MODEL',
          `${displayName}: its weights file '${ref.location}' is missing (expected at ${file}). ` +
            'Copy the complete model folder again.',
        );
      }
      sizes.set(file, size);
    }
    if (ref.offset + ref.length > size) {
      throw new PentimentoError(
        'BAD_MODEL',
        `${displayName}: its weights file '${ref.location}' is truncated: tensor '${t.name}' needs bytes ` +
          `${ref.offset}..${ref.offset + ref.length} but the file has ${size} bytes. Download the model again.`,
      );
    }
  }
}

/** The raw little-endian bytes of a tensor, from raw_data, typed fields or its external file. */
export function tensorBytes(t: TensorProto, dir: string): Uint8Array {
  if (isExternal(t)) {
    const ref = externalRef(t);
    const file = path.resolve(dir, ref.location);
    const out = Buffer.allocUnsafe(ref.length);
    const fd = fs.openSync(file, 'r');
    try {
      let done = 0;
      while (done < ref.length) {
        const n = fs.readSync(fd, out, done, ref.length - done, ref.offset + done);
        if (n === 0) throw new PentimentoError('BAD_MODEL', `${file}: truncated while reading tensor '${t.name}'`);
        done += n;
      }
    } finally {
      fs.closeSync(fd);
    }
    return out;
  }
  if (t.rawData && t.rawData.length > 0) return t.rawData;
  const n = elementCount(t.dims.map(Number));
  switch (t.dataType) {
    case DataType.FLOAT:
      return new Uint8Array(Float32Array.from(t.floatData ?? []).buffer);
    case DataType.DOUBLE:
      return new Uint8Array(Float64Array.from(t.doubleData ?? []).buffer);
    case DataType.INT64:
      return new Uint8Array(BigInt64Array.from((t.int64Data ?? []).map((v) => BigInt(v))).buffer);
    case DataType.INT32:
      return new Uint8Array(Int32Array.from(t.int32Data ?? []).buffer);
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
    case DataType.UINT16:
      return new Uint8Array(Uint16Array.from(t.int32Data ?? []).buffer);
    case DataType.INT16:
      return new Uint8Array(Int16Array.from(t.int32Data ?? []).buffer);
    case DataType.BOOL:
    case DataType.UINT8:
      return Uint8Array.from(t.int32Data ?? []);
    case DataType.INT8:
      return new Uint8Array(Int8Array.from(t.int32Data ?? []).buffer);
    default:
      if (n === 0) return new Uint8Array(0);
      throw new PentimentoError('BAD_MODEL', `tensor '${t.name}': unsupported data type ${t.dataType}`);
  }
}

export type TensorArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint16Array | Uint8Array | Int8Array | Int16Array;

/** A tensor's values as a typed array (fp16/bf16 as Uint16Array bits, bool as Uint8Array). */
export function tensorArray(t: TensorProto, dir: string): TensorArray {
  const b = tensorBytes(t, dir);
  // Copy so the view is aligned and owned.
  const buf = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  switch (t.dataType) {
    case DataType.FLOAT:
      return new Float32Array(buf);
    case DataType.DOUBLE:
      return new Float64Array(buf);
    case DataType.INT32:
      return new Int32Array(buf);
    case DataType.INT64:
      return new BigInt64Array(buf);
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
    case DataType.UINT16:
      return new Uint16Array(buf);
    case DataType.INT16:
      return new Int16Array(buf);
    case DataType.INT8:
      return new Int8Array(buf);
    default:
      return new Uint8Array(buf);
  }
}

/** Integer tensor values (shape constants, axes) as plain numbers. */
export function tensorNumbers(t: TensorProto, dir: string): number[] {
  const a = tensorArray(t, dir);
  return Array.from(a as ArrayLike<number | bigint>, (v) => Number(v));
}

export interface SaveOptions {
  /**
   * Write tensors whose data is at least `threshold` bytes (default 1024) to this external file,
   * relative to the model's folder. Without it, everything that is not already external is inlined.
   */
  externalData?: { location: string; threshold?: number };
  /** Folder that existing external locations are relative to (the source model's); default: target folder. */
  sourceDir?: string;
}

function linkOrCopy(src: string, dst: string): void {
  if (fs.existsSync(dst)) {
    const a = fs.statSync(src);
    const b = fs.statSync(dst);
    if (a.ino === b.ino && a.dev === b.dev) return;
    if (a.size === b.size && a.mtimeMs <= b.mtimeMs) return;
    fs.rmSync(dst);
  }
  try {
    fs.linkSync(src, dst);
  } catch {
    try {
      fs.symlinkSync(src, dst);
    } catch {
      fs.copyFileSync(src, dst);
    }
  }
}

const ALIGN = 64;

/**
 * Saves a model atomically (temporary files renamed into place), so an interrupted save never
 * leaves a partial model. External tensors of a source model in another folder are referenced
 * through links beside the saved model, not copied.
 */
export function saveModel(model: ModelProto, file: string, opts: SaveOptions = {}): void {
  const abs = path.resolve(file);
  const dir = path.dirname(abs);
  fs.mkdirSync(dir, { recursive: true });
  const sourceDir = opts.sourceDir ? path.resolve(opts.sourceDir) : dir;
  const threshold = opts.externalData?.threshold ?? 1024;
  const tmpFiles: [string, string][] = [];
  const linkNames = new Map<string, string>();

  // Rewrite tensors in a shallow copy of the initializer list so the caller's model is untouched.
  const initializers: TensorProto[] = [];
  let extFd: number | undefined;
  let extPath = '';
  let extOffset = 0;
  try {
    for (const t of model.graph.initializer) {
      if (isExternal(t)) {
        const ref = externalRef(t);
        const src = path.resolve(sourceDir, ref.location);
        if (path.dirname(src) === dir) {
          initializers.push(t);
          continue;
        }
        let local = linkNames.get(src);
        if (!local) {
          local = `${path.basename(path.dirname(src))}__${path.basename(src)}`;
          linkOrCopy(src, path.join(dir, local));
          linkNames.set(src, local);
        }
        const copy: TensorProto = { ...t };
        setExternalRef(copy, { ...ref, location: local });
        initializers.push(copy);
        continue;
      }
      const raw = opts.externalData ? tensorBytes(t, sourceDir) : undefined;
      if (opts.externalData && raw && raw.byteLength >= threshold) {
        if (extFd === undefined) {
          extPath = path.join(dir, opts.externalData.location);
          const tmp = `${extPath}.tmp-${process.pid}`;
          extFd = fs.openSync(tmp, 'w');
          tmpFiles.push([tmp, extPath]);
        }
        const pad = (ALIGN - (extOffset % ALIGN)) % ALIGN;
        if (pad) fs.writeSync(extFd, Buffer.alloc(pad));
        extOffset += pad;
        fs.writeSync(extFd, raw);
        const copy: TensorProto = { ...t, floatData: undefined, int32Data: undefined, int64Data: undefined, doubleData: undefined };
        setExternalRef(copy, { location: opts.externalData.location, offset: extOffset, length: raw.byteLength });
        extOffset += raw.byteLength;
        initializers.push(copy);
      } else {
        initializers.push(t);
      }
    }
    if (extFd !== undefined) fs.closeSync(extFd);
    extFd = undefined;
    const out: ModelProto = { ...model, graph: { ...model.graph, initializer: initializers } };
    const bytes = encodeModel(out);
    const tmpModel = `${abs}.tmp-${process.pid}`;
    fs.writeFileSync(tmpModel, bytes);
    tmpFiles.push([tmpModel, abs]);
    for (const [tmp, final] of tmpFiles) fs.renameSync(tmp, final);
  } catch (e) {
    if (extFd !== undefined) fs.closeSync(extFd);
    for (const [tmp] of tmpFiles) fs.rmSync(tmp, { force: true });
    throw e;
  }
}
