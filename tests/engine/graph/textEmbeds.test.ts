import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { loadModel, tensorArray } from '../../../main/engine/graph/ModelIO';
import { DataType } from '../../../main/engine/graph/onnx';
import { PRE_NORM_OUTPUT, textEmbeds } from '../../../main/engine/graph/textEmbeds';
import { testModelDir } from '../../fixtures/models';
import { maxAbsDiff, openDerived } from './unetFeeds';

// "a photo of a cat" as CLIP ids, padded with end-of-text to 77, and a second, shorter prompt.
const PROMPTS = [
  [49406, 320, 1125, 539, 320, 2368, 49407],
  [49406, 2368, 49407],
];

function idsTensor(type: number, seq = 77): ort.Tensor {
  const rows = PROMPTS.map((p) => [...p, ...Array(seq - p.length).fill(49407)]);
  const flat = rows.flat();
  return type === DataType.INT32
    ? new ort.Tensor('int32', Int32Array.from(flat), [rows.length, seq])
    : new ort.Tensor('int64', BigInt64Array.from(flat.map(BigInt)), [rows.length, seq]);
}

describe.each(['tiny', 'tiny-torch'] as const)('textEmbeds on the %s text encoder', (variant) => {
  it('reproduces both outputs from looked-up embeddings and exposes the pre-LayerNorm state', async () => {
    const file = path.join(await testModelDir(variant), 'text_encoder', 'model.onnx');
    const source = loadModel(file);
    const { model, tokenEmbedding, needsInputIds } = textEmbeds(source.model);
    expect(needsInputIds).toBe(true); // pooler_output's ArgMax reads the ids
    expect(model.graph.input.map((v) => v.name)).toEqual(['inputs_embeds', 'input_ids']);
    expect(model.graph.output.map((v) => v.name)).toEqual(['last_hidden_state', 'pooler_output', PRE_NORM_OUTPUT]);

    const idsType = source.model.graph.input[0].type!.tensorType!.elemType;
    const ids = idsTensor(idsType);
    const table = tensorArray(source.model.graph.initializer.find((t) => t.name === tokenEmbedding)!, source.dir) as Float32Array;
    const hidden = table.length / 49408;
    const idList = Array.from(ids.data as ArrayLike<number | bigint>, Number);
    const embeds = new Float32Array(idList.length * hidden);
    idList.forEach((id, i) => embeds.set(table.subarray(id * hidden, (id + 1) * hidden), i * hidden));

    const reference = await ort.InferenceSession.create(file);
    const derived = await openDerived(model, source, fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-te-')));
    const want = await reference.run({ input_ids: ids });
    const got = await derived.run({ input_ids: ids, inputs_embeds: new ort.Tensor('float32', embeds, [2, 77, hidden]) });
    expect(maxAbsDiff(got.last_hidden_state, want.last_hidden_state)).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(got.pooler_output, want.pooler_output)).toBeLessThanOrEqual(1e-6);

    // final_layer_norm(pre_norm) = last_hidden_state, with the model's own γ and β.
    const param = (suffix: string) =>
      tensorArray(source.model.graph.initializer.find((t) => t.name.endsWith(`final_layer_norm.${suffix}`))!, source.dir) as Float32Array;
    const [gamma, beta] = [param('weight'), param('bias')];
    const pre = got[PRE_NORM_OUTPUT].data as Float32Array;
    const last = want.last_hidden_state.data as Float32Array;
    let worst = 0;
    for (let row = 0; row < pre.length / hidden; row++) {
      const x = pre.subarray(row * hidden, (row + 1) * hidden);
      const mean = x.reduce((s, v) => s + v, 0) / hidden;
      const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / hidden;
      for (let j = 0; j < hidden; j++) {
        const y = ((x[j] - mean) / Math.sqrt(variance + 1e-5)) * gamma[j] + beta[j];
        worst = Math.max(worst, Math.abs(y - last[row * hidden + j]));
      }
    }
    expect(worst).toBeLessThan(1e-4);
    // Shorter sequences work too (the sequence length is read from inputs_embeds).
    const short = idsTensor(idsType, 10);
    const shortIds = Array.from(short.data as ArrayLike<number | bigint>, Number);
    const shortEmbeds = new Float32Array(shortIds.length * hidden);
    shortIds.forEach((id, i) => shortEmbeds.set(table.subarray(id * hidden, (id + 1) * hidden), i * hidden));
    const a = await reference.run({ input_ids: short });
    const b = await derived.run({ input_ids: short, inputs_embeds: new ort.Tensor('float32', shortEmbeds, [2, 10, hidden]) });
    expect(maxAbsDiff(b.last_hidden_state, a.last_hidden_state)).toBeLessThanOrEqual(1e-6);
  });
});

describe('textEmbeds without the pooled output', () => {
  it('drops input_ids when only last_hidden_state is kept', async () => {
    const source = loadModel(path.join(await testModelDir('tiny'), 'text_encoder', 'model.onnx'));
    const trimmed = structuredClone(source.model);
    trimmed.graph.output = trimmed.graph.output.filter((o) => o.name === 'last_hidden_state');
    const { model, needsInputIds } = textEmbeds(trimmed);
    expect(needsInputIds).toBe(false);
    expect(model.graph.input.map((v) => v.name)).toEqual(['inputs_embeds']);
    const session = await ort.InferenceSession.create(
      (await import('../../../main/engine/graph/onnx')).encodeModel(model),
    );
    const out = await session.run({ inputs_embeds: new ort.Tensor('float32', new Float32Array(3 * 77 * 32), [3, 77, 32]) });
    expect(out.last_hidden_state.dims).toEqual([3, 77, 32]);
  });
});
