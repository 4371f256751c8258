import { PentimentoError } from '../errors';
import type { ModelSession } from '../runtime/OnnxRuntime';
import { checkFinite } from './checkFinite';
import { describe } from './ClipTextEncoder';

/**
 * Image [1,3,H,W] in [−1,1] → latent z = mean · scaling [1,4,H/8,W/8]. Exports return either
 * a 4-channel latent or 8 channels of (mean, log-variance) — the mean is the first four; using
 * it rather than a sample keeps encoding deterministic (diffusers' `latent_dist.mode()`).
 *
 * A folder without vae_encoder/ still runs text-to-image: its encoder is `absent`, and only
 * the work that encodes a photo (img2img, inpainting, inversion) fails, naming the file.
 */
export class VaeEncoder {
  private readonly input: string;
  private readonly output: string;

  constructor(
    private readonly maybeSession: ModelSession | undefined,
    readonly scalingFactor: number,
    /** Where the graph is (or should be): named when it is missing. */
    readonly file: string = maybeSession?.file ?? 'vae_encoder/model.onnx',
  ) {
    if (maybeSession && maybeSession.inputs.length !== 1) {
      throw new PentimentoError('BAD_MODEL', `${maybeSession.file}: expected one image input, found ${describe(maybeSession.inputs)}.`, { file: maybeSession.file });
    }
    this.input = maybeSession?.inputs[0].name ?? '';
    this.output = maybeSession?.outputs[0].name ?? '';
  }

  /** The encoder of a folder that has none: `encode` and `session` throw MODEL_MISSING naming `file`. */
  static absent(file: string, scalingFactor: number): VaeEncoder {
    return new VaeEncoder(undefined, scalingFactor, file);
  }

  get available(): boolean {
    return this.maybeSession !== undefined;
  }

  get session(): ModelSession {
    this.require();
    return this.maybeSession!;
  }

  /** Throws MODEL_MISSING when the folder has no VAE encoder; `task` says what needed it. */
  require(task = 'Encoding a photo'): void {
    if (this.maybeSession) return;
    throw new PentimentoError(
      'MODEL_MISSING',
      `${this.file} is missing: ${task} needs the VAE encoder. Copy vae_encoder/ from the model's ONNX export into the model folder, or generate from text alone (--txt2img).`,
      { file: this.file },
    );
  }

  async encode(image: Float32Array, height: number, width: number): Promise<Float32Array> {
    const session = this.session;
    const out = (await session.run({ [this.input]: { data: image, dims: [1, 3, height, width] } }, [this.output]))[this.output];
    const channels = out.dims[1];
    const plane = out.dims[2] * out.dims[3];
    if (channels !== 4 && channels !== 8) {
      throw new PentimentoError('BAD_MODEL', `${session.file}: the VAE encoder returned ${channels} channels; expected 4 or 8.`, { file: session.file });
    }
    const z = new Float32Array(4 * plane);
    for (let i = 0; i < z.length; i++) z[i] = out.data[i] * this.scalingFactor;
    checkFinite(z, 'vae_encoder', session.file);
    return z;
  }
}
