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

  it('refuses an --out that is a file (or lies below one) with a one-line error and exit 2, leaving the file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-models-cli-'));
    const file = path.join(dir, 'existing-file.png');
    fs.writeFileSync(file, 'x');
    const cases: [string[], RegExp][] = [
      [['tiny', '--out', file], /^models: --out .*existing-file\.png is a file; give a folder \(created if missing\)\.$/],
      [['annotators', '--out', file], /is a file; give a folder/],
      [['controlnet', 'tiny', '--out', path.join(file, 'cn')], /^models: --out .*cn: .*existing-file\.png is a file, not a folder\.$/],
      // The usage names every kind of thing generated, not only the model presets.
      [['foo'], /^models: Name what to generate: a model preset \(tiny or full\), controlnet PRESET or annotators; got foo\. See --help\.$/],
    ];
    const errs = await Promise.all(cases.map(([args]) => cli(args).catch((e) => e)));
    errs.forEach((err, i) => {
      expect(err.code, err.stderr).toBe(2);
      expect(err.stderr.trim().split('\n')).toHaveLength(1);
      expect(err.stderr.trim()).toMatch(cases[i][1]);
    });
    expect(fs.readFileSync(file, 'utf8')).toBe('x');
    const help = await cli(['--help']);
    expect(help.stdout).toMatch(/tiny: small widths, about 21 MiB/);
  });

  it('refuses a controlnet without a preset with a one-line error and exit 2', async () => {
    const err = await cli(['controlnet', '--out', path.join(os.tmpdir(), 'never-written')]).catch((e) => e);
    expect(err.code).toBe(2);
    expect(err.stderr.trim().split('\n')).toHaveLength(1);
    expect(err.stderr).toMatch(/controlnet needs a preset/);
  });
});
