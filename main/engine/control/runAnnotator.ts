import fs from 'node:fs';
import { PentimentoError } from '../errors';
import { resizeRgb } from '../image/resizeRgb';
import type { RgbImage } from '../image/RgbImage';
import { OnnxRuntime, type ModelSession } from '../runtime/OnnxRuntime';
import { ANNOTATOR_SOURCES, annotatorFile, type AnnotatorType } from './annotatorSlots';
import { ADE20K_CLASS_COUNT } from './ade20kPalette';

export interface AnnotatorOptions {
  /** Models folder; the annotator is read from `<modelsDir>/annotators/` (see annotatorSlots). */
  modelsDir?: string;
  /** Runtime to open the session on; without one a CPU-or-GPU runtime is made and disposed. */
  runtime?: OnnxRuntime;
}

/** An annotator's raw output: `channels` planes of width × height (CHW), at the size it was run at. */
export interface AnnotatorOutput {
  data: Float32Array;
  channels: number;
  width: number;
  height: number;
}

const EXPECTED_CHANNELS: Record<AnnotatorType, number> = { depth: 1, segmentation: ADE20K_CLASS_COUNT, lineart: 1, softedge: 1 };

/** Dynamic spatial sizes are fed at multiples of 64, which every annotator backbone divides. */
function roundTo64(v: number): number {
  return Math.max(64, Math.round(v / 64) * 64);
}

function missingModel(type: AnnotatorType, file: string, modelsDir?: string): PentimentoError {
  const where = modelsDir ? file : `<models>/annotators/${file.split(/[\\/]/).pop()}`;
  return new PentimentoError(
    'MODEL_MISSING',
    `The ${type} condition needs an annotator model at ${where}, which is missing. Put there ${ANNOTATOR_SOURCES[type]}; its input is [1,3,H,W] RGB in 0…1${modelsDir ? '' : ' (pass the models folder, e.g. --models DIR)'}.`,
    { type, file: where },
  );
}

/** Feed size: the graph's fixed H, W when it declares them, else the photo's size rounded to 64. */
function feedSize(session: ModelSession, image: RgbImage): { width: number; height: number } {
  const input = session.inputs[0];
  const shape = input.shape;
  if (session.inputs.length !== 1 || !shape || shape.length !== 4 || (typeof shape[1] === 'number' && shape[1] !== 3)) {
    throw new PentimentoError(
      'BAD_MODEL',
      `${session.file}: an annotator takes one input [1,3,H,W] (RGB in 0…1); this one takes ${session.inputs.map((i) => `${i.name} [${i.shape?.join(', ') ?? '?'}]`).join(', ')}.`,
      { file: session.file },
    );
  }
  const h = typeof shape[2] === 'number' && shape[2] > 0 ? shape[2] : roundTo64(image.height);
  const w = typeof shape[3] === 'number' && shape[3] > 0 ? shape[3] : roundTo64(image.width);
  return { width: w, height: h };
}

/** Output dims as [C, h, w] from [1,C,h,w], [1,h,w] or [h,w]. */
function planes(dims: number[], file: string): [number, number, number] {
  if (dims.length === 4 && dims[0] === 1) return [dims[1], dims[2], dims[3]];
  if (dims.length === 3 && dims[0] === 1) return [1, dims[1], dims[2]];
  if (dims.length === 2) return [1, dims[0], dims[1]];
  throw new PentimentoError('BAD_MODEL', `${file}: an annotator's first output must be [1,C,H,W], [1,H,W] or [H,W]; got [${dims.join(', ')}].`, { file });
}

/**
 * Runs the annotator of `type` on a photo. Conventions of the slots: one input [1,3,H,W], RGB in
 * 0…1 (any further normalisation is part of the exported graph); fixed H, W are honoured by
 * resizing the photo, dynamic ones get the photo's size rounded to multiples of 64; the first
 * output is read — 1 channel for depth, lineart and soft edge, 150 ADE20K logits for segmentation —
 * at the size the model made it (the caller resizes the finished condition, which for
 * segmentation is far cheaper than resampling 150 logit planes).
 */
export async function runAnnotator(type: AnnotatorType, image: RgbImage, options: AnnotatorOptions = {}): Promise<AnnotatorOutput> {
  const file = annotatorFile(options.modelsDir ?? '.', type);
  if (!options.modelsDir || !fs.existsSync(file)) throw missingModel(type, file, options.modelsDir);
  const runtime = options.runtime ?? new OnnxRuntime();
  const session = await runtime.createSession(file);
  try {
    const size = feedSize(session, image);
    const fed = await resizeRgb(image, size.width, size.height);
    const n = size.width * size.height;
    const chw = new Float32Array(3 * n);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 3; c++) chw[c * n + i] = fed.rgb[i * 3 + c] / 255;
    }
    const outputs = await session.run({ [session.inputs[0].name]: { data: chw, dims: [1, 3, size.height, size.width] } }, [session.outputs[0].name]);
    const out = outputs[session.outputs[0].name];
    const [channels, h, w] = planes(out.dims, file);
    if (channels !== EXPECTED_CHANNELS[type]) {
      throw new PentimentoError(
        'BAD_MODEL',
        `${file}: the ${type} annotator must output ${EXPECTED_CHANNELS[type]} channel${EXPECTED_CHANNELS[type] === 1 ? '' : 's'}, this one outputs ${channels}.`,
        { file, channels },
      );
    }
    return { data: out.data, channels, width: w, height: h };
  } finally {
    await session.dispose();
    if (!options.runtime) await runtime.dispose();
  }
}
