import type { ControlResiduals } from '../control/ControlNet';
import { controlTargetOf, takesControlResiduals, type ControlTarget } from '../control/controlnet/controlTarget';
import { slotsToList } from '../control/controlnet/residualLayout';
import { zeroResiduals } from '../control/controlnet/zeroResiduals';
import { PentimentoError } from '../errors';
import type { FeedTensor, ModelSession, TensorInfo } from '../runtime/OnnxRuntime';
import { checkFinite } from './checkFinite';
import { describe } from './ClipTextEncoder';

/**
 * The denoising UNet ε(z, t, c). Its three inputs are told apart by rank — sample [B,C,h,w],
 * encoder_hidden_states [B,77,width], timestep (scalar, [1] or [B]) — so exports that prefix
 * or rename them still work; names are the tie-breaker when a rank is undeclared. The
 * timestep's dtype and shape come from the graph: see `timestepFeed`. A ControlNet-ready UNet
 * (a residual-input export, or one made so by addControlResiduals) also takes 13 residuals:
 * `control` describes them, and `predict` feeds zeros when it is given none.
 */
export class UNet {
  readonly sample: TensorInfo;
  readonly timestep: TensorInfo;
  readonly context: TensorInfo;
  private readonly output: string;
  /** The ControlNet residual inputs, when this UNet takes them. */
  readonly control: ControlTarget | undefined;
  /** UNet calls made (tests count denoising steps with it). */
  calls = 0;

  constructor(
    readonly session: ModelSession,
    /** Largest batch the graph takes (Infinity for a symbolic batch dimension). */
    readonly maxBatch: number,
    /**
     * The UNet messages name: the model's own unet/model.onnx for a graph derived from it into
     * the cache (the user knows their model folder, not the cache's hash-named copies).
     */
    sourceFile: string = session.file,
  ) {
    this.control = takesControlResiduals(session) ? controlTargetOf({ file: sourceFile, inputs: session.inputs, outputs: session.outputs }) : undefined;
    const residualInputs = new Set(this.control ? slotsToList(this.control.residuals) : []);
    const inputs = session.inputs.filter((i) => !residualInputs.has(i));
    const byRank = (r: number) => inputs.filter((i) => i.shape?.length === r);
    const byName = (re: RegExp) => inputs.find((i) => re.test(i.name));
    const sample = byRank(4).length === 1 ? byRank(4)[0] : byName(/sample/);
    const context = byRank(3).length === 1 ? byRank(3)[0] : byName(/hidden|encoder|context/);
    const timestep = inputs.find((i) => i !== sample && i !== context) ?? byName(/timestep/);
    if (inputs.length !== 3 || !sample || !context || !timestep) {
      throw new PentimentoError(
        'BAD_MODEL',
        `${session.file}: expected a UNet with inputs sample, timestep and encoder_hidden_states, found ${describe(session.inputs)}.`,
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

  /**
   * ε for `batch` samples [batch, C, h, w] with their contexts [batch, 77, width]; a
   * ControlNet-ready UNet adds `residuals` (zeros when absent) to its skips and mid block.
   */
  async predict(
    sample: Float32Array,
    sampleDims: readonly number[],
    t: number,
    context: Float32Array,
    contextDims: readonly number[],
    residuals?: ControlResiduals,
  ): Promise<Float32Array> {
    const batch = sampleDims[0];
    if (residuals && !this.control) {
      throw new PentimentoError('INTERNAL', `${this.session.file}: ControlNet residuals given to a UNet that takes none; make it ControlNet-ready first.`);
    }
    this.calls++;
    const feeds: Record<string, FeedTensor> = {
      [this.sample.name]: { data: sample, dims: sampleDims },
      [this.timestep.name]: this.timestepFeed(t, batch),
      [this.context.name]: { data: context, dims: contextDims },
    };
    if (this.control) {
      const given = slotsToList(residuals ?? zeroResiduals(this.control, batch, sampleDims[2], sampleDims[3]));
      slotsToList(this.control.residuals).forEach((info, i) => (feeds[info.name] = given[i]));
    }
    const out = await this.session.run(feeds, [this.output]);
    checkFinite(out[this.output].data, 'unet', this.session.file);
    return out[this.output].data;
  }
}
