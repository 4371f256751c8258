/**
 * Finite-difference check of a derived VJP model: along random directions v, the analytic
 * Σ⟨∂L/∂x, v⟩ (from the VJP model, L = ⟨cotangent, f(x)⟩) must match the central difference
 * (L(x + hv) − L(x − hv)) / 2h evaluated with the source model in onnxruntime.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import { encodeModel, DataType, type ModelProto } from '../../../main/engine/graph/onnx';
import { saveModel } from '../../../main/engine/graph/ModelIO';
import { vjp } from '../../../main/engine/graph/vjp';

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(rand() + 1e-300)) * Math.cos(2 * Math.PI * rand());
}

export type FloatArray = Float32Array | Float64Array;

export function floatTensor(type: 'float32' | 'float64', data: ArrayLike<number>, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor(type, type === 'float64' ? Float64Array.from(data) : Float32Array.from(data), dims);
}

/** Opens a model from memory, or — when it references external weights in `sourceDir` — saved beside links to them. */
export async function session(model: ModelProto, sourceDir?: string, name = 'model.onnx'): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'disabled' };
  if (!sourceDir) return ort.InferenceSession.create(encodeModel(model), options);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-grad-')), name);
  saveModel(model, file, { sourceDir });
  return ort.InferenceSession.create(file, options);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export interface GradCheckOptions {
  wrt?: string[];
  of?: string[];
  /** Concrete shapes for inputs (required where the declared shape is symbolic). */
  shapes?: Record<string, number[]>;
  /** Fixed feeds (integer inputs, conditions). */
  feeds?: Record<string, ort.Tensor>;
  /** Inputs drawn from [0.5, 2] instead of N(0, 1) (logs, roots, divisors). */
  positive?: string[];
  /** Inputs drawn with well-separated values (max/min, relu kinks): N(0,1) rounded to multiples of 0.25 plus a small offset. */
  separated?: string[];
  directions?: number;
  h?: number;
  tol?: number;
  seed?: number;
  /** Folder of the source model's external weights (whole-model checks). */
  sourceDir?: string;
  /** Richardson-extrapolated differences, (4·D(h/2) − D(h))/3: O(h⁴) truncation, so h can stay large against float32 rounding. */
  richardson?: boolean;
}

export interface GradCheckResult {
  maxRelErr: number;
  grads: Record<string, ort.Tensor>;
  derived: ModelProto;
}

/** Derives the VJP model, runs it, and compares against central differences; expects agreement. */
export async function gradCheck(model: ModelProto, opts: GradCheckOptions = {}): Promise<GradCheckResult> {
  const g = model.graph;
  const rand = rng(opts.seed ?? 1234);
  const isDouble = g.input.some((v) => v.type?.tensorType?.elemType === DataType.DOUBLE);
  const ftype = isDouble ? 'float64' : 'float32';
  const floatInputs = g.input.filter((v) => {
    const t = v.type?.tensorType?.elemType;
    return (t === DataType.FLOAT || t === DataType.DOUBLE) && !opts.feeds?.[v.name];
  });
  const wrt = opts.wrt ?? floatInputs.map((v) => v.name);
  const of = opts.of ?? g.output.map((v) => v.name);

  const feeds: Record<string, ort.Tensor> = { ...opts.feeds };
  for (const v of floatInputs) {
    const dims = opts.shapes?.[v.name] ?? v.type!.tensorType!.shape!.dim.map((d) => Number(d.dimValue));
    const n = dims.reduce((p, d) => p * d, 1);
    const data = Array.from({ length: n }, () => {
      if (opts.positive?.includes(v.name)) return 0.5 + 1.5 * rand();
      if (opts.separated?.includes(v.name)) return Math.round(normal(rand) * 4) / 4 + 0.05 * rand() + 0.02;
      return normal(rand);
    });
    feeds[v.name] = floatTensor(ftype, data, dims);
  }

  const source = await session(model, opts.sourceDir, 'source.onnx');
  const base = await source.run(feeds);
  const cot: Record<string, ort.Tensor> = {};
  for (const o of of) cot[o] = floatTensor(ftype, Array.from({ length: base[o].data.length }, () => normal(rand)), base[o].dims);
  const loss = async (f: Record<string, ort.Tensor>) => {
    const out = await source.run(f);
    return of.reduce((s, o) => s + dot(out[o].data as FloatArray, cot[o].data as FloatArray), 0);
  };

  const derived = vjp(model, { wrt, of });
  const dsess = await session(derived, opts.sourceDir, 'derived.onnx');
  const dfeeds = { ...feeds };
  for (const o of of) dfeeds[`${o}_grad`] = cot[o];
  const dout = await dsess.run(dfeeds);
  for (const o of of) {
    expect(Array.from(dout[o].data as FloatArray)).toEqual(Array.from(base[o].data as FloatArray));
  }
  const grads: Record<string, ort.Tensor> = {};
  for (const w of wrt) {
    grads[w] = dout[`${w}_grad`];
    expect(grads[w].dims).toEqual(feeds[w].dims);
    expect(grads[w].type).toBe(ftype);
  }

  const h = opts.h ?? (isDouble ? 1e-6 : 1e-2);
  const tol = opts.tol ?? (isDouble ? 1e-6 : 2e-2);
  // ⟨∂L/∂x, v⟩ with v ~ N(0, I) has spread ‖∂L/∂x‖: errors are measured against that scale too,
  // so a direction nearly orthogonal to the gradient does not turn rounding into a failure.
  const gradNorm = Math.sqrt(wrt.reduce((s, w) => s + dot(grads[w].data as FloatArray, grads[w].data as FloatArray), 0));
  let maxRelErr = 0;
  for (let k = 0; k < (opts.directions ?? 3); k++) {
    const v: Record<string, number[]> = {};
    let analytic = 0;
    for (const w of wrt) {
      v[w] = Array.from({ length: feeds[w].data.length }, () => normal(rand));
      analytic += dot(grads[w].data as FloatArray, v[w]);
    }
    const central = async (step: number) => {
      const plus = { ...feeds };
      const minus = { ...feeds };
      for (const w of wrt) {
        const x = feeds[w].data as FloatArray;
        plus[w] = floatTensor(ftype, Array.from(x, (xi, i) => xi + step * v[w][i]), feeds[w].dims);
        minus[w] = floatTensor(ftype, Array.from(x, (xi, i) => xi - step * v[w][i]), feeds[w].dims);
      }
      return ((await loss(plus)) - (await loss(minus))) / (2 * step);
    };
    const numeric = opts.richardson ? (4 * (await central(h / 2)) - (await central(h))) / 3 : await central(h);
    const err = Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), Math.abs(numeric), gradNorm, 1e-9);
    maxRelErr = Math.max(maxRelErr, err);
    expect(err, `direction ${k}: analytic ${analytic} vs numeric ${numeric}`).toBeLessThan(tol);
  }
  await source.release();
  await dsess.release();
  return { maxRelErr, grads, derived };
}
