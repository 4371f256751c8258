#!/usr/bin/env node
// `npm run setup:cuda`: fetches onnxruntime-node's CUDA 12 provider libraries (Linux x64), which its
// package does not carry and which Pentimento's `.npmrc` keeps npm install from fetching.
//
// It runs onnxruntime-node's own installer, asking for the CUDA 12 manifest through the installer's
// documented environment variable. Two traps in onnxruntime-node 1.30's installer are avoided: its
// `--onnxruntime-node-install=cuda12` flag parses as "not specified", and under `npm run` an
// unspecified install exits at once as a "local install" — both without a word. Whatever the
// installer does, this script then checks the library is there and says in one line what happened.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CUDA_LIBRARY = 'libonnxruntime_providers_cuda.so';

/** The installer's environment: CUDA 12 requested, and nothing that would make it skip or exit early. */
export function installerEnv(env) {
  const out = { ...env };
  for (const name of [
    'ONNXRUNTIME_NODE_INSTALL',
    'npm_config_onnxruntime_node_install',
    'npm_config_onnxruntime_node_install_cuda',
    'npm_config_local_prefix',
    'npm_package_json',
  ]) {
    delete out[name];
  }
  out.ONNXRUNTIME_NODE_INSTALL_CUDA = 'v12';
  return out;
}

/** The last line of the installer's output that says what went wrong (its stack frames left out). */
function reason(output) {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^at /.test(l) && !/^node:internal/.test(l) && !/^\^+$/.test(l) && !/^Node\.js v/.test(l));
  const thrown = [...lines].reverse().find((l) => /^\w*Error: /.test(l));
  const error = thrown ?? [...lines].reverse().find((l) => /error|fail|ENOTFOUND|ECONN|EAI_AGAIN|ETIMEDOUT|denied/i.test(l));
  return (error ?? lines.at(-1) ?? 'no output').slice(0, 300);
}

/**
 * Runs the installer and checks its result. Returns the exit code; `log` and `fail` take one line
 * each. Options exist for tests: another installer, platform or binary folder.
 */
export function setupCuda({
  env = process.env,
  platform = process.platform,
  arch = process.arch,
  installer = path.join(root, 'node_modules/onnxruntime-node/script/install.js'),
  binDir = path.join(root, 'node_modules/onnxruntime-node/bin/napi-v6', platform, arch),
  log = (line) => console.log(line),
  fail = (line) => console.error(line),
} = {}) {
  if (platform === 'win32' || platform === 'darwin') {
    log(`setup:cuda: nothing to install on ${platform === 'win32' ? 'Windows: DirectML' : 'macOS: CoreML'} is part of onnxruntime-node's build there.`);
    return 0;
  }
  if (platform !== 'linux' || arch !== 'x64') {
    fail(`setup:cuda: onnxruntime-node has CUDA provider libraries for Linux x64 only, not ${platform} ${arch}; Pentimento runs on the CPU here.`);
    return 1;
  }
  const library = path.join(binDir, CUDA_LIBRARY);
  if (!existsSync(installer)) {
    fail(`setup:cuda: onnxruntime-node's installer ${installer} is missing; run npm install first.`);
    return 1;
  }
  log(`setup:cuda: fetching onnxruntime-node's CUDA 12 provider (a few hundred MB from its NuGet feed)…`);
  const run = spawnSync(process.execPath, [installer], { env: installerEnv(env), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const output = `${run.stdout ?? ''}\n${run.stderr ?? ''}`;
  if (run.error || run.status !== 0) {
    fail(`setup:cuda: the download failed (${run.error ? run.error.message : reason(output)}); it needs internet access to api.nuget.org. ${CUDA_LIBRARY} was not installed.`);
    return 1;
  }
  if (!existsSync(library)) {
    fail(`setup:cuda: onnxruntime-node's installer finished but ${library} is not there (${reason(output)}).`);
    return 1;
  }
  const mb = Math.round(statSync(library).size / 2 ** 20);
  log(
    `setup:cuda: installed ${library} (${mb} MB). It needs the CUDA 12 runtime and cuDNN 9 on the library path; check with npm run edit -- --provider cuda --txt2img --prompt test --json.`,
  );
  return 0;
}

/** onnxruntime-node's own reading of its install flags, under the environment given (tests use it). */
export function installerFlag(env) {
  const require = createRequire(import.meta.url);
  const utils = require(path.join(root, 'node_modules/onnxruntime-node/script/install-utils.js'));
  const saved = process.env;
  const savedArgv = process.argv;
  try {
    process.env = env;
    process.argv = [process.execPath, 'install.js'];
    return utils.parseInstallFlag();
  } finally {
    process.env = saved;
    process.argv = savedArgv;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exit(setupCuda());
}
