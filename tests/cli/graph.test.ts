import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testModelDir } from '../fixtures/models';
import { runCliScript } from './runCli';

const graph = (args: string[], initCwd?: string) => runCliScript('main/cli/graph.ts', args, { initCwd });

let tmp: string;
let tiny: string;
beforeAll(async () => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-graph-cli-')));
  tiny = await testModelDir('tiny');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('npm run graph', () => {
  it('with no arguments prints the usage to stderr and exits 2; --help prints it to stdout and exits 0', async () => {
    const [none, help] = await Promise.all([graph([]), graph(['--help'])]);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/^Usage: npm run graph -- COMMAND MODEL/);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm run graph/);
  });

  it('reads MODEL and writes --out relative to the caller\'s folder (INIT_CWD)', async () => {
    fs.cpSync(path.join(tiny, 'vae_decoder'), path.join(tmp, 'vae'), { recursive: true });
    const inspect = await graph(['inspect', 'vae'], tmp);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(inspect.stdout.split('\n')[0]).toBe(path.join(tmp, 'vae', 'model.onnx'));
    const vjp = await graph(['vjp', 'vae', '--wrt', 'latent_sample', '--of', 'sample', '--out', 'vae-vjp'], tmp);
    expect(vjp.code, vjp.stderr).toBe(0);
    expect(fs.existsSync(path.join(tmp, 'vae-vjp', 'model.onnx'))).toBe(true);
  });

  it('refuses an --out with another extension than .onnx (it became a folder out.txt/model.onnx) or naming a file', async () => {
    fs.writeFileSync(path.join(tmp, 'a-file'), 'x');
    const unet = path.join(tiny, 'unet');
    const [txt, file] = await Promise.all([
      graph(['split-kv', unet, '--out', path.join('g', 'out.txt')], tmp),
      graph(['split-kv', unet, '--out', 'a-file'], tmp),
    ]);
    expect(txt.code).toBe(2);
    expect(txt.stderr.trim()).toBe(`graph: --out ${path.join('g', 'out.txt')}: give an .onnx file or a folder (it gets model.onnx), not a .txt name.`);
    expect(fs.existsSync(path.join(tmp, 'g'))).toBe(false);
    expect(file.code).toBe(2);
    expect(file.stderr.trim()).toBe('graph: --out a-file is a file; give an .onnx file or a folder (it gets model.onnx).');
    // A folder whose name has a dot is still a folder.
    fs.mkdirSync(path.join(tmp, 'kv.v2'));
    const dotted = await graph(['text-embeds', path.join(tiny, 'text_encoder'), '--out', 'kv.v2'], tmp);
    expect(dotted.code, dotted.stderr).toBe(0);
    expect(fs.existsSync(path.join(tmp, 'kv.v2', 'model.onnx'))).toBe(true);
  });

  it('vjp refuses integer inputs (the timestep of an optimum UNet, token ids), naming the dtype', async () => {
    const [timestep, ids] = await Promise.all([
      graph(['vjp', path.join(tiny, 'unet'), '--wrt', 'timestep', '--of', 'out_sample', '--out', path.join(tmp, 'never-t')]),
      graph(['vjp', path.join(tiny, 'text_encoder'), '--wrt', 'input_ids', '--of', 'last_hidden_state', '--out', path.join(tmp, 'never-ids')]),
    ]);
    expect(timestep.code).toBe(2);
    expect(timestep.stderr.trim()).toMatch(/^graph: 'timestep' is int64; only floating-point inputs have gradients$/);
    expect(ids.code).toBe(2);
    expect(ids.stderr.trim()).toMatch(/^graph: 'input_ids' is int\d+; only floating-point inputs have gradients .*text-embeds.*inputs_embeds/);
    expect(fs.existsSync(path.join(tmp, 'never-t'))).toBe(false);
  });
});
