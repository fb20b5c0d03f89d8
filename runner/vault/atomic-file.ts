// Rewriting a vault file must never leave it half-written or briefly readable by others: write a
// temp file beside it (created 0600), give it the final mode and owner, fsync, then rename over.
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** Permission bits, e.g. 0o600. */
  mode: number;
  /** Keep this owner (used when rewriting an existing file as root). */
  uid?: number;
  gid?: number;
}

export async function writeFileAtomic(path: string, data: string | Buffer, opts: AtomicWriteOptions): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.rplay-${randomBytes(6).toString('hex')}`);
  const fh = await fsp.open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    if (opts.uid !== undefined && opts.gid !== undefined && process.getuid?.() === 0) await fh.chown(opts.uid, opts.gid);
    await fh.chmod(opts.mode);
    await fh.sync();
    await fh.close();
    await fsp.rename(tmp, path);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

/** Overwrite a file's bytes before unlinking it, so a plaintext temp file is not left in free blocks. */
export async function shredFile(path: string): Promise<void> {
  try {
    const fh = await fsp.open(path, 'r+');
    try {
      const { size } = await fh.stat();
      if (size > 0) await fh.write(randomBytes(size), 0, size, 0);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Already gone (an editor may replace the file by rename): nothing left to overwrite.
  }
  await fsp.rm(path, { force: true });
}
