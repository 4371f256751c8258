/** Random feeds for the generated test UNet, typed from its own input declarations. */
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadModel, saveModel, type LoadedModel } from '../../../main/engine/graph/ModelIO';
import { DataType, type ModelProto } from '../../../main/engine/graph/onnx';
import { normal, rng } from './gradCheck';

export function randomFloat32(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => normal(r) * scale);
}

export function unetFeeds(unet: ModelProto, opts: { batch?: number; size?: number; seq?: number; seed?: number } = {}) {
  const batch = opts.batch ?? 1;
  const size = opts.size ?? 8;
  const seq = opts.seq ?? 5;
  const seed = opts.seed ?? 7;
  const ctxDim = Number(unet.graph.input.find((v) => v.name === 'encoder_hidden_states')!.type!.tensorType!.shape!.dim[2].dimValue);
  const timestepType = unet.graph.input.find((v) => v.name === 'timestep')!.type!.tensorType!.elemType;
  const timestep =
    timestepType === DataType.INT64
      ? new ort.Tensor('int64', BigInt64Array.from({ length: batch }, () => 500n), [batch])
      : new ort.Tensor('float32', Float32Array.from({ length: batch }, () => 500), [batch]);
  return {
    sample: new ort.Tensor('float32', randomFloat32(batch * 4 * size * size, seed), [batch, 4, size, size]),
    timestep,
    encoder_hidden_states: new ort.Tensor('float32', randomFloat32(batch * seq * ctxDim, seed + 1), [batch, seq, ctxDim]),
  };
}

/** Saves a derived model beside a copy-free link to the source weights and opens it in onnxruntime. */
export async function openDerived(derived: ModelProto, source: LoadedModel, dir: string, name = 'model.onnx') {
  const file = path.join(dir, name);
  saveModel(derived, file, { sourceDir: source.dir });
  return ort.InferenceSession.create(file);
}

export function maxAbsDiff(a: ort.Tensor, b: ort.Tensor): number {
  const x = a.data as Float32Array;
  const y = b.data as Float32Array;
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

export { loadModel };
