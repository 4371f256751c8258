/**
 * A diffusers ONNX folder, validated and described before any session is created:
 *
 *   model_index.json
 *   text_encoder/model.onnx   unet/model.onnx   vae_encoder/model.onnx   vae_decoder/model.onnx
 *     (each may carry external weights beside it, e.g. model.onnx_data / weights.pb;
 *      vae_encoder/ may be absent: text-to-image never encodes a photo)
 *   tokenizer/vocab.json + merges.txt
 *   scheduler/scheduler_config.json
 *
 * Everything reported here comes from the files: the UNet's sample channels (9 = inpainting),
 * its batch dimension, the cross-attention width, the VAE encoder's output kind and scaling.
 */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PentimentoError } from '../errors';
import { externalRef, isExternal, loadModel } from '../graph/ModelIO';
import { valueShape, type ModelProto, type ValueInfoProto } from '../graph/onnx';

/** The four graph parts, named as in model_index.json. */
export type PartName = 'text_encoder' | 'unet' | 'vae_encoder' | 'vae_decoder';
export const PART_NAMES: readonly PartName[] = ['text_encoder', 'unet', 'vae_encoder', 'vae_decoder'];

/** SD 1.x's VAE latent scale (diffusers' AutoencoderKL default `scaling_factor`). */
export const DEFAULT_VAE_SCALING = 0.18215;

/**
 * .onnx files larger than this hold their weights inline (no external data to check), and
 * decoding a multi-gigabyte protobuf only to read input shapes costs seconds and memory;
 * onnxruntime validates those when it opens them.
 */
const DECODE_LIMIT_BYTES = 256 * 1024 * 1024;

export interface ModelPart {
  name: PartName;
  /** Absolute path of model.onnx. */
  file: string;
  /** External weight files it references (absolute paths). */
  weightFiles: string[];
  /** Declared graph inputs and outputs, when the file was small enough to decode. */
  inputs?: { name: string; shape: (number | string)[] | undefined }[];
  outputs?: { name: string; shape: (number | string)[] | undefined }[];
}

export interface ModelDescription {
  dir: string;
  name: string;
  /** sha256 (first 16 hex digits) — see `contentHash`. */
  hash: string;
  /** model_index.json says `"pentimento": { "testModel": true }`: random weights, not a real model. */
  isTestModel: boolean;
  /** The UNet's sample input has 9 channels: latent (4) + mask (1) + masked-image latent (4). */
  inpaintingUnet: boolean;
  unetInChannels: number;
  /** Width of encoder_hidden_states (768 for SD 1.x). */
  crossAttentionWidth: number;
  /** Largest batch the UNet accepts: Infinity when its batch dimension is symbolic. */
  unetMaxBatch: number;
  vaeScalingFactor: number;
  /** 4: the encoder returns a latent sample; 8: mean and log-variance (Pentimento uses the mean). */
  vaeEncoderOutputChannels: number;
  /** vae_encoder/model.onnx is there; without it only text-to-image runs. */
  hasVaeEncoder: boolean;
}

export interface ModelFolder extends ModelDescription {
  /** Every part; `vae_encoder` is absent when the folder has none (see hasVaeEncoder). */
  parts: Record<Exclude<PartName, 'vae_encoder'>, ModelPart> & { vae_encoder?: ModelPart };
  tokenizerDir: string;
  schedulerConfigFile: string;
  modelIndex: Record<string, unknown>;
}

function missing(file: string, what: string): PentimentoError {
  return new PentimentoError(
    'MODEL_MISSING',
    `${file} is missing: ${what}. Copy the complete diffusers ONNX model folder (with text_encoder/, unet/, ` +
      'vae_decoder/, tokenizer/, scheduler/ and, for photo edits, vae_encoder/).',
    { file, incompleteFolder: true },
  );
}

