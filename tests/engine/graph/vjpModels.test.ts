import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../../main/engine/graph/ModelIO';
import { graphStats } from '../../../main/engine/graph/graphStats';
import { splitKv } from '../../../main/engine/graph/splitKv';
import { vjp } from '../../../main/engine/graph/vjp';
import { INPUTS_EMBEDS, PRE_NORM_OUTPUT, textEmbeds } from '../../../main/engine/graph/textEmbeds';
import { testModelDir } from '../../fixtures/models';
import { gradCheck } from './gradCheck';
import { unetFeeds } from './unetFeeds';

// The UNet runs Conv, InstanceNormalization, Resize and Erf, which onnxruntime's CPU provider has
// only in float32, so these checks run in float32: Richardson-extrapolated central differences with
// a step large enough (h = 0.05 per unit direction) that float32 rounding stays below the 1e-3 bar.
const FD = { h: 5e-2, richardson: true, tol: 1e-3, directions: 3 } as const;

describe('VJP of whole generated models against finite differences', () => {
  it.each(['tiny', 'tiny-torch'] as const)('%s UNet w.r.t. encoder_hidden_states', async (variant) => {
    const file = path.join(await testModelDir(variant), 'unet', 'model.onnx');
    const source = loadModel(file);
    const { sample, timestep } = unetFeeds(source.model, { batch: 1, size: 8 });
    const { maxRelErr, derived } = await gradCheck(source.model, {
      ...FD,
      wrt: ['encoder_hidden_states'],
      feeds: { sample, timestep },
      shapes: { encoder_hidden_states: [1, 5, 32] },
      sourceDir: source.dir,
    });
    expect(maxRelErr).toBeLessThan(1e-3);
    expect(derived.graph.output.map((o) => o.name)).toEqual(['out_sample', 'encoder_hidden_states_grad']);
  });

  it('tiny UNet w.r.t. the 32 split key/value inputs', async () => {
    const source = loadModel(path.join(await testModelDir('tiny'), 'unet', 'model.onnx'));
    const { model, layers } = splitKv(source.model);
    const { sample, timestep } = unetFeeds(source.model, { batch: 1, size: 8 });
    const wrt = layers.flatMap((l) => [l.keyInput, l.valueInput]);
    const { grads } = await gradCheck(model, {
      ...FD,
      wrt,
      feeds: { sample, timestep },
      shapes: Object.fromEntries(wrt.map((w) => [w, [1, 5, 32]])),
      sourceDir: source.dir,
    });
    // Every layer's key and value receive a gradient of their own.
    for (const w of wrt) expect(Math.max(...Array.from(grads[w].data as Float32Array, Math.abs))).toBeGreaterThan(0);
  });

  it('tiny split-kv UNet VJP is small: static broadcast reductions, no data-dependent shapes, no weight gradients', async () => {
    const source = loadModel(path.join(await testModelDir('tiny'), 'unet', 'model.onnx'));
    const { model, layers } = splitKv(source.model);
    const wrt = layers.flatMap((l) => [l.keyInput, l.valueInput]);
    const derived = vjp(model, { wrt, of: ['out_sample'] }, source.dir);
    const { nodes, ops } = graphStats(derived);
    // Symbolic dims decide every broadcast reduction of this graph statically (it once held 498
    // NonZero, 1043 Shape and ~12k nodes, which took onnxruntime ~20 s to open).
    expect(ops.NonZero ?? 0).toBe(0);
    expect(ops.Size ?? 0).toBe(0);
    expect(ops.Identity ?? 0).toBe(0);
    expect(ops.Shape ?? 0).toBeLessThanOrEqual(120);
    expect(nodes).toBeLessThan(2.5 * model.graph.node.length);
    // Only the context inputs are differentiated: no backward Conv (a weight gradient) anywhere,
    // and every forward Conv input gradient is one ConvTranspose (stride-1 and even-size ones need no Slice/Pad).
    const backward = derived.graph.node.filter((n) => n.name.startsWith('/grad'));
    expect(backward.filter((n) => n.opType === 'Conv')).toEqual([]);
    expect(backward.filter((n) => n.opType === 'Pad').length).toBeLessThanOrEqual(3);
    // Nothing is computed twice: no two nodes share op, inputs and attributes.
    const keys = derived.graph.node.map((n) => `${n.opType}|${n.input.join(',')}|${JSON.stringify(n.attribute)}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('text-embeds encoder w.r.t. inputs_embeds (last_hidden_state, pooler_output and the pre-norm state)', async () => {
    const source = loadModel(path.join(await testModelDir('tiny'), 'text_encoder', 'model.onnx'));
    const { model } = textEmbeds(source.model);
    const ids = new ort.Tensor('int64', BigInt64Array.from([49406n, 320n, 2368n, 49407n, 49407n, 49406n, 2368n, 49407n, 49407n, 49407n]), [2, 5]);
    await gradCheck(model, {
      h: 1e-2,
      richardson: true,
      tol: 1e-3,
      wrt: [INPUTS_EMBEDS],
      of: ['last_hidden_state', 'pooler_output', PRE_NORM_OUTPUT],
      feeds: { input_ids: ids },
      shapes: { [INPUTS_EMBEDS]: [2, 5, 32] },
      sourceDir: source.dir,
    });
  });
});
