/**
 * A ControlNet ONNX export: (sample, timestep, encoder_hidden_states, controlnet_cond
 * [, conditioning_scale]) → 12 down-block residuals + 1 mid-block residual, which the UNet adds
 * to its skip connections and mid-block output. Exporters differ in input and output names and
 * in whether the scale is an input, so inputs are found by rank and role and outputs by order
 * and shape (see residualLayout); without a scale input the residuals are scaled here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PentimentoError, badArgument } from '../errors';
import { graphContentHash } from '../model/ModelFolder';
import type { FeedTensor, ModelSession, OnnxRuntime, OutputTensor, TensorInfo } from '../runtime/OnnxRuntime';
import type { ControlTarget } from './controlnet/controlTarget';
import { RESIDUAL_COUNT, orderResiduals, residualLabel, residualSpatialSize, slotsToList, type ResidualSlots } from './controlnet/residualLayout';

export interface ControlNetInput {
  /** The UNet's latent input x_t (scaled by the scheduler), [B, 4, h, w]; without inpainting channels. */
  sample: Float32Array;
  sampleDims: readonly number[];
  timestep: number;
  /** Text embeddings [B, 77, width]. */
  context: Float32Array;
  contextDims: readonly number[];
  /** The condition [1 or B, 3, 8h, 8w] in 0…1 (see conditionTensor); one image is repeated over the batch. */
  condition: Float32Array;
  conditionDims: readonly number[];
  /** conditioning_scale: the residuals are multiplied by it. */
  scale: number;
}

export type ControlResiduals = ResidualSlots<OutputTensor>;

const describeInfos = (infos: readonly TensorInfo[]) =>
  infos.map((i) => `${i.name} (${i.dtype}${i.shape ? ` [${i.shape.join(', ')}]` : ''})`).join(', ') || 'none';

const dimOf = (info: TensorInfo | undefined, i: number): number | undefined => {
  const d = info?.shape?.[i];
  return typeof d === 'number' && d > 0 ? d : undefined;
};

/** `file` itself when it is an .onnx file, else `file/model.onnx` or `file/controlnet/model.onnx`. */
export function resolveControlNetFile(file: string): string {
  const abs = path.resolve(file);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(abs);
  } catch {
    throw new PentimentoError('MODEL_MISSING', `ControlNet ${abs} does not exist; pass a ControlNet .onnx file or a folder holding model.onnx.`, { file: abs });
  }
  if (stat.isFile()) return abs;
  const candidates = [path.join(abs, 'model.onnx'), path.join(abs, 'controlnet', 'model.onnx')];
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) {
    throw new PentimentoError('MODEL_MISSING', `The folder ${abs} holds no ControlNet: expected ${candidates.join(' or ')}.`, { file: abs });
  }
  return found;
}

/** See ControlNet.name. */
export function controlNetName(file: string): string {
  if (path.basename(file) !== 'model.onnx') return path.basename(file, path.extname(file));
  const dir = path.dirname(file);
  return path.basename(dir) === 'controlnet' ? path.basename(path.dirname(dir)) : path.basename(dir);
}

export class ControlNet {
  readonly sample: TensorInfo;
  readonly timestep: TensorInfo;
  readonly context: TensorInfo;
  readonly condition: TensorInfo;
  /** conditioning_scale, when the graph takes it. */
  readonly scaleInput: TensorInfo | undefined;
  /** The 13 residual outputs in diffusers' order. */
  readonly outputs: ResidualSlots<TensorInfo>;
  /** ControlNet calls made (tests count skipped steps with it). */
  calls = 0;

  constructor(readonly session: ModelSession) {
    const file = session.file;
    const inputs = session.inputs;
    const rank = (r: number) => inputs.filter((i) => i.shape?.length === r);
    const rank4 = rank(4);
    const condition =
      rank4.find((i) => /cond|control|hint|image/i.test(i.name)) ?? rank4.find((i) => dimOf(i, 1) === 3) ?? rank4[1];
    const sample = rank4.find((i) => i !== condition);
    const context = rank(3).length === 1 ? rank(3)[0] : inputs.find((i) => /hidden|encoder|context/i.test(i.name));
    const rest = inputs.filter((i) => i !== sample && i !== condition && i !== context);
    const scale = rest.find((i) => /scale/i.test(i.name)) ?? (rest.length === 2 ? rest[1] : undefined);
    const timestep = rest.find((i) => i !== scale);
    if (rank4.length !== 2 || !sample || !condition || !context || !timestep || rest.length > 2) {
      throw new PentimentoError(
        'BAD_MODEL',
        `${file}: expected a ControlNet with inputs sample, timestep, encoder_hidden_states, controlnet_cond and optionally conditioning_scale, found ${describeInfos(inputs)}.`,
        { file },
      );
    }
    const residualOutputs = session.outputs.filter((o) => o.shape === undefined || o.shape.length === 4);
    this.outputs = orderResiduals(residualOutputs, `The ControlNet ${file}`);
    this.sample = sample;
    this.timestep = timestep;
    this.context = context;
    this.condition = condition;
    this.scaleInput = scale;
  }