function readJson(file: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw missing(file, what);
    throw new PentimentoError('IO_ERROR', `${file}: cannot read (${(e as Error).message}).`, { file });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new PentimentoError('BAD_MODEL', `${file} is not valid JSON (${(e as Error).message}). Download the model again.`, { file });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PentimentoError('BAD_MODEL', `${file} should hold a JSON object. Download the model again.`, { file });
  }
  return value as Record<string, unknown>;
}

function requireFile(file: string, what: string): void {
  if (!fs.existsSync(file)) throw missing(file, what);
}

function describeValues(values: readonly ValueInfoProto[]) {
  return values.map((v) => ({ name: v.name, shape: valueShape(v) }));
}

function openPart(dir: string, name: PartName): ModelPart {
  const file = path.join(dir, name, 'model.onnx');
  requireFile(file, `the ${name} graph`);
  const model = decodeIfSmall(file);
  if (!model) return { name, file, weightFiles: [] };
  return {
    name,
    file,
    weightFiles: weightFilesOf(model, path.dirname(file)),
    inputs: describeValues(model.graph.input),
    outputs: describeValues(model.graph.output),
  };
}

/** The decoded graph, or undefined when the file is too large to decode (see DECODE_LIMIT_BYTES). */
function decodeIfSmall(file: string): ModelProto | undefined {
  if (fs.statSync(file).size > DECODE_LIMIT_BYTES) return undefined;
  // loadModel checks that every external weight file exists and is long enough, naming it.
  return loadModel(file).model;
}

function weightFilesOf(model: ModelProto, dir: string): string[] {
  const files = new Set<string>();
  for (const t of model.graph.initializer) if (isExternal(t)) files.add(path.resolve(dir, externalRef(t).location));
  return [...files].sort();
}

/**
 * A fast identity for the folder's contents: sha256 over model_index.json, each part's .onnx
 * bytes (the graph; small when the weights are external), and each external weight file's
 * name, size and WEIGHT_SAMPLES evenly spaced samples of its bytes (first and last included;
 * hashing gigabytes of weights would take minutes). Only content enters it, never file times, so
 * the same model hashes the same on every machine and after a copy — which output PNGs rely on
 * to be byte-identical across machines.
 */
export function contentHash(dir: string, parts: readonly ModelPart[]): string {
  const h = createHash('sha256');
  h.update(fs.readFileSync(path.join(dir, 'model_index.json')));
  for (const part of parts) {
    h.update(`\0${part.name}\0`);
    hashGraph(h, dir, part.file, part.weightFiles);
  }
  return h.digest('hex').slice(0, 16);
}

/**
 * The same identity for one .onnx graph (a ControlNet): its bytes and its external weight files'
 * names (relative to the graph's folder), sizes and samples. Independent of where the file lies.
 */
export function graphContentHash(file: string): string {
  const model = decodeIfSmall(file);
  const h = createHash('sha256');
  hashGraph(h, path.dirname(file), file, model ? weightFilesOf(model, path.dirname(file)) : []);
  return h.digest('hex').slice(0, 16);
}

function hashGraph(h: Hash, dir: string, file: string, weightFiles: readonly string[]): void {
  hashFile(h, file);
  for (const w of weightFiles) {
    h.update(`\0${path.relative(dir, w).split(path.sep).join('/')}\0`);
    hashSamples(h, w);
  }
}

const WEIGHT_SAMPLES = 64;
const SAMPLE_BYTES = 16 * 1024;

