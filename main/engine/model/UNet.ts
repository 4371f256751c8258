import { PentimentoError } from '../errors';
import type { ModelSession, TensorInfo } from '../runtime/OnnxRuntime';
import { describe } from './ClipTextEncoder';

/**
 * The denoising UNet ε(z, t, c). Its three inputs are told apart by rank — sample [B,C,h,w],
 * encoder_hidden_states [B,77,width], timestep (scalar, [1] or [B]) — so exports that prefix
 * or rename them still work; names are the tie-breaker when a rank is undeclared. The
 * timestep's dtype and shape come from the graph: see `timestepFeed`.
 */
export class UNet {
  readonly sample: TensorInfo;
  readonly timestep: TensorInfo;
  readonly context: TensorInfo;
  private readonly output: string;
  /** UNet calls made (tests count denoising steps with it). */
  calls = 0;

  constructor(
    readonly session: ModelSession,
    /** Largest batch the graph takes (Infinity for a symbolic batch dimension). */
    readonly maxBatch: number,
  ) {
    const inputs = session.inputs;
    const byRank = (r: number) => inputs.filter((i) => i.shape?.length === r);
    const byName = (re: RegExp) => inputs.find((i) => re.test(i.name));
    const sample = byRank(4).length === 1 ? byRank(4)[0] : byName(/sample/);
    const context = byRank(3).length === 1 ? byRank(3)[0] : byName(/hidden|encoder|context/);
    const timestep = inputs.find((i) => i !== sample && i !== context) ?? byName(/timestep/);
    if (inputs.length !== 3 || !sample || !context || !timestep) {
      throw new PentimentoError(
        'BAD_MODEL',
        `${session.file}: expected a UNet with inputs sample, timestep and encoder_hidden_states, found ${describe(inputs)}.`,
        { file: session.file },
      );
    }
    this.sample = sample;
    this.context = context;
    this.timestep = timestep;
    this.output = session.outputs[0].name;
  }

  /** True when both classifier-free-guidance branches fit in one call. */
  get acceptsBatch2(): boolean {
    return this.maxBatch >= 2;
  }

  /**
   * The timestep as the graph declares it: a scalar, [1], or one per batch item; integer
   * graphs get t rounded (σ-based samplers produce fractional timesteps).
   */
  timestepFeed(t: number, batch: number): { data: number[]; dims: number[] } {
    const value = this.timestep.dtype.startsWith('int') ? Math.round(t) : t;
    const shape = this.timestep.shape;
    if (shape && shape.length === 0) return { data: [value], dims: [] };
    const n = shape && typeof shape[0] === 'number' ? shape[0] : batch;
    return { data: new Array(n).fill(value), dims: [n] };
  }

  /** ε for `batch` samples [batch, C, h, w] with their contexts [batch, 77, width]. */
  async predict(sample: Float32Array, sampleDims: readonly number[], t: number, context: Float32Array, contextDims: readonly number[]): Promise<Float32Array> {
    const batch = sampleDims[0];
    this.calls++;
    const out = await this.session.run(
      {
        [this.sample.name]: { data: sample, dims: sampleDims },
        [this.timestep.name]: this.timestepFeed(t, batch),
        [this.context.name]: { data: context, dims: contextDims },
      },
      [this.output],
    );
    return out[this.output].data;
  }
}
