/**
 * transformers' CLIPTextModel: token + position embeddings, pre-LayerNorm transformer layers with
 * a causal mask, final_layer_norm; pooler_output is the final state at argmax(input_ids), which is
 * the first end-of-text token since 49407 is CLIP's largest id.
 */
import { makeTensor } from '../main/engine/graph/tensorProto';
import { DataType } from '../main/engine/graph/onnx';
import { toFloat16 } from '../main/engine/graph/fp16';
import { ModuleBuilder } from './ModuleBuilder';
import type { BuiltPart, PartSpec } from './PartSpec';

const FLOAT32_LOWEST = -3.4028234663852886e38;
const FLOAT16_LOWEST = -65504;

/** The additive causal mask [S, S]: the lowest float above the diagonal, 0 elsewhere. */
function causalMask(m: ModuleBuilder, inputIds: string): string {
  const seq = m.dim(inputIds, 1);
  const lowest = m.opts.fp16
    ? makeTensor('', toFloat16([FLOAT16_LOWEST]), [1], DataType.FLOAT16)
    : makeTensor('', Float32Array.of(FLOAT32_LOWEST), [1]);
  const full = m.op('ConstantOfShape', [m.concatInts([seq, seq])], { value: lowest });
  return m.op('Trilu', [full, m.g.constant(BigInt64Array.of(1n), [])], { upper: 1 });
}

export function buildTextEncoder(spec: PartSpec): BuiltPart {
  const torch = spec.variant === 'torch';
  const m = new ModuleBuilder({ opset: 17, seed: spec.seed, fp16: spec.fp16, nodePrefix: torch ? 't' : undefined });
  const p = spec.preset.text;
  const f = m.floatType;
  const batchDim = torch ? 'batch' : 'batch_size';
  const seqDim = torch ? 'sequence' : 'sequence_length';
  const inputIds = m.g.input('input_ids', torch ? DataType.INT32 : DataType.INT64, [batchDim, seqDim]);

  const [lastHidden, pooled] = m.root(() =>
    m.scope('text_model', () => {
      let h = m.scope('embeddings', () => {
        const tokens = m.scope('token_embedding', () =>
          m.op('Gather', [m.weight('weight', [p.vocab, p.hidden], 1), inputIds], { axis: 0 }),
        );
        const allPositions = m.g.initializer(
          m.paramPath('position_ids'),
          BigInt64Array.from({ length: p.positions }, (_, i) => BigInt(i)),
          [1, p.positions],
        );
        const positionIds = m.op('Slice', [allPositions, m.ints([0]), m.dim(inputIds, 1), m.ints([1])]);
        const positions = m.scope('position_embedding', () =>
          m.op('Gather', [m.weight('weight', [p.positions, p.hidden], 0.5), positionIds], { axis: 0 }),
        );
        return m.op('Add', [tokens, positions]);
      });
      const mask = causalMask(m, inputIds);

      m.scope('encoder', () => {
        for (let i = 0; i < p.layers; i++) {
          m.scope(`layers.${i}`, () => {
            const n1 = m.scope('layer_norm1', () => m.layerNorm(h, p.hidden, 1e-5));
            const attn = m.scope('self_attn', () => {
              const q = m.scope('q_proj', () => m.linear(n1, p.hidden, p.hidden));
              const k = m.scope('k_proj', () => m.linear(n1, p.hidden, p.hidden));
              const v = m.scope('v_proj', () => m.linear(n1, p.hidden, p.hidden));
              const o = m.attention(q, k, v, p.hidden, p.heads, { mask, queryScaled: true });
              return m.scope('out_proj', () => m.linear(o, p.hidden, p.hidden));
            });
            h = m.op('Add', [h, attn]);
            const n2 = m.scope('layer_norm2', () => m.layerNorm(h, p.hidden, 1e-5));
            const mlp = m.scope('mlp', () => {
              const a = m.scope('fc1', () => m.linear(n2, p.hidden, p.intermediate));
              const g = m.scope('activation_fn', () => m.quickGelu(a));
              return m.scope('fc2', () => m.linear(g, p.intermediate, p.hidden));
            });
            h = m.op('Add', [h, mlp]);
          });
        }
      });
      const last = m.scope('final_layer_norm', () => m.layerNorm(h, p.hidden, 1e-5));

      // last[arange(B), argmax(ids)], flattened to one Gather over [B·S, H].
      const eos = m.op('Cast', [m.op('ArgMax', [m.op('Cast', [inputIds], { to: DataType.INT32 })], { axis: -1, keepdims: 0 })], {
        to: DataType.INT64,
      });
      const batch = m.op('Squeeze', [m.dim(inputIds, 0), m.ints([0])]);
      const rows = m.op('Range', [m.g.constant(BigInt64Array.of(0n), []), batch, m.g.constant(BigInt64Array.of(1n), [])]);
      const flatIndex = m.op('Add', [m.op('Mul', [rows, m.dim(inputIds, 1)]), eos]);
      const flat = m.op('Reshape', [last, m.ints([-1, p.hidden])]);
      return [last, m.op('Gather', [flat, flatIndex], { axis: 0 })];
    }),
  );

  m.rename(lastHidden, 'last_hidden_state');
  m.rename(pooled, 'pooler_output');
  m.g.output('last_hidden_state', f, [batchDim, seqDim, p.hidden]);
  m.g.output('pooler_output', f, [batchDim, p.hidden]);
  return { model: m.g.model({ producerName: 'pentimento-test-model' }), parameterCount: m.parameterCount };
}
