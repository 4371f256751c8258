import { randomBytes } from 'node:crypto';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PentimentoError } from '../errors';

/**
 * Writes to a temporary file beside the target, flushes it, then renames over the target:
 * readers see the old file or the whole new one, and a failure removes the temporary file.
 * The temporary file is in the same folder because rename is only atomic within a file system.
 */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const dir = dirname(path);
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error('not a folder');
  } catch {
    throw new PentimentoError('IO_ERROR', `Cannot save ${path}: the folder ${dir} does not exist. Choose an existing folder.`, { path });
  }
  const temp = join(dir, `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    const file = await open(temp, 'wx');
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (e) {
    await unlink(temp).catch(() => {});
    throw new PentimentoError('IO_ERROR', `Could not save ${path}: ${(e as Error).message}. Nothing was written there.`, { path });
  }
}
