// Where everything of one lab lives inside its state folder, and where that folder is.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Inside each host the lab folder is bind-mounted here, first thing at boot: the host's own /tmp,
 * /home/ubuntu… may hide the folder's real path (a lab under /tmp), this path stays reachable.
 */
export const LAB_MOUNT = '/run/rplay-lab';

export interface LabLayout {
  dir: string;
  stateFile: string;
  keyFile: string;
  knownHostsFile: string;
  authorizedKeysFile: string;
  /** The lab's systemctl and journalctl stand-ins; each host sees this folder as /usr/local/sbin. */
  sbinDir: string;
  hostDir(name: string): string;
  hostRoot(name: string): string;
  hostKey(name: string): string;
  sshdConfig(name: string): string;
  log(name: string): string;
}

export function labLayout(dir: string): LabLayout {
  const d = resolve(dir);
  const hostDir = (name: string): string => join(d, 'hosts', name);
  return {
    dir: d,
    stateFile: join(d, 'state.json'),
    keyFile: join(d, 'id_ed25519'),
    knownHostsFile: join(d, 'known_hosts'),
    authorizedKeysFile: join(d, 'authorized_keys'),
    sbinDir: join(d, 'sbin'),
    hostDir,
    hostRoot: (name) => join(hostDir(name), 'root'),
    hostKey: (name) => join(hostDir(name), 'ssh_host_ed25519_key'),
    sshdConfig: (name) => join(hostDir(name), 'sshd_config'),
    log: (name) => join(hostDir(name), 'boot.log'),
  };
}

/** The same folder seen from inside a host (through LAB_MOUNT). */
export function inHost(layout: LabLayout, path: string): string {
  if (!path.startsWith(layout.dir + '/')) throw new Error(`${path} is not inside the lab folder ${layout.dir}`);
  return LAB_MOUNT + path.slice(layout.dir.length);
}

export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the rplay repository root (no package.json above the runner)');
    dir = up;
  }
  return dir;
}

/** --dir, else RPLAY_LAB_DIR, else <repo>/.rplay/lab. */
export function defaultLabDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.RPLAY_LAB_DIR || join(repoRoot(), '.rplay', 'lab'));
}
