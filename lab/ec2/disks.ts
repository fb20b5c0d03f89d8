// The contents of volumes and snapshots: folders in the emulator's state folder (a volume that is an
// instance's root lives in its lab host's root folder instead; see instance-disks.ts). Copies keep owners
// and modes (`cp -a`), as a block copy would; they go to a temporary name first, so a copy cut short
// never passes for a complete one.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Mutex } from './jobs.js';

const run = promisify(execFile);

export class DiskStore {
  /** Every copy and move takes this lock: a step reads where the steps before it wrote. */
  readonly lock = new Mutex();

  constructor(readonly dir: string) {}

  volumeDir(region: string, id: string): string {
    return join(this.dir, region, 'volumes', id);
  }

  snapshotDir(region: string, id: string): string {
    return join(this.dir, region, 'snapshots', id);
  }

  /** Copies folder `from` to `to` (which must not exist yet). */
  async copy(from: string, to: string): Promise<void> {
    const partial = `${to}.partial`;
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(dirname(to), { recursive: true });
    await run('cp', ['-a', '--reflink=auto', from, partial], { maxBuffer: 1 << 20 });
    renameSync(partial, to);
  }

  /** Moves folder `from` to `to`; across file systems it copies, then removes the original. */
  async move(from: string, to: string): Promise<void> {
    mkdirSync(dirname(to), { recursive: true });
    try {
      renameSync(from, to);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
      await this.copy(from, to);
      rmSync(from, { recursive: true, force: true });
    }
  }

  remove(path: string): void {
    rmSync(path, { recursive: true, force: true });
  }

  exists(path: string): boolean {
    return existsSync(path);
  }
}
