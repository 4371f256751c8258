import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { CUDA_LIBRARY, installerEnv, installerFlag, setupCuda } from '../../scripts/setupCuda.mjs';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'pentimento-setup-cuda-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** setupCuda with a stand-in installer script; what it printed, line by line. */
function run(installerSource: string, options: Record<string, unknown> = {}) {
  const installer = path.join(tmp, `installer-${Math.random().toString(36).slice(2)}.cjs`);
  writeFileSync(installer, installerSource);
  const binDir = mkdtempSync(path.join(tmp, 'bin-'));
  const out: string[] = [];
  const err: string[] = [];
  const code = setupCuda({ installer, binDir, platform: 'linux', arch: 'x64', env: {}, log: (l: string) => out.push(l), fail: (l: string) => err.push(l), ...options });
  return { code, out, err, binDir };
}

describe('npm run setup:cuda', () => {
  it("asks onnxruntime-node's installer for CUDA 12 in a way it understands, even under npm run with installs skipped", () => {
    // The installer's own flag parser: its --onnxruntime-node-install=cuda12 read as "not specified",
    // which under npm run (npm_config_local_prefix + npm_package_json) exits without installing.
    const underNpm = { ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_local_prefix: '/p', npm_package_json: '/p/package.json', PATH: '/usr/bin' };
    expect(installerFlag(underNpm)).toBe(false);
    const env = installerEnv(underNpm);
    expect(installerFlag(env)).toBe('cuda12');
    expect(env).not.toHaveProperty('npm_config_local_prefix');
    expect(env.PATH).toBe('/usr/bin');
  });

  it('a failed download is one line naming the error, without the stack, and exit 1', () => {
    const r = run("console.error('Error: getaddrinfo ENOTFOUND api.nuget.org\\n    at GetAddrInfoReqWrap.onlookupall (node:dns:122:26)'); process.exit(1);");
    expect(r.code).toBe(1);
    expect(r.err).toEqual([
      `setup:cuda: the download failed (Error: getaddrinfo ENOTFOUND api.nuget.org); it needs internet access to api.nuget.org. ${CUDA_LIBRARY} was not installed.`,
    ]);
  });

  it('an installer that exits 0 without the library is a failure too (it used to pass silently)', () => {
    const r = run('process.exit(0);');
    expect(r.code).toBe(1);
    expect(r.err[0]).toBe(`setup:cuda: onnxruntime-node's installer finished but ${path.join(r.binDir, CUDA_LIBRARY)} is not there (no output).`);
  });

  it('reports the installed library with what it needs; nothing to do on Windows and macOS; other Linux CPUs are told why not', () => {
    // The stand-in "downloads" by writing the library where the real installer puts it.
    const binDir = mkdtempSync(path.join(tmp, 'bin-ok-'));
    const ok = run(`require('fs').writeFileSync(${JSON.stringify(path.join(binDir, CUDA_LIBRARY))}, Buffer.alloc(3 << 20)); process.env.ONNXRUNTIME_NODE_INSTALL_CUDA === 'v12' || process.exit(3);`, { binDir });
    expect(ok.code).toBe(0);
    expect(ok.out.at(-1)).toBe(
      `setup:cuda: installed ${path.join(binDir, CUDA_LIBRARY)} (3 MB). It needs the CUDA 12 runtime and cuDNN 9 on the library path; check with npm run edit -- --provider cuda --txt2img --prompt test --json.`,
    );
    expect(run('process.exit(1);', { platform: 'darwin', arch: 'arm64' })).toMatchObject({ code: 0, out: ["setup:cuda: nothing to install on macOS: CoreML is part of onnxruntime-node's build there."] });
    expect(run('process.exit(1);', { platform: 'linux', arch: 'arm64' })).toMatchObject({ code: 1, err: [expect.stringContaining('Linux x64 only, not linux arm64')] });
  });
});
