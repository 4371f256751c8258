import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { MID_RESIDUAL, addControlResiduals, downResidualName } from '../../../main/engine/graph/addControlResiduals';
import { loadModel } from '../../../main/engine/graph/ModelIO';
import { testModelDir } from '../../fixtures/models';
import { maxAbsDiff, openDerived, randomFloat32, unetFeeds } from './unetFeeds';

// ControlNet residual shapes for an 8×8 latent of the tiny UNet (channels 32/64/64/64), in the
// order of diffusers' down_block_res_samples: conv_in, then per down block its resnet/attention
// outputs and its downsampler.
const SHAPES: [number, number][] = [
  [32, 8], [32, 8], [32, 8], [32, 4],
  [64, 4], [64, 4], [64, 2],
  [64, 2], [64, 2], [64, 1],
  [64, 1], [64, 1],
];
const MID_SHAPE: [number, number] = [64, 1];

describe.each(['tiny', 'tiny-torch'] as const)('addControlResiduals on the %s UNet', (variant) => {
  it('adds 12 skip residuals and the mid residual; zeros reproduce the source exactly', async () => {
    const file = path.join(await testModelDir(variant), 'unet', 'model.onnx');
    const source = loadModel(file);
    const { model, residuals } = addControlResiduals(source.model);
    expect(residuals.map((r) => r.input)).toEqual([...SHAPES.map((_, i) => downResidualName(i)), MID_RESIDUAL]);
    expect(residuals.map((r) => r.channels)).toEqual([...SHAPES.map((s) => s[0]), MID_SHAPE[0]]);
    // Each skip residual is added on the skip path only: its sum feeds exactly one Concat.
    for (const r of residuals.slice(0, 12)) {
      const sum = model.graph.node.find((n) => n.opType === 'Add' && n.input[1] === r.input)!;
      const users = model.graph.node.filter((n) => n.input.includes(sum.output[0]));
      expect(users.map((u) => u.opType)).toEqual(['Concat']);
    }

    const derived = await openDerived(model, source, fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-cr-')));
    const reference = await ort.InferenceSession.create(file);
    const feeds = unetFeeds(source.model, { batch: 2, size: 8 });
    const residualFeeds = (fill: (i: number, n: number) => Float32Array) => {
      const f: Record<string, ort.Tensor> = {};
      [...SHAPES, MID_SHAPE].forEach(([c, s], i) => {
        const name = i < 12 ? downResidualName(i) : MID_RESIDUAL;
        f[name] = new ort.Tensor('float32', fill(i, 2 * c * s * s), [2, c, s, s]);
      });
      return f;
    };
    const base = (await reference.run(feeds)).out_sample;
    const zero = (await derived.run({ ...feeds, ...residualFeeds((_, n) => new Float32Array(n)) })).out_sample;
    expect(maxAbsDiff(zero, base)).toBe(0);

    for (const target of [0, 5, 11, 12]) {
      const out = (await derived.run({ ...feeds, ...residualFeeds((i, n) => (i === target ? randomFloat32(n, i) : new Float32Array(n))) })).out_sample;
      expect(maxAbsDiff(out, base)).toBeGreaterThan(1e-3);
    }
  });

  it('refuses a model that already has the residual inputs', async () => {
    const source = loadModel(path.join(await testModelDir(variant), 'unet', 'model.onnx'));
    const once = addControlResiduals(source.model).model;
    expect(() => addControlResiduals(once)).toThrow(/already has an input 'down_block_0_additional_residual': it is ControlNet-ready/);
  });
});
