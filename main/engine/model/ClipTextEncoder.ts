import { PentimentoError } from '../errors';
import type { ModelSession, TensorInfo } from '../runtime/OnnxRuntime';
import { checkFinite } from './checkFinite';

/**
 * The CLIP text encoder: token ids [1, 77] → last hidden state [1, 77, width]. The ids input
 * is the graph's one integer input (int32 or int64, whatever its name); the output is the
 * first rank-3 output (`last_hidden_state`; `pooler_output` is rank 2 and unused by SD 1.x).
 */
export class ClipTextEncoder {
  private readonly ids: TensorInfo;
  private readonly hidden: string;

  constructor(readonly session: ModelSession) {
    const ints = session.inputs.filter((i) => i.dtype.startsWith('int'));
    const ids = ints.length === 1 ? ints[0] : session.inputs.find((i) => /input_ids/.test(i.name));
    if (!ids || session.inputs.length !== 1) {
      throw new PentimentoError(
        'BAD_MODEL',
        `${session.file}: expected one integer input (the token ids), found ${describe(session.inputs)}.`,
        { file: session.file },
      );
    }
    this.ids = ids;
    const out =
      session.outputs.find((o) => o.shape?.length === 3) ?? session.outputs.find((o) => /last_hidden_state/.test(o.name)) ?? session.outputs[0];
    this.hidden = out.name;
  }

  /** Hidden states for one prompt's ids (already padded to the tokenizer's max length). */
  async encode(ids: readonly number[]): Promise<{ data: Float32Array; dims: number[] }> {
    const out = await this.session.run({ [this.ids.name]: { data: ids, dims: [1, ids.length] } }, [this.hidden]);
    checkFinite(out[this.hidden].data, 'text_encoder', this.session.file);
    return out[this.hidden];
  }
}

export function describe(infos: readonly TensorInfo[]): string {
  return infos.map((i) => `${i.name} (${i.dtype}${i.shape ? ` [${i.shape.join(', ')}]` : ''})`).join(', ') || 'none';
}
