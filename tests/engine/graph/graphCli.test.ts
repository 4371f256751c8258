import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../../main/engine/graph/ModelIO';
import { testModelDir } from '../../fixtures/models';

function graphCli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'main/cli/graph.ts', ...args], { encoding: 'utf8', cwd: process.cwd() });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('npm run graph', () => {
  let root: string;
  beforeAll(async () => {
    root = await testModelDir('tiny');
  });

  it('inspect prints the interface, opset, op histogram, parameters and weight files', () => {
    const r = graphCli('inspect', path.join(root, 'unet'));
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/opset 17, \d+ nodes, [\d,]+ parameters/);
    expect(r.stdout).toContain('  encoder_hidden_states: float[batch_size, sequence_length, 32]');
    expect(r.stdout).toContain('  out_sample: float[batch_size, 4, height, width]');
    expect(r.stdout).toContain('external data: model.onnx_data');
    expect(r.stdout).toMatch(/\n {2}Conv \d+\n/);
  });

  it('vjp saves a model that references the source weights', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-cli-'));
    const r = graphCli('vjp', path.join(root, 'unet'), '--wrt', 'encoder_hidden_states', '--of', 'out_sample', '--out', out);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const saved = loadModel(path.join(out, 'model.onnx'));
    expect(saved.model.graph.output.map((o) => o.name)).toEqual(['out_sample', 'encoder_hidden_states_grad']);
    expect(fs.readdirSync(out)).toEqual(expect.arrayContaining(['model.onnx', 'unet__model.onnx_data']));
  });

  it('bad input is one line on stderr and exit status 2, with no files written', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-cli-')), 'derived');
    const wrongName = graphCli('vjp', path.join(root, 'unet'), '--wrt', 'context', '--of', 'out_sample', '--out', out);
    expect(wrongName.status).toBe(2);
    expect(wrongName.stderr).toBe("graph: 'context' is not an input of the model; valid inputs: sample, timestep, encoder_hidden_states\n");
    expect(fs.existsSync(out)).toBe(false);
    const missing = graphCli('split-kv', path.join(root, 'nothing-here'), '--out', out);
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/file not found/);
    const noOut = graphCli('text-embeds', path.join(root, 'text_encoder'));
    expect(noOut.status).toBe(2);
    expect(noOut.stderr).toMatch(/--out OUT is required/);
  });
});