/** Feeds a file's size and WEIGHT_SAMPLES slices of SAMPLE_BYTES, evenly spaced from its start to its end. */
function hashSamples(h: Hash, file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    h.update(`${size}\0`);
    const buf = Buffer.allocUnsafe(SAMPLE_BYTES);
    const last = Math.max(0, size - SAMPLE_BYTES);
    for (let i = 0; i < WEIGHT_SAMPLES; i++) {
      const offset = Math.floor((last * i) / (WEIGHT_SAMPLES - 1));
      const n = fs.readSync(fd, buf, 0, SAMPLE_BYTES, offset);
      h.update(buf.subarray(0, n));
      if (last === 0) break;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Feeds a file to the hash in chunks: inline-weight graphs can be gigabytes. */
function hashFile(h: Hash, file: string): void {
  const chunk = Buffer.allocUnsafe(4 * 1024 * 1024);
  const fd = fs.openSync(file, 'r');
  try {
    for (let n; (n = fs.readSync(fd, chunk, 0, chunk.length, null)) > 0; ) h.update(chunk.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
}

const dim = (shape: (number | string)[] | undefined, i: number): number | string | undefined => shape?.[i];

/** A component's config.json value when the folder has one (diffusers exports often do). */
function configNumber(dir: string, part: string, key: string): number | undefined {
  const file = path.join(dir, part, 'config.json');
  if (!fs.existsSync(file)) return undefined;
  const v = readJson(file, `the ${part} configuration`)[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Throws MODEL_MISSING unless `dir` is an existing folder; a file is named as one. */
export function checkModelDir(dir: string): void {
  if (!fs.existsSync(dir)) {
    throw new PentimentoError('MODEL_MISSING', `Model folder ${dir} does not exist. Pass the folder of a diffusers ONNX export.`, { file: dir });
  }
  if (!fs.statSync(dir).isDirectory()) {
    throw new PentimentoError(
      'MODEL_MISSING',
      `${dir} is a file, not a model folder. Pass the folder of a diffusers ONNX export (the one holding model_index.json).`,
      { file: dir },
    );
  }
}

/** The parts whose graphs must be there: every one but the VAE encoder (see hasVaeEncoder). */
const REQUIRED_PARTS = PART_NAMES.filter((n) => n !== 'vae_encoder');

/**
 * A generated test model is regenerated, not downloaded: a broken one's error says to delete it
 * instead of pointing at a download (the embedded one is regenerated on next use by itself).
 */
function inTestModel(e: unknown, dir: string): unknown {
  if (!(e instanceof PentimentoError) || (e.code !== 'BAD_MODEL' && e.code !== 'MODEL_MISSING')) return e;
  const stripped = e.message.replace(/\s*(Download the model again|Copy the complete model folder again|Copy the complete diffusers ONNX model folder).*$/s, '');
  const what = /[.!?]$/.test(stripped) ? stripped : `${stripped}.`;
  return new PentimentoError(
    e.code,
    `${what} ${dir} is a generated test model (pentimento.testModel): delete the folder and it is regenerated — ` +
      'the embedded one on next use, others with npm run models -- … --force.',
    e.details,
  );
}

/**
 * Opens and validates a model folder; throws MODEL_MISSING / BAD_MODEL naming the file. A file
 * missing from a user's folder also says how to run the embedded test model instead: leave out
 * `option`, the flag that named the folder (the CLIs' --model, npm run web's --model-dir).
 */
export function openModelFolder(dirArg: string, option = '--model'): ModelFolder {
  const dir = path.resolve(dirArg);
  checkModelDir(dir);
  let isTestModel = false;
  try {
    const modelIndex = readJson(path.join(dir, 'model_index.json'), 'the diffusers model index');
    const meta = modelIndex.pentimento as Record<string, unknown> | undefined;
    isTestModel = typeof meta === 'object' && meta !== null && meta.testModel === true;
    return openParts(dir, modelIndex, meta, isTestModel);
  } catch (e) {
    if (isTestModel) throw inTestModel(e, dir);
    if (e instanceof PentimentoError && e.details?.incompleteFolder === true) {
      const { incompleteFolder: _, ...details } = e.details;
      throw new PentimentoError(e.code, `${e.message.replace(/\.$/, '')}, or leave out ${option} to use the embedded test model.`, details);
    }
    throw e;
  }
}

function openParts(dir: string, modelIndex: Record<string, unknown>, meta: Record<string, unknown> | undefined, isTestModel: boolean): ModelFolder {
  const tokenizerDir = path.join(dir, 'tokenizer');
  requireFile(path.join(tokenizerDir, 'vocab.json'), 'the CLIP tokenizer vocabulary');
  requireFile(path.join(tokenizerDir, 'merges.txt'), 'the CLIP tokenizer merge rules');
  const schedulerConfigFile = path.join(dir, 'scheduler', 'scheduler_config.json');
  requireFile(schedulerConfigFile, 'the scheduler configuration');
  // Presence first, so a missing part is reported before a slow decode of another.
  for (const name of REQUIRED_PARTS) requireFile(path.join(dir, name, 'model.onnx'), `the ${name} graph`);
  const hasVaeEncoder = fs.existsSync(path.join(dir, 'vae_encoder', 'model.onnx'));
  const parts: ModelFolder['parts'] = {
    text_encoder: openPart(dir, 'text_encoder'),
    unet: openPart(dir, 'unet'),
    ...(hasVaeEncoder ? { vae_encoder: openPart(dir, 'vae_encoder') } : {}),
    vae_decoder: openPart(dir, 'vae_decoder'),
  };

  const unetInputs = parts.unet.inputs ?? [];
  const rank4 = unetInputs.find((i) => i.shape?.length === 4);
  const rank3 = unetInputs.find((i) => i.shape?.length === 3);
  const channels = dim(rank4?.shape, 1);
  const unetInChannels = typeof channels === 'number' ? channels : (configNumber(dir, 'unet', 'in_channels') ?? 4);
  if (unetInChannels !== 4 && unetInChannels !== 9) {
    throw new PentimentoError(
      'BAD_MODEL',
      `${parts.unet.file}: the UNet's sample has ${unetInChannels} channels; Pentimento runs Stable Diffusion 1.x UNets with 4 (or 9 for inpainting).`,
      { file: parts.unet.file },
    );
  }
  const width = dim(rank3?.shape, 2);
  const crossAttentionWidth = typeof width === 'number' ? width : (configNumber(dir, 'unet', 'cross_attention_dim') ?? 768);
  const batch = dim(rank4?.shape, 0);
  const unetMaxBatch = typeof batch === 'number' && batch > 0 ? batch : Infinity;

  const encOut = (parts.vae_encoder?.outputs ?? []).find((o) => o.shape?.length === 4);
  const encChannels = dim(encOut?.shape, 1);
  const vaeEncoderOutputChannels = typeof encChannels === 'number' ? encChannels : 4;
  if (vaeEncoderOutputChannels !== 4 && vaeEncoderOutputChannels !== 8) {
    throw new PentimentoError(
      'BAD_MODEL',
      `${parts.vae_encoder?.file}: the VAE encoder returns ${vaeEncoderOutputChannels} channels; expected 4 (a latent) or 8 (mean and log-variance).`,
      { file: parts.vae_encoder?.file },
    );
  }
  const vaeScalingFactor =
    configNumber(dir, 'vae_decoder', 'scaling_factor') ?? configNumber(dir, 'vae_encoder', 'scaling_factor') ?? DEFAULT_VAE_SCALING;

  // A generated test model is named by its preset, not by where it happens to be cached.
  const name =
    (typeof meta?.name === 'string' && meta.name) ||
    (isTestModel && typeof meta?.preset === 'string' && `pentimento-test-${meta.preset}`) ||
    (typeof modelIndex._name_or_path === 'string' && modelIndex._name_or_path) ||
    path.basename(dir);

  return {
    dir,
    name,
    hash: contentHash(dir, PART_NAMES.flatMap((n) => parts[n] ?? [])),
    isTestModel,
    inpaintingUnet: unetInChannels === 9,
    unetInChannels,
    crossAttentionWidth,
    unetMaxBatch,
    vaeScalingFactor,
    vaeEncoderOutputChannels,
    hasVaeEncoder,
    parts,
    tokenizerDir,
    schedulerConfigFile,
    modelIndex,
  };
}
