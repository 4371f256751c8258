/**
 * `npm run web [-- --port N] [--model-dir DIR] [--provider NAME]`: Pentimento in the browser.
 * Serves the built renderer and the engine on 127.0.0.1; the first stdout line is the URL to
 * open (it carries the access token). Builds the renderer first if it has not been built, or
 * was built before its sources last changed.
 * Exit status 2: bad arguments — an unknown option, port or provider, or a --model-dir that is
 * not a complete model folder (checked before anything starts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createEngine } from '../main/electron/createEngine';
import { LazyEngine } from '../main/electron/LazyEngine';
import { repeatedFlag } from '../main/cli/cliUtil';
import { isPentimentoError } from '../main/engine/errors';
import { checkEngineOptions } from '../main/web/checkEngineOptions';
import { defaultUserDataDir } from '../main/web/defaultUserDataDir';
import { isBuildStale } from '../main/web/isBuildStale';
import { startWebServer } from '../main/web/WebServer';

const root = path.resolve(import.meta.dirname, '..');
const rendererDir = path.join(root, 'out', 'renderer');

const USAGE = 'Usage: npm run web -- [--port N] [--model-dir DIR] [--provider cpu|cuda|…]';
const HELP = `${USAGE}

Serves Pentimento on 127.0.0.1 and prints the URL to open (with its access token) on stdout.
  --port N          port to listen on, 0–65535; default 0 (any free port)
  --model-dir DIR   a diffusers ONNX model folder; default: the first model folder under
                    <user data>/models/, else the embedded random-weight test model
  --provider NAME   auto | cpu | cuda | dml | coreml (default auto, or $PENTIMENTO_PROVIDER)
  --help, -h        print this and exit`;

/** A bad argument: one line on stderr (as every other startup error), exit 2. */
function usage(message: string): never {
  const oneLine = message.replace(/\s*\n\s*/g, ' ').replace(/\.$/, '');
  console.error(`npm run web: ${oneLine}; npm run web -- --help lists the options.`);
  process.exit(2);
}

let values: { port?: string; 'model-dir'?: string; provider?: string; help?: boolean };
// `--port -1` reads to Node's parser as an option-like value; name the real problem instead.
const args = process.argv.slice(2);
const portAt = args.indexOf('--port');
if (portAt >= 0 && /^-\d/.test(args[portAt + 1] ?? '')) usage(`--port must be an integer 0–65535 (0 = any free port), not "${args[portAt + 1]}"`);
try {
  const options = { port: { type: 'string' }, 'model-dir': { type: 'string' }, provider: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;
  let tokens;
  ({ values, tokens } = parseArgs({ options, strict: true, tokens: true }));
  const twice = repeatedFlag(tokens, options);
  if (twice !== undefined) usage(`--${twice} is given twice; give it once`);
} catch (e) {
  usage(e instanceof Error ? e.message : String(e));
}
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
// Digits only: Number('') and Number(' ') are 0, which would silently mean "any port".
const port = values.port === undefined ? 0 : /^\d+$/.test(values.port) ? Number(values.port) : NaN;
if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`--port must be an integer 0–65535 (0 = any free port), not "${values.port}".`);

// Before the build and the server: a bad folder or provider is the user's to fix now (exit 2, like usage).
try {
  await checkEngineOptions({ modelDir: values['model-dir'], provider: values.provider });
} catch (e) {
  console.error(`npm run web: ${isPentimentoError(e) ? e.message : String(e)}`);
  process.exit(isPentimentoError(e) && e.code !== 'IO_ERROR' && e.code !== 'INTERNAL' ? 2 : 1);
}

// What the renderer bundle is built from: its own folder and what it imports from main/.
const rendererSources = [
  'renderer',
  'main/contract',
  'main/engine/errors.ts',
  'main/engine/schedulers/img2imgStart.ts',
  'electron.vite.config.ts',
  'package-lock.json',
].map((p) => path.join(root, p));
const builtPage = path.join(rendererDir, 'index.html');
if (isBuildStale(builtPage, rendererSources)) {
  console.error(existsSync(builtPage) ? 'Rebuilding the renderer (its sources changed)…' : 'Building the renderer (first run)…');
  // Build output goes to stderr: stdout's first line is reserved for the URL.
  const build = spawnSync(process.execPath, [path.join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], {
    cwd: root,
    stdio: ['ignore', 2, 2],
  });
  if (build.status !== 0) {
    console.error('The renderer build failed (see above); fix it or run `npm run build` to see why.');
    process.exit(1);
  }
}

const engine = new LazyEngine(() =>
  createEngine({ modelDir: values['model-dir'], provider: values.provider, userDataDir: defaultUserDataDir() }),
);
let server;
try {
  server = await startWebServer({ engine, rendererDir, port });
} catch (e) {
  const code = (e as NodeJS.ErrnoException).code;
  // A port in use is the user's to change (exit 2, as a bad --port); anything else is ours (1).
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    console.error(`npm run web: port ${port} ${code === 'EADDRINUSE' ? 'is in use' : 'may not be opened by this user'}; pick another with --port, or --port 0 for any free port.`);
    process.exit(2);
  }
  console.error(`npm run web: could not start the server: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
console.log(server.url);
console.error('Pentimento is serving on 127.0.0.1 only. Open the URL above in your browser; Ctrl+C stops it.');

const stop = async () => {
  await server.close();
  await engine.dispose();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
// Stopping `npm run web` by signalling npm alone (a process manager, `kill <npm pid>`) ends npm
// and its shell but not this process, which would go on serving orphaned: stop when the parent goes.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void stop();
}, 1000).unref();
