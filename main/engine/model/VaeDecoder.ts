import { PentimentoError } from '../errors';
import type { ModelSession } from '../runtime/OnnxRuntime';
import { checkFinite } from './checkFinite';
import { describe } from './ClipTextEncoder';

/** Latent z [1,4,h,w] → image [1,3,8h,8w] in [−1,1], undoing the scaling first (x = D(z / scaling)). */
export class VaeDecoder {
  private readonly input: string;
  private readonly output: string;

  constructor(
    readonly session: ModelSession,
    readonly scalingFactor: number,
  ) {
    if (session.inputs.length !== 1) {
      throw new PentimentoError('BAD_MODEL', `${session.file}: expected one latent input, found ${describe(session.inputs)}.`, { file: session.file });
    }
    this.input = session.inputs[0].name;
    this.output = session.outputs[0].name;
  }

  async decode(z: Float32Array, latentHeight: number, latentWidth: number): Promise<{ data: Float32Array; dims: number[] }> {
    const scaled = new Float32Array(z.length);
    for (let i = 0; i < z.length; i++) scaled[i] = z[i] / this.scalingFactor;
    const out = await this.session.run({ [this.input]: { data: scaled, dims: [1, 4, latentHeight, latentWidth] } }, [this.output]);
    checkFinite(out[this.output].data, 'vae_decoder', this.session.file);
    return out[this.output];
  }
}
