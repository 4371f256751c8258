import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultCacheRoot, ensureDefaultModel } from '../../../main/engine/model/defaultModel';
import { openModelFolder } from '../../../main/engine/model/ModelFolder';
import { GENERATOR_VERSION, readTestModelTag } from '../../../models/generate';

describe('ensureDefaultModel', () => {
  const saved = { cache: process.env.PENTIMENTO_CACHE_DIR, xdg: process.env.XDG_CACHE_HOME };
  let root: string | undefined;
  afterEach(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
    for (const [key, value] of [
      ['PENTIMENTO_CACHE_DIR', saved.cache],
      ['XDG_CACHE_HOME', saved.xdg],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('generates the tiny test model into <cache>/models/tiny-v<version> and tags it', async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-default-'));
    const dir = await ensureDefaultModel(root);
    expect(dir).toBe(path.join(root, 'models', `tiny-v${GENERATOR_VERSION}`));
    expect(readTestModelTag(dir)).toMatchObject({ testModel: true, preset: 'tiny', seed: 0, generatorVersion: GENERATOR_VERSION });
    expect(fs.existsSync(path.join(dir, 'unet', 'model.onnx_data'))).toBe(true);
    expect(await ensureDefaultModel(root)).toBe(dir);
  });

  it('regenerates a cached model whose weights file was cut short (files present, lengths wrong)', async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-default-'));
    const dir = await ensureDefaultModel(root);
    const weights = path.join(dir, 'unet', 'model.onnx_data');
    const size = fs.statSync(weights).size;
    fs.truncateSync(weights, 4096);
    expect(() => openModelFolder(dir)).toThrow(/truncated/);
    expect(await ensureDefaultModel(root)).toBe(dir);
    expect(fs.statSync(weights).size).toBe(size);
    expect(openModelFolder(dir).isTestModel).toBe(true);
    expect(fs.readdirSync(path.join(root, 'models')).filter((n) => n.includes('.broken-'))).toEqual([]);
  });

  it('cache root: PENTIMENTO_CACHE_DIR, else XDG_CACHE_HOME/pentimento', () => {
    process.env.PENTIMENTO_CACHE_DIR = '/some/where';
    expect(defaultCacheRoot()).toBe(path.resolve('/some/where'));
    delete process.env.PENTIMENTO_CACHE_DIR;
    process.env.XDG_CACHE_HOME = '/xdg/cache';
    if (process.platform !== 'win32') expect(defaultCacheRoot()).toBe(path.join('/xdg/cache', 'pentimento'));
  });
});
