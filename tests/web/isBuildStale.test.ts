import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isBuildStale } from '../../main/web/isBuildStale';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pentimento-stale-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (rel: string, mtimeSeconds: number) => {
  const p = path.join(dir, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, rel);
  utimesSync(p, mtimeSeconds, mtimeSeconds);
  return p;
};

describe('isBuildStale', () => {
  it('is stale when the build is missing or older than any source file, deep in a folder too', () => {
    const src = path.join(dir, 'src');
    file('src/a.ts', 1000);
    const deep = file('src/components/deep/B.tsx', 1000);
    const config = file('config.ts', 1000);
    const built = file('out/index.html', 2000);
    expect(isBuildStale(path.join(dir, 'out/missing.html'), [src])).toBe(true);
    expect(isBuildStale(built, [src, config])).toBe(false);
    utimesSync(deep, 3000, 3000);
    expect(isBuildStale(built, [src, config])).toBe(true);
    expect(isBuildStale(built, [config])).toBe(false);
    // Absent sources and node_modules never make a build stale.
    utimesSync(deep, 1000, 1000);
    file('src/node_modules/pkg/index.js', 5000);
    expect(isBuildStale(built, [src, path.join(dir, 'nope')])).toBe(false);
  });
});
