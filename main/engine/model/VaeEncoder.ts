import { PentimentoError } from '../errors';
import type { ModelSession } from '../runtime/OnnxRuntime';
import { describe } from './ClipTextEncoder';

/**
 * Image [1,3,H,W] in [−1,1] → latent z = mean · scaling [1,4,H/8,W/8]. Exports return either
 * a 4-channel latent or 8 channels of (mean, log-variance) — the mean is the first four; using
 * it rather than a sample keeps encoding deterministic (diffusers' `latent_dist.mode()`).
 */
export class VaeEncoder {
  private readonly input: string;
  private readonly output: string;

  constructor(
    readonly session: ModelSession,
    readonly scalingFactor: number,
  ) {
    if (session.inputs.length !== 1) {
      throw new PentimentoError('BAD_MODEL', `${session.file}: expected one image input, found ${describe(session.inputs)}.`, { file: session.file });
    }
    this.input = session.inputs[0].name;
    this.output = session.outputs[0].name;
  }

  async encode(image: Float32Array, height: number, width: number): Promise<Float32Array> {
    const out = (await this.session.run({ [this.input]: { data: image, dims: [1, 3, height, width] } }, [this.output]))[this.output];
    const channels = out.dims[1];
    const plane = out.dims[2] * out.dims[3];
    if (channels !== 4 && channels !== 8) {
      throw new PentimentoError('BAD_MODEL', `${this.session.file}: the VAE encoder returned ${channels} channels; expected 4 or 8.`, { file: this.session.file });
    }
    const z = new Float32Array(4 * plane);
    for (let i = 0; i < z.length; i++) z[i] = out.data[i] * this.scalingFactor;
    return z;
  }
}
