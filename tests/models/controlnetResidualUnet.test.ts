import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { addControlResiduals } from '../../main/engine/graph/addControlResiduals';
import { loadModel } from '../../main/engine/graph/ModelIO';
import { valueShape } from '../../main/engine/graph/onnx';
import { residualUnetModelDir } from '../../models/controlnet/testControlNets';
import { unetResidualInputNames } from '../../models/unet';
import { testModelDir } from '../fixtures/models';
import { maxAbsDiff, openDerived, randomFloat32, unetFeeds } from '../engine/graph/unetFeeds';

// Residual channels and sizes of an 8×8 latent for the tiny UNet, down 0–11 then mid.
const SHAPES: [number, number][] = [
  [32, 8], [32, 8], [32, 8], [32, 4],
  [64, 4], [64, 4], [64, 2],
  [64, 2], [64, 2], [64, 1],
  [64, 1], [64, 1],
  [64, 1],
];

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-resunet-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function residualFeeds(names: string[], batch: number, fill: (i: number, n: number) => Float32Array): Record<string, ort.Tensor> {
  return Object.fromEntries(
    SHAPES.map(([c, s], i) => [names[i], new ort.Tensor('float32', fill(i, batch * c * s * s), [batch, c, s, s])]),
  );
}

describe.each(['optimum', 'torch'] as const)('UNet exported with ControlNet residual inputs (%s)', (variant) => {
  const plainVariant = variant === 'torch' ? 'tiny-torch' : 'tiny';

  it('declares the 13 residual inputs after the usual three, with the skip channels', async () => {
    const graph = loadModel(path.join(await residualUnetModelDir(variant), 'unet', 'model.onnx')).model.graph;
    const names = unetResidualInputNames(variant);
    expect(graph.input.map((v) => v.name)).toEqual(['sample', 'timestep', 'encoder_hidden_states', ...names.down, names.mid]);
    expect(graph.input.slice(3).map((v) => valueShape(v)?.[1])).toEqual(SHAPES.map((s) => s[0]));
  });

  it('with zero residuals equals the plain UNet of the same seed', async () => {
    const plainFile = path.join(await testModelDir(plainVariant), 'unet', 'model.onnx');
    const plain = await ort.InferenceSession.create(plainFile);
    const ready = await ort.InferenceSession.create(path.join(await residualUnetModelDir(variant), 'unet', 'model.onnx'));
    const feeds = unetFeeds(loadModel(plainFile).model, { batch: 2, size: 8 });
    const names = unetResidualInputNames(variant);
    const base = (await plain.run(feeds)).out_sample;
    const zero = (await ready.run({ ...feeds, ...residualFeeds([...names.down, names.mid], 2, (_, n) => new Float32Array(n)) })).out_sample;
    expect(maxAbsDiff(zero, base)).toBeLessThanOrEqual(1e-6);
  });

  it('equals the plain UNet made residual-ready by addControlResiduals, for random residuals', async () => {
    const plainFile = path.join(await testModelDir(plainVariant), 'unet', 'model.onnx');
    const source = loadModel(plainFile);
    const surgery = await openDerived(addControlResiduals(source.model).model, source, fs.mkdtempSync(path.join(scratch, variant)));
    const exported = await ort.InferenceSession.create(path.join(await residualUnetModelDir(variant), 'unet', 'model.onnx'));
    const feeds = unetFeeds(source.model, { batch: 2, size: 8 });
    const names = unetResidualInputNames(variant);
    const surgeryNames = [...Array.from({ length: 12 }, (_, i) => `down_block_${i}_additional_residual`), 'mid_block_additional_residual'];
    const fill = (i: number, n: number) => randomFloat32(n, 100 + i, 0.5);
    const a = (await surgery.run({ ...feeds, ...residualFeeds(surgeryNames, 2, fill) })).out_sample;
    const b = (await exported.run({ ...feeds, ...residualFeeds([...names.down, names.mid], 2, fill) })).out_sample;
    const base = (await exported.run({ ...feeds, ...residualFeeds([...names.down, names.mid], 2, (_, n) => new Float32Array(n)) })).out_sample;
    // The residuals matter (the comparison is not between two copies of the plain output)…
    expect(maxAbsDiff(b, base)).toBeGreaterThan(1e-2);
    // …and both graphs add them at the same places.
    expect(maxAbsDiff(a, b)).toBeLessThanOrEqual(1e-5);
  });
});
