import fs from 'node:fs';
import path from 'node:path';

/** Newest modification time of a file, or of any file below a folder (node_modules skipped); 0 if absent. */
function newestMtime(p: string): number {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const entry of fs.readdirSync(p, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    newest = Math.max(newest, newestMtime(path.join(p, entry.name)));
  }
  return newest;
}

/**
 * True when `built` is missing or older than any of `sources` (files or folders): a build made
 * before the sources last changed would serve yesterday's editor.
 */
export function isBuildStale(built: string, sources: readonly string[]): boolean {
  if (!fs.existsSync(built)) return true;
  const builtAt = fs.statSync(built).mtimeMs;
  return sources.some((s) => newestMtime(s) > builtAt);
}
