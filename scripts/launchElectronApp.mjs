// What `npm start` and `npm run dev` share: install scripts are off (.npmrc), so Electron's binary
// is fetched here on first use; then electron-vite runs the app. Where Electron cannot be had,
// say so in two lines and point at the browser mode, rather than let electron-vite fail with a
// stack trace.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const electronDir = path.join(root, 'node_modules', 'electron');
const electronInstalled = () => existsSync(path.join(electronDir, 'dist')) && existsSync(path.join(electronDir, 'path.txt'));

function fail(reason) {
  console.error(`Electron could not be downloaded (${reason}).\nRun \`npm run web\` to use Pentimento in your browser instead.`);
  process.exit(1);
}

/** Fetches Electron's binary when it is missing; exits with the reason when it cannot. */
export function ensureElectron() {
  if (electronInstalled()) return;
  console.error('Downloading Electron (first run only)…');
  // The installer's output is kept: offline it is a dozen lines of stack trace that say less
  // than their first line. PENTIMENTO_DEBUG=1 shows it whole.
  const install = spawnSync(process.execPath, [path.join(electronDir, 'install.js')], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 15 * 60 * 1000,
  });
  if (install.error || install.status !== 0 || !electronInstalled()) {
    const output = `${install.stderr ?? ''}\n${install.stdout ?? ''}`.trim();
    if (process.env.PENTIMENTO_DEBUG && output) process.stderr.write(output + '\n');
    // The error's first line ("RequestError: getaddrinfo ENOTFOUND github.com") says the most.
    const firstLine = output.split('\n').find((l) => l.trim() && !/^\s+at /.test(l)) ?? '';
    const reason =
      install.error?.message ||
      firstLine.trim() ||
      (install.status === null ? `killed by ${install.signal}` : `install.js exited with code ${install.status}`);
    fail(reason.length > 200 ? reason.slice(0, 200) + '…' : reason);
  }
}

/** `electron-vite <command>` (preview: build and launch; dev: with hot reload) once Electron is there. */
export function launchElectronApp(command) {
  ensureElectron();
  const electronVite = path.join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');
  const app = spawn(process.execPath, [electronVite, command, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
  app.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => app.kill(sig));
}
