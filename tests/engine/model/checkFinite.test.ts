import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, saveModel } from '../../../main/engine/graph/ModelIO';
import { DataType } from '../../../main/engine/graph/onnx';
import { checkFinite } from '../../../main/engine/model/checkFinite';
import { StableDiffusionModel } from '../../../main/engine/model/StableDiffusionModel';
import { textToImage } from '../../../main/engine/pipelines/textToImage';
import { testModelDir } from '../../fixtures/models';

let tiny: string;
let tmp: string;

beforeAll(async () => {
  tiny = await testModelDir('tiny');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-finite-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A copy of the tiny model whose `part` float weights are all NaN (a fresh file, never the cached one). */
function nanCopy(name: string, part: 'unet' | 'vae_decoder'): string {
  const dir = path.join(tmp, name);
  fs.cpSync(tiny, dir, { recursive: true });
  if (part === 'unet') {
    // The UNet's weights are one external float32 file: overwrite it with NaNs of the same length.
    const weights = path.join(dir, 'unet', 'model.onnx_data');
    const n = fs.statSync(weights).size / 4;
    fs.rmSync(weights);
    fs.writeFileSync(weights, new Uint8Array(new Float32Array(n).fill(Number.NaN).buffer));
  } else {
    const file = path.join(dir, part, 'model.onnx');
    const { model } = loadModel(file);
    for (const t of model.graph.initializer) {
      if (t.dataType === DataType.FLOAT && t.rawData && t.rawData.length >= 4 * 16) {
        t.rawData = new Uint8Array(new Float32Array(t.rawData.length / 4).fill(Number.NaN).buffer);
      }
    }
    saveModel(model, file);
  }
  return dir;
}

describe('checkFinite', () => {
  it('passes finite values and counts NaN and ±Inf, naming the component and file', () => {
    expect(() => checkFinite(new Float32Array([0, -1, 3.4e38]), 'unet', 'u.onnx')).not.toThrow();
    let error: { code?: string; message: string; details?: Record<string, unknown> } | undefined;
    try {
      checkFinite(new Float32Array([1, Number.NaN, Infinity, -Infinity]), 'vae_decoder', 'v.onnx');
    } catch (e) {
      error = e as typeof error;
    }
    expect(error).toMatchObject({ code: 'BAD_MODEL', details: { component: 'vae_decoder', nan: 1, infinite: 2, file: 'v.onnx' } });
    expect(error!.message).toMatch(/^vae_decoder produced NaN values \(3 of 4\).*with fp16 models try the fp32 VAE or --provider cpu/);
    expect(() => checkFinite(new Float32Array([Infinity]), 'unet', 'u.onnx')).toThrow(/^unet produced infinite values/);
  });

  it('a UNet with NaN weights fails text-to-image naming the unet instead of returning a black image', async () => {
    const model = await StableDiffusionModel.load(nanCopy('nan-unet', 'unet'), { provider: 'cpu' });
    try {
      await expect(textToImage(model, { prompt: 'x', width: 64, height: 64, steps: 2, seed: 1 })).rejects.toMatchObject({
        code: 'BAD_MODEL',
        message: expect.stringMatching(/^unet produced NaN values/),
      });
      // It stops at the first step's UNet call (one batch-2 call for guidance).
      expect(model.components.unet.calls).toBe(1);
    } finally {
      await model.dispose();
    }
  });

  it('a VAE decoder with NaN weights fails naming the vae_decoder', async () => {
    const model = await StableDiffusionModel.load(nanCopy('nan-vae', 'vae_decoder'), { provider: 'cpu' });
    try {
      await expect(textToImage(model, { prompt: 'x', width: 64, height: 64, steps: 1, seed: 1 })).rejects.toMatchObject({
        code: 'BAD_MODEL',
        message: expect.stringMatching(/^vae_decoder produced NaN values.*fp32 VAE/),
      });
    } finally {
      await model.dispose();
    }
  });
});
