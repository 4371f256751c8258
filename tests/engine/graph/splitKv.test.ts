import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../../main/engine/graph/ModelIO';
import { valueShape } from '../../../main/engine/graph/onnx';
import { splitKv } from '../../../main/engine/graph/splitKv';
import { testModelDir } from '../../fixtures/models';
import { maxAbsDiff, openDerived, randomFloat32, unetFeeds } from './unetFeeds';

const EXPECTED_PATHS = [
  'down_blocks.0.attentions.0',
  'down_blocks.0.attentions.1',
  'down_blocks.1.attentions.0',
  'down_blocks.1.attentions.1',
  'down_blocks.2.attentions.0',
  'down_blocks.2.attentions.1',
  'mid_block.attentions.0',
  'up_blocks.1.attentions.0',
  'up_blocks.1.attentions.1',
  'up_blocks.1.attentions.2',
  'up_blocks.2.attentions.0',
  'up_blocks.2.attentions.1',
  'up_blocks.2.attentions.2',
  'up_blocks.3.attentions.0',
  'up_blocks.3.attentions.1',
  'up_blocks.3.attentions.2',
].map((p) => `${p}.transformer_blocks.0.attn2`);
const EXPECTED_RESOLUTION = [1, 1, 2, 2, 4, 4, 8, 4, 4, 4, 2, 2, 2, 1, 1, 1];

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-splitkv-'));

describe.each(['tiny', 'tiny-torch'] as const)('splitKv on the %s UNet', (variant) => {
  let unetFile: string;
  beforeAll(async () => {
    unetFile = path.join(await testModelDir(variant), 'unet', 'model.onnx');
  });

  it('finds the 16 cross-attention layers in execution order with their resolution, channels and heads', () => {
    const { layers, model } = splitKv(loadModel(unetFile).model);
    expect(layers.map((l) => l.modulePath)).toEqual(EXPECTED_PATHS);
    expect(layers.map((l) => l.resolution)).toEqual(EXPECTED_RESOLUTION);
    expect(layers.map((l) => l.channels)).toEqual(EXPECTED_RESOLUTION.map((r) => (r === 1 ? 32 : 64)));
    expect(layers.every((l) => l.heads === 2)).toBe(true);
    const names = model.graph.input.map((v) => v.name);
    expect(names).not.toContain('encoder_hidden_states');
    for (let i = 0; i < 16; i++) expect(names).toEqual(expect.arrayContaining([`ctx_k_${i}`, `ctx_v_${i}`]));
    const ctx = model.graph.input.find((v) => v.name === 'ctx_v_3')!;
    const source = loadModel(unetFile).model.graph.input.find((v) => v.name === 'encoder_hidden_states')!;
    expect(valueShape(ctx)).toEqual(valueShape(source));
    expect(valueShape(ctx)![0]).toMatch(/batch/);
  });

  it('reproduces the source with the same context in all 32 inputs; each input drives only its own layer', async () => {
    const source = loadModel(unetFile);
    const { model } = splitKv(source.model);
    const derived = await openDerived(model, source, tmp());
    const reference = await ort.InferenceSession.create(unetFile);
    const feeds = unetFeeds(source.model, { batch: 2, size: 8 });
    const { encoder_hidden_states: ctx, ...rest } = feeds;
    const base = (await reference.run(feeds)).out_sample;
    const split = (override: Record<string, ort.Tensor> = {}) => {
      const f: Record<string, ort.Tensor> = { ...rest };
      for (let i = 0; i < 16; i++) f[`ctx_k_${i}`] = f[`ctx_v_${i}`] = ctx;
      return derived.run({ ...f, ...override });
    };
    const same = (await split()).out_sample;
    expect(maxAbsDiff(same, base)).toBeLessThanOrEqual(1e-5);

    const other = new ort.Tensor('float32', randomFloat32(ctx.data.length, 99), ctx.dims);
    const perturbed = (await split({ ctx_v_3: other })).out_sample;
    expect(maxAbsDiff(perturbed, base)).toBeGreaterThan(1e-3);
    // Distinct inputs give distinct outputs: no two layers' inputs are wired to the same place.
    const outs = await Promise.all(
      ['ctx_k_0', 'ctx_v_0', 'ctx_k_6', 'ctx_v_15'].map(async (name) => (await split({ [name]: other })).out_sample),
    );
    for (let a = 0; a < outs.length; a++) {
      expect(maxAbsDiff(outs[a], base)).toBeGreaterThan(1e-4);
      for (let b = a + 1; b < outs.length; b++) expect(maxAbsDiff(outs[a], outs[b])).toBeGreaterThan(1e-4);
    }
    // Still runs at another batch and latent size (dims stay symbolic).
    const big = unetFeeds(source.model, { batch: 1, size: 16 });
    const bigBase = (await reference.run(big)).out_sample;
    const bigSplit = await derived.run({
      sample: big.sample,
      timestep: big.timestep,
      ...Object.fromEntries(Array.from({ length: 16 }, (_, i) => [[`ctx_k_${i}`, big.encoder_hidden_states], [`ctx_v_${i}`, big.encoder_hidden_states]]).flat()),
    });
    expect(maxAbsDiff(bigSplit.out_sample, bigBase)).toBeLessThanOrEqual(1e-5);
  });

  it('finds the same layers by structure when node names are stripped', async () => {
    const source = loadModel(unetFile);
    const named = splitKv(source.model);
    const stripped = structuredClone(source.model);
    stripped.graph.node.forEach((n, k) => (n.name = `node_${k}`));
    const bare = splitKv(stripped);
    expect(bare.layers.map((l) => l.modulePath)).toEqual(Array(16).fill(''));
    expect(bare.layers.map((l) => [l.resolution, l.channels, l.heads])).toEqual(named.layers.map((l) => [l.resolution, l.channels, l.heads]));
    // Same wiring: the same perturbation changes the output the same way.
    const dir = tmp();
    const a = await openDerived(named.model, source, dir, 'named.onnx');
    const b = await openDerived(bare.model, source, dir, 'bare.onnx');
    const feeds = unetFeeds(source.model);
    const { encoder_hidden_states: ctx, ...rest } = feeds;
    const other = new ort.Tensor('float32', randomFloat32(ctx.data.length, 5), ctx.dims);
    const f: Record<string, ort.Tensor> = { ...rest };
    for (let i = 0; i < 16; i++) f[`ctx_k_${i}`] = f[`ctx_v_${i}`] = ctx;
    f.ctx_k_9 = other;
    expect(maxAbsDiff((await a.run(f)).out_sample, (await b.run(f)).out_sample)).toBeLessThanOrEqual(1e-6);
  });
});

describe('splitKv errors', () => {
  it('names the missing context input', async () => {
    const unet = loadModel(path.join(await testModelDir('tiny'), 'unet', 'model.onnx')).model;
    expect(() => splitKv(unet, { context: 'text' })).toThrow(/no input 'text'; its inputs are: sample, timestep, encoder_hidden_states/);
  });
});
