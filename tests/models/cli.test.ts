import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../main/engine/graph/ModelIO';

const run = promisify(execFile);
const cli = (args: string[]) => run('npx', ['tsx', 'models/cli.ts', ...args], { cwd: process.cwd() });

describe('npm run models -- controlnet | annotators', () => {
  it('writes a torch-style ControlNet and the four annotator slots', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-models-cli-'));
    await cli(['controlnet', 'tiny', '--out', path.join(dir, 'cn'), '--variant', 'torch']);
    const { model } = loadModel(path.join(dir, 'cn', 'model.onnx'));
    const outputs = model.graph.output.map((o) => o.name);
    expect(outputs).toHaveLength(13);
    expect(outputs[0]).toBe('down_block_res_sample_0');
    expect(model.graph.input.map((i) => i.name)).toContain('controlnet_cond');

    await cli(['annotators', '--out', path.join(dir, 'm')]);
    expect(fs.readdirSync(path.join(dir, 'm', 'annotators')).sort()).toEqual(['depth.onnx', 'hed.onnx', 'lineart.onnx', 'seg.onnx']);
  });

  it('refuses a controlnet without a preset with a one-line error and exit 2', async () => {
    const err = await cli(['controlnet', '--out', path.join(os.tmpdir(), 'never-written')]).catch((e) => e);
    expect(err.code).toBe(2);
    expect(err.stderr.trim().split('\n')).toHaveLength(1);
    expect(err.stderr).toMatch(/controlnet needs a preset/);
  });
});