  /** Opens a ControlNet .onnx file (or a folder holding model.onnx) on `runtime`. */
  static async open(runtime: OnnxRuntime, file: string): Promise<ControlNet> {
    const session = await runtime.createSession(resolveControlNetFile(file));
    try {
      return new ControlNet(session);
    } catch (e) {
      await session.dispose();
      throw e;
    }
  }

  get file(): string {
    return this.session.file;
  }

  /**
   * A name that does not depend on where it is installed: its folder's name (the folder above
   * controlnet/ for a model folder layout), or the file's name without .onnx when it is not model.onnx.
   */
  get name(): string {
    return controlNetName(this.file);
  }

  private hash: string | undefined;

  /** sha256 (first 16 hex digits) of the graph and its weights, as a model folder's (see graphContentHash). */
  get contentHash(): string {
    this.hash ??= graphContentHash(this.file);
    return this.hash;
  }

  get crossAttentionDim(): number | undefined {
    return dimOf(this.context, 2);
  }

  get latentChannels(): number | undefined {
    return dimOf(this.sample, 1);
  }

  /** Declared channels of each residual output (undefined where symbolic). */
  get residualChannels(): (number | undefined)[] {
    return slotsToList(this.outputs).map((o) => dimOf(o, 1));
  }

  /**
   * Throws BAD_MODEL naming both models unless this ControlNet's cross-attention width, latent
   * channels and residual channels are those the UNet declares.
   */
  checkFits(target: ControlTarget): void {
    const problems: string[] = [];
    const differ = (a: number | undefined, b: number | undefined) => a !== undefined && b !== undefined && a !== b;
    if (differ(this.crossAttentionDim, target.crossAttentionDim)) {
      problems.push(`cross-attention width ${this.crossAttentionDim} vs the UNet's ${target.crossAttentionDim}`);
    }
    if (differ(this.latentChannels, target.latentChannels)) {
      problems.push(`latent channels ${this.latentChannels} vs the UNet's ${target.latentChannels}`);
    }
    const theirs = slotsToList(target.residuals).map((i) => dimOf(i, 1));
    this.residualChannels.forEach((c, i) => {
      if (differ(c, theirs[i])) problems.push(`${residualLabel(i)} has ${c} channels vs the UNet's ${theirs[i]}`);
    });
    if (problems.length) throw this.misfit(target, problems);
  }

  private misfit(target: ControlTarget, problems: string[]): PentimentoError {
    return new PentimentoError(
      'BAD_MODEL',
      `The ControlNet ${this.file} does not fit the UNet ${target.file}: ${problems.join('; ')}. ` +
        'Use a ControlNet trained for this base model (SD1.5 ControlNets: cross-attention width 768).',
      { controlnet: this.file, unet: target.file, problems },
    );
  }

  /** Timestep as declared: scalar, [1] or one per batch item; integer graphs get t rounded. */
  private timestepFeed(t: number, batch: number): FeedTensor {
    const value = this.timestep.dtype.startsWith('int') ? Math.round(t) : t;
    const shape = this.timestep.shape;
    if (!shape || shape.length === 0) return { data: [value], dims: [] };
    const n = typeof shape[0] === 'number' ? shape[0] : batch;
    return { data: new Array(n).fill(value), dims: [n] };
  }

  private scaleFeed(scale: number): FeedTensor {
    const shape = this.scaleInput?.shape;
    return shape && shape.length === 1 ? { data: [scale], dims: [1] } : { data: [scale], dims: [] };
  }

  /** Largest batch the graph takes (1 when the export fixed it). */
  private get maxBatch(): number {
    return dimOf(this.sample, 0) ?? Infinity;
  }

