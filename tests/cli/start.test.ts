import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = process.cwd();
const electronInstalled = fs.existsSync(path.join(ROOT, 'node_modules', 'electron', 'dist'));

describe('npm start (scripts/start.mjs) and npm run dev (scripts/dev.mjs)', () => {
  // With Electron installed the scripts would launch the app; the offline path is what is tested.
  // npm run dev ran electron-vite directly, which died with a stack trace without the binary.
  it.skipIf(electronInstalled).each(['scripts/start.mjs', 'scripts/dev.mjs'])('%s offline: two lines after the download notice — the reason and npm run web — and no stack trace', (script) => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-electron-cache-'));
    try {
      // A refused connection on loopback stands in for no network; an empty cache forces a download.
      const r = spawnSync(process.execPath, [script], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, ELECTRON_MIRROR: 'http://127.0.0.1:9/', electron_config_cache: cache, PENTIMENTO_DEBUG: '' },
      });
      expect(r.status).toBe(1);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, r.stderr).toEqual([
        'Downloading Electron (first run only)…',
        expect.stringMatching(/^Electron could not be downloaded \(RequestError: connect ECONNREFUSED 127\.0\.0\.1:9\)\.$/),
        'Run `npm run web` to use Pentimento in your browser instead.',
      ]);
      expect(r.stdout).toBe('');
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });

  it('package.json runs both through the scripts that check for Electron first', () => {
    const scripts = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts;
    expect(scripts.start).toBe('node scripts/start.mjs');
    expect(scripts.dev).toBe('node scripts/dev.mjs');
  });
});
