import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = process.cwd();
const electronInstalled = fs.existsSync(path.join(ROOT, 'node_modules', 'electron', 'dist'));

describe('npm start (scripts/start.mjs)', () => {
  // With Electron installed the script would launch the app; the offline path is what is tested.
  it.skipIf(electronInstalled)('offline: two lines after the download notice — the reason and npm run web — and no stack trace', () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-electron-cache-'));
    try {
      // A refused connection on loopback stands in for no network; an empty cache forces a download.
      const r = spawnSync(process.execPath, ['scripts/start.mjs'], {
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
});