  /**
   * The residuals for one denoising step, already multiplied by `scale`. Their shapes are checked
   * against the latent's (and against `target`'s residual inputs when given): an export whose
   * outputs are not in diffusers' order fails here rather than adding noise to the wrong skips.
   */
  async residuals(input: ControlNetInput, target?: ControlTarget): Promise<ControlResiduals> {
    const [batch, , h, w] = input.sampleDims;
    const [condBatch, condChannels, condH, condW] = input.conditionDims;
    if (condChannels !== 3 || condH !== 8 * h || condW !== 8 * w || (condBatch !== 1 && condBatch !== batch)) {
      throw badArgument(
        `The condition for ${this.file} is [${input.conditionDims.join(', ')}] but the ${8 * w}×${8 * h} generation needs [1, 3, ${8 * h}, ${8 * w}]; resize the condition to the generation size.`,
      );
    }
    if (!Number.isFinite(input.scale)) throw badArgument(`ControlNet scale ${input.scale} is not a finite number.`);
    const per = batch <= this.maxBatch ? batch : 1;
    const parts: OutputTensor[][] = [];
    for (let start = 0; start < batch; start += per) parts.push(await this.runSlice(input, start, per));
    const list = parts.length === 1 ? parts[0] : parts[0].map((_, k) => concatBatch(parts.map((p) => p[k])));
    if (!this.scaleInput && input.scale !== 1) {
      for (const t of list) for (let k = 0; k < t.data.length; k++) t.data[k] *= input.scale;
    }
    this.checkShapes(list, input.sampleDims, target);
    return { down: list.slice(0, RESIDUAL_COUNT - 1), mid: list[RESIDUAL_COUNT - 1] };
  }

  private async runSlice(input: ControlNetInput, start: number, count: number): Promise<OutputTensor[]> {
    const [batch, c, h, w] = input.sampleDims;
    const slice = (data: Float32Array, n: number) => (count === n ? data : data.subarray((data.length / n) * start, (data.length / n) * (start + count)));
    const contextBatch = input.contextDims[0];
    const plane = input.condition.length / input.conditionDims[0];
    const condition = input.conditionDims[0] === count ? slice(input.condition, count) : repeat(input.condition.subarray(0, plane), count);
    const feeds: Record<string, FeedTensor> = {
      [this.sample.name]: { data: slice(input.sample, batch), dims: [count, c, h, w] },
      [this.timestep.name]: this.timestepFeed(input.timestep, count),
      [this.context.name]: { data: slice(input.context, contextBatch), dims: [count, ...input.contextDims.slice(1)] },
      [this.condition.name]: { data: condition, dims: [count, 3, 8 * h, 8 * w] },
    };
    if (this.scaleInput) feeds[this.scaleInput.name] = this.scaleFeed(input.scale);
    this.calls++;
    const order = slotsToList(this.outputs).map((o) => o.name);
    const out = await this.session.run(feeds, order);
    return order.map((name) => out[name]);
  }

  private checkShapes(list: OutputTensor[], sampleDims: readonly number[], target?: ControlTarget): void {
    const [batch, , h, w] = sampleDims;
    const theirs = target ? slotsToList(target.residuals).map((i) => dimOf(i, 1)) : [];
    const problems: string[] = [];
    list.forEach((t, i) => {
      const want = [batch, theirs[i] ?? t.dims[1], residualSpatialSize(h, i), residualSpatialSize(w, i)];
      if (t.dims.length !== 4 || t.dims.some((d, k) => d !== want[k])) {
        problems.push(`${residualLabel(i)} (${slotsToList(this.outputs)[i].name}) is [${t.dims.join(', ')}], expected [${want.join(', ')}]`);
      }
    });
    if (!problems.length) return;
    if (target) throw this.misfit(target, problems);
    throw new PentimentoError('BAD_MODEL', `The ControlNet ${this.file} returned residuals of unexpected shapes: ${problems.join('; ')}.`, {
      controlnet: this.file,
    });
  }

  async dispose(): Promise<void> {
    await this.session.dispose();
  }
}

function repeat(data: Float32Array, times: number): Float32Array {
  if (times === 1) return data;
  const out = new Float32Array(data.length * times);
  for (let k = 0; k < times; k++) out.set(data, k * data.length);
  return out;
}

function concatBatch(parts: OutputTensor[]): OutputTensor {
  const data = new Float32Array(parts.reduce((n, p) => n + p.data.length, 0));
  let at = 0;
  for (const p of parts) {
    data.set(p.data, at);
    at += p.data.length;
  }
  return { data, dims: [parts.reduce((n, p) => n + p.dims[0], 0), ...parts[0].dims.slice(1)] };
}
