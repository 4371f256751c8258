import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_VAE_SCALING, openModelFolder } from '../../../main/engine/model/ModelFolder';
import { StableDiffusionModel } from '../../../main/engine/model/StableDiffusionModel';
import { imageToImage } from '../../../main/engine/pipelines/imageToImage';
import { inpaint } from '../../../main/engine/pipelines/inpaint';
import { textToImage } from '../../../main/engine/pipelines/textToImage';
import { testModelDir } from '../../fixtures/models';

let tiny: string;
let tmp: string;

beforeAll(async () => {
  tiny = await testModelDir('tiny');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-folder-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A fresh copy of the tiny model that a test may break. */
function copyOfTiny(name: string): string {
  const dir = path.join(tmp, name);
  fs.cpSync(tiny, dir, { recursive: true });
  return dir;
}

/** The error openModelFolder throws for dir (it must throw one). */
function openError(dir: string): Error {
  try {
    openModelFolder(dir);
  } catch (e) {
    return e as Error;
  }
  throw new Error(`${dir} opened without an error`);
}

describe('openModelFolder', () => {
  it('describes the optimum-style tiny model from its files', () => {
    const f = openModelFolder(tiny);
    expect(f.isTestModel).toBe(true);
    expect(f.name).toBe('pentimento-test-tiny');
    expect(f.inpaintingUnet).toBe(false);
    expect(f.unetInChannels).toBe(4);
    expect(f.crossAttentionWidth).toBe(32); // models/presets.ts tiny crossAttentionDim
    expect(f.unetMaxBatch).toBe(Infinity); // symbolic batch dimension
    expect(f.vaeScalingFactor).toBe(DEFAULT_VAE_SCALING);
    expect(f.vaeEncoderOutputChannels).toBe(4);
    expect(f.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(f.parts.unet.weightFiles).toEqual([path.join(tiny, 'unet', 'model.onnx_data')]);
  });

  it('tells the torch layout (8-channel VAE latent) and the inpainting UNet apart', async () => {
    expect(openModelFolder(await testModelDir('tiny-torch')).vaeEncoderOutputChannels).toBe(8);
    const inpaint = openModelFolder(await testModelDir('tiny-inpaint'));
    expect(inpaint.inpaintingUnet).toBe(true);
    expect(inpaint.unetInChannels).toBe(9);
  });

  it('hashes contents only: a copy with other file times hashes equal; a changed graph or weight byte does not', () => {
    const a = copyOfTiny('hash-a');
    // Other modification times (a copy on another machine): the hash must not move.
    const later = new Date(Date.now() + 86_400_000);
    for (const part of ['text_encoder', 'unet', 'vae_encoder', 'vae_decoder']) {
      for (const file of fs.readdirSync(path.join(a, part))) fs.utimesSync(path.join(a, part, file), later, later);
    }
    const source = openModelFolder(tiny).hash;
    expect(openModelFolder(a).hash).toBe(source);

    const onnx = path.join(a, 'vae_decoder', 'model.onnx');
    const bytes = fs.readFileSync(onnx);
    bytes[bytes.length - 1] ^= 1;
    fs.writeFileSync(onnx, bytes);
    expect(openModelFolder(a).hash).not.toBe(source);

    // A weight byte in the last sample (the file's last byte), external data of the UNet.
    const b = copyOfTiny('hash-b');
    const data = path.join(b, 'unet', 'model.onnx_data');
    const w = fs.readFileSync(data);
    w[w.length - 1] ^= 0x40;
    fs.writeFileSync(data, w);
    expect(openModelFolder(b).hash).not.toBe(source);
  });

  it('a missing UNet graph is MODEL_MISSING naming unet/model.onnx', () => {
    const dir = copyOfTiny('no-unet');
    fs.rmSync(path.join(dir, 'unet', 'model.onnx'));
    expect(() => openModelFolder(dir)).toThrow(
      expect.objectContaining({ code: 'MODEL_MISSING', message: expect.stringContaining(path.join(dir, 'unet', 'model.onnx')) }),
    );
  });

  it('truncated external weights are BAD_MODEL naming the weights file', () => {
    const dir = copyOfTiny('truncated');
    const weights = path.join(dir, 'unet', 'model.onnx_data');
    fs.truncateSync(weights, Math.floor(fs.statSync(weights).size / 2));
    let error: unknown;
    try {
      openModelFolder(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'BAD_MODEL' });
    expect((error as Error).message).toContain('model.onnx_data');
    expect((error as Error).message).toContain('truncated');
    expect((error as Error).message).toContain(path.join(dir, 'unet', 'model.onnx'));
  });

  it('a missing tokenizer is MODEL_MISSING naming tokenizer/vocab.json', () => {
    const dir = copyOfTiny('no-tokenizer');
    fs.rmSync(path.join(dir, 'tokenizer'), { recursive: true });
    expect(() => openModelFolder(dir)).toThrow(
      expect.objectContaining({ code: 'MODEL_MISSING', message: expect.stringContaining(path.join(dir, 'tokenizer', 'vocab.json')) }),
    );
  });

  it('a missing folder, model index or scheduler config is MODEL_MISSING; broken JSON is BAD_MODEL', () => {
    expect(() => openModelFolder(path.join(tmp, 'nowhere'))).toThrow(expect.objectContaining({ code: 'MODEL_MISSING' }));
    const dir = copyOfTiny('no-scheduler');
    fs.rmSync(path.join(dir, 'scheduler', 'scheduler_config.json'));
    expect(() => openModelFolder(dir)).toThrow(expect.objectContaining({ message: expect.stringContaining('scheduler_config.json') }));
    fs.writeFileSync(path.join(dir, 'model_index.json'), '{ not json');
    expect(() => openModelFolder(dir)).toThrow(expect.objectContaining({ code: 'BAD_MODEL', message: expect.stringContaining('model_index.json') }));
  });

  it('a file given as the folder is MODEL_MISSING saying it is a file, not a model folder', () => {
    const file = path.join(tmp, 'photo.png');
    fs.writeFileSync(file, 'not a folder');
    expect(() => openModelFolder(file)).toThrow(
      expect.objectContaining({ code: 'MODEL_MISSING', message: expect.stringContaining(`${file} is a file, not a model folder`) }),
    );
    expect(() => openModelFolder(path.join(tmp, 'nowhere'))).toThrow(/Model folder .*nowhere does not exist/);
  });

  it('a broken generated test model says to delete it (it is regenerated), not to download it', () => {
    const dir = copyOfTiny('broken-test-model');
    fs.truncateSync(path.join(dir, 'unet', 'model.onnx_data'), 4096);
    const error = openError(dir);
    expect(error).toMatchObject({ code: 'BAD_MODEL' });
    expect(error.message).toContain('model.onnx_data');
    expect(error.message).toContain(`${dir} is a generated test model (pentimento.testModel): delete the folder and it is regenerated`);
    expect(error.message).not.toMatch(/Download the model again/);
  });

  it('a truncated model.onnx is explained (truncated, damaged or not ONNX), as its own sentence before the test-model advice', () => {
    const dir = copyOfTiny('truncated-graph');
    const file = path.join(dir, 'unet', 'model.onnx');
    fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2));
    const error = openError(dir);
    expect(error).toMatchObject({ code: 'BAD_MODEL' });
    expect(error.message).toMatch(/unet.model\.onnx: not a valid ONNX model \(its \d+ bytes do not parse as an ONNX protobuf: the file is truncated, damaged or not ONNX; the parser stopped with ".+"\)\. /);
    expect(error.message).toContain(`). ${dir} is a generated test model`);
  });

  it('vae_encoder/ is optional: the folder opens and text-to-image runs; a photo edit names the missing file', async () => {
    const dir = copyOfTiny('no-vae-encoder');
    fs.rmSync(path.join(dir, 'vae_encoder'), { recursive: true });
    const f = openModelFolder(dir);
    expect(f.hasVaeEncoder).toBe(false);
    expect(f.parts.vae_encoder).toBeUndefined();
    expect(openModelFolder(tiny).hasVaeEncoder).toBe(true);
    const model = await StableDiffusionModel.load(dir, { provider: 'cpu' });
    try {
      const r = await textToImage(model, { prompt: 'x', width: 64, height: 64, steps: 1, seed: 1 });
      expect(r.rgb.length).toBe(64 * 64 * 3);
      const photo = { rgb: r.rgb, width: 64, height: 64 };
      const missing = expect.objectContaining({ code: 'MODEL_MISSING', message: expect.stringContaining(path.join(dir, 'vae_encoder', 'model.onnx')) });
      await expect(imageToImage(model, { prompt: 'x', image: photo, steps: 2, seed: 1 })).rejects.toEqual(missing);
      await expect(inpaint(model, { prompt: 'x', image: photo, mask: new Float32Array(64 * 64).fill(1), steps: 2, seed: 1 })).rejects.toEqual(missing);
    } finally {
      await model.dispose();
    }
  });

  it('StableDiffusionModel.load validates the folder before creating any session', async () => {
    const dir = copyOfTiny('truncated-load');
    const weights = path.join(dir, 'unet', 'model.onnx_data');
    fs.truncateSync(weights, 1000);
    await expect(StableDiffusionModel.load(dir, { provider: 'cpu' })).rejects.toMatchObject({
      code: 'BAD_MODEL',
      message: expect.stringContaining('model.onnx_data'),
    });
  });
});
