import { badArgument } from '../../errors';
import { parseConditionType, type ConditionType } from '../ConditionType';

/** One `--control MODEL,type=TYPE,image=PATH[,raw][,scale=F][,start=F][,end=F]`. */
export interface ControlSpec {
  /** ControlNet .onnx file or folder. */
  model: string;
  type: ConditionType;
  /** The photo to extract the condition from, or the condition map itself when `raw`. */
  image: string;
  raw: boolean;
  scale: number;
  start: number;
  end: number;
}

const KEYS = ['type', 'image', 'raw', 'scale', 'start', 'end'] as const;
export const CONTROL_SPEC_FORMAT = 'MODEL,type=TYPE,image=PATH[,raw][,scale=F][,start=F][,end=F]';

function numberIn(spec: string, key: string, text: string, min: number, max: number): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < min || v > max) {
    const range = Number.isFinite(max) ? `a number from ${min} to ${max}` : 'a number';
    throw badArgument(`--control ${spec}: ${key} is "${text}"; give ${range}.`);
  }
  return v;
}

/** Parses one --control value; every mistake is named with the expected format. */
export function parseControlSpec(spec: string): ControlSpec {
  const [model, ...parts] = spec.split(',');
  if (!model || model.includes('=')) throw badArgument(`--control ${spec}: start with the ControlNet (a .onnx file or folder), as ${CONTROL_SPEC_FORMAT}.`);
  const seen = new Map<string, string | undefined>();
  for (const part of parts) {
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim();
    const value = eq < 0 ? undefined : part.slice(eq + 1);
    if (!(KEYS as readonly string[]).includes(key)) {
      throw badArgument(`--control ${spec}: unknown key "${key}"; use ${KEYS.join(', ')} (${CONTROL_SPEC_FORMAT}).`);
    }
    if (seen.has(key)) throw badArgument(`--control ${spec}: ${key} is given twice.`);
    if (key === 'raw' ? value !== undefined : value === undefined) {
      throw badArgument(key === 'raw' ? `--control ${spec}: raw takes no value.` : `--control ${spec}: ${key} needs a value (${key}=...).`);
    }
    seen.set(key, value);
  }
  const type = seen.get('type');
  if (type === undefined) throw badArgument(`--control ${spec}: type=TYPE is missing (canny, depth, segmentation, lineart, softedge).`);
  const image = seen.get('image');
  if (!image) throw badArgument(`--control ${spec}: image=PATH is missing: the photo to extract the condition from (or the condition map, with raw).`);
  const start = seen.has('start') ? numberIn(spec, 'start', seen.get('start')!, 0, 1) : 0;
  const end = seen.has('end') ? numberIn(spec, 'end', seen.get('end')!, 0, 1) : 1;
  if (start >= end) throw badArgument(`--control ${spec}: start ${start} must be before end ${end}.`);
  return {
    model,
    type: parseConditionType(type),
    image,
    raw: seen.has('raw'),
    scale: seen.has('scale') ? numberIn(spec, 'scale', seen.get('scale')!, -Infinity, Infinity) : 1,
    start,
    end,
  };
}
