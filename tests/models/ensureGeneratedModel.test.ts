import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureGeneratedModel } from '../../models/ensureGeneratedModel';
import { isGeneratedModelComplete } from '../../models/generate';

const OPTIONS = { preset: 'tiny', seed: 9, variant: 'optimum' } as const;

describe('ensureGeneratedModel', () => {
  let root: string;
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('generates once and reuses the folder afterwards', async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-ensure-'));
    const dir = path.join(root, 'm');
    expect(await ensureGeneratedModel(dir, OPTIONS)).toBe(dir);
    expect(isGeneratedModelComplete(dir, OPTIONS)).toBe(true);
    const before = fs.statSync(path.join(dir, 'unet', 'model.onnx')).ino;
    await ensureGeneratedModel(dir, OPTIONS);
    expect(fs.statSync(path.join(dir, 'unet', 'model.onnx')).ino).toBe(before);
    // Other options are a different model: not complete for them.
    expect(isGeneratedModelComplete(dir, { ...OPTIONS, seed: 10 })).toBe(false);
  });

  it('concurrent callers all get one complete folder and leave no staging folders', async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-ensure-'));
    const dir = path.join(root, 'm');
    const dirs = await Promise.all([1, 2, 3].map(() => ensureGeneratedModel(dir, OPTIONS)));
    expect(dirs).toEqual([dir, dir, dir]);
    expect(isGeneratedModelComplete(dir, OPTIONS)).toBe(true);
    expect(fs.readdirSync(root)).toEqual(['m']);
  });

  it('replaces a broken folder', async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-ensure-'));
    const dir = path.join(root, 'm');
    await ensureGeneratedModel(dir, OPTIONS);
    fs.rmSync(path.join(dir, 'unet', 'model.onnx_data'));
    expect(isGeneratedModelComplete(dir, OPTIONS)).toBe(false);
    await ensureGeneratedModel(dir, OPTIONS);
    expect(isGeneratedModelComplete(dir, OPTIONS)).toBe(true);
    expect(fs.readdirSync(root)).toEqual(['m']);
  });
});
