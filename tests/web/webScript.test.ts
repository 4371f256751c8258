import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkEngineOptions } from '../../main/web/checkEngineOptions';
import { testModelDir } from '../fixtures/models';

const root = process.cwd();
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'pentimento-web-script-'));
// Nothing the script might write (caches, projects) lands in the user's folders.
const env = { ...process.env, PENTIMENTO_USER_DATA: scratch, PENTIMENTO_PROVIDER: undefined };

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** `npm run web -- …args`, to its exit (it must exit by itself: these are startup errors). */
function web(...args: string[]) {
  const r = spawnSync(tsx, ['scripts/web.ts', ...args], { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.trim() };
}

describe('npm run web: options are checked before anything starts', () => {
  it('refuses a model folder that does not exist: one line naming it, exit 2, no URL', () => {
    const r = web('--model-dir', '/nonexistent');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^npm run web: Model folder \/nonexistent does not exist\./);
  });

  it('refuses a folder that is not a model, an unknown provider and an empty --model-dir, each with exit 2', () => {
    const notModel = web('--model-dir', path.join(root, 'tests'));
    expect(notModel.status).toBe(2);
    expect(notModel.stderr).toContain(path.join(root, 'tests', 'model_index.json'));
    const provider = web('--provider', 'tpu');
    expect(provider).toMatchObject({ status: 2, stdout: '' });
    expect(provider.stderr).toBe('npm run web: Unknown execution provider "tpu"; use one of auto, cpu, cuda, dml, coreml.');
    expect(web('--model-dir', '').status).toBe(2);
    expect(web('--port', '70000').status).toBe(2);
    // An empty port was Number('') = 0: any port, silently.
    const emptyPort = web('--port', '');
    expect(emptyPort).toMatchObject({ status: 2, stdout: '' });
    expect(emptyPort.stderr).toBe('npm run web: --port must be an integer 0–65535 (0 = any free port), not ""; npm run web -- --help lists the options.');
    // An unknown option is one line too, naming it.
    const unknown = web('--prot', '8080');
    expect(unknown).toMatchObject({ status: 2, stdout: '' });
    expect(unknown.stderr.split('\n')).toHaveLength(1);
    expect(unknown.stderr).toMatch(/^npm run web: .*'--prot'.*; npm run web -- --help lists the options\.$/);
    // A missing file names the flag that chose the folder, not the CLIs' --model.
    expect(notModel.stderr).toMatch(/, or leave out --model-dir to use the embedded test model\.$/);
  });

  it('a negative port is named as such (not as an option-like value), and a port in use is exit 2 with one line', async () => {
    const twice = web('--port', '0', '--port', '1234');
    expect(twice).toMatchObject({ status: 2, stdout: '', stderr: 'npm run web: --port is given twice; give it once; npm run web -- --help lists the options.' });
    const negative = web('--port', '-1');
    expect(negative).toMatchObject({ status: 2, stdout: '' });
    expect(negative.stderr).toBe('npm run web: --port must be an integer 0–65535 (0 = any free port), not "-1"; npm run web -- --help lists the options.');
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(tsx, ['scripts/web.ts', '--port', String(port)], { cwd: root, env });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      });
      expect(r).toMatchObject({ status: 2, stdout: '' });
      expect(r.stderr.trim().split('\n').at(-1)).toBe(`npm run web: port ${port} is in use; pick another with --port, or --port 0 for any free port.`);
    } finally {
      taken.close();
    }
  }, 180_000);

  it('stops serving when npm run web itself is stopped by a signal to npm alone (it went on, orphaned)', async () => {
    const dir = await testModelDir('tiny');
    const npm = spawn('npm', ['run', '-s', 'web', '--', '--model-dir', dir, '--provider', 'cpu', '--port', '0'], { cwd: root, env });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      npm.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
      npm.on('exit', (code) => reject(new Error(`npm exited ${code}`)));
    });
    expect((await fetch(url)).status).toBe(200);
    npm.kill('SIGTERM');
    const stopped = async () => {
      for (let i = 0; i < 40; i++) {
        try {
          await fetch(url);
        } catch {
          return true;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      return false;
    };
    expect(await stopped()).toBe(true);
  }, 180_000);

  it('--help lists every option on stdout, exit 0, starting nothing', () => {
    const r = web('--help');
    expect(r.status).toBe(0);
    for (const option of ['--port N', '--model-dir DIR', '--provider NAME', '--help']) expect(r.stdout).toContain(option);
    expect(r.stderr).toBe('');
  });

  const cudaLib = path.join(root, 'node_modules/onnxruntime-node/bin/napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
  it.runIf(process.platform === 'linux' && !existsSync(cudaLib))('refuses --provider cuda without the CUDA provider library: one line, exit 2, as the CLIs', () => {
    const r = web('--provider', 'cuda');
    expect(r).toMatchObject({ status: 2, stdout: '' });
    expect(r.stderr).toBe(
      'npm run web: The cuda execution provider is not usable here (its library libonnxruntime_providers_cuda.so is not installed; run npm run setup:cuda). Use --provider cpu or auto.',
    );
  });

  it('accepts a complete model folder and a known provider', async () => {
    await expect(checkEngineOptions({ modelDir: await testModelDir('tiny'), provider: 'cpu' })).resolves.toBeUndefined();
    await expect(checkEngineOptions({})).resolves.toBeUndefined();
  });

  it('serves with a generated model folder: the URL on stdout, then a clean stop on SIGTERM', async () => {
    const dir = await testModelDir('tiny');
    const child = spawn(tsx, ['scripts/web.ts', '--model-dir', dir, '--provider', 'cpu', '--port', '0'], { cwd: root, env });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{43}$/);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', resolve);
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
  }, 180_000);
});
