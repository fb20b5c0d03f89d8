// The real mount targets and each host's own folders behind them (see host-paths.ts).
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOST_PATHS, RUN_DIR, type HostDir } from './host-paths.js';
import { LAB_MOUNT, type LabLayout } from './lab-layout.js';
import { userIds } from './lab-user.js';

function makeDir(path: string, mode: number, uid: number, gid: number): void {
  mkdirSync(path, { recursive: true });
  chownSync(path, uid, gid);
  chmodSync(path, mode); // after chown, which clears setgid; and mkdir's mode is cut by the umask
}

/** Creates missing mount targets on the machine itself (bind mounts need an existing target). */
export function ensureMountTargets(): void {
  for (const p of HOST_PATHS) {
    if (existsSync(p.path)) continue;
    if (p.kind === 'file') {
      writeFileSync(p.path, '', { mode: p.mode });
    } else {
      const { uid, gid } = p.owner ? userIds(p.owner) : { uid: 0, gid: 0 };
      makeDir(p.path, p.mode, uid, gid);
    }
  }
}

/** A fresh folder for `dir` with the real path's owner and mode. */
function makeHostDir(root: string, dir: HostDir): void {
  const real = statSync(dir.path);
  const mine = join(root, dir.path);
  makeDir(mine, real.mode & 0o7777, real.uid, real.gid);
  for (const [sub, mode] of Object.entries(dir.subdirs ?? {})) makeDir(join(mine, sub), mode, 0, 0);
}

/**
 * Creates what a host lacks, leaving what it has (a playbook may have changed it). The lab folder must
 * be traversable by the lab user: sshd reads the authorized keys file as that user.
 */
export function ensureHostFolders(layout: LabLayout, host: { name: string; address: string }): void {
  const root = layout.hostRoot(host.name);
  mkdirSync(layout.hostDir(host.name), { recursive: true, mode: 0o755 });
  for (const p of HOST_PATHS) {
    const mine = join(root, p.path);
    if (existsSync(mine) || p.path === RUN_DIR) continue;
    if (p.kind === 'file') {
      mkdirSync(join(mine, '..'), { recursive: true, mode: 0o755 });
      writeFileSync(mine, p.content(host), { mode: p.mode });
    } else {
      makeHostDir(root, p);
    }
  }
}

/** A machine's /run is empty at boot (tmpfs): stale pidfiles must not survive a power cycle. */
export function freshRunDir(layout: LabLayout, name: string): void {
  const run = join(layout.hostRoot(name), RUN_DIR);
  rmSync(run, { recursive: true, force: true });
  const dir = HOST_PATHS.find((p): p is HostDir => p.kind === 'dir' && p.path === RUN_DIR);
  if (dir === undefined) throw new Error(`${RUN_DIR} missing from HOST_PATHS`);
  makeHostDir(layout.hostRoot(name), dir);
  makeDir(join(layout.hostRoot(name), LAB_MOUNT), 0o755, 0, 0);
}
