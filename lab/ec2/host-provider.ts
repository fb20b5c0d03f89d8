// The machines behind emulated instances. The lab's hosts are one provider: an instance's address is its
// host's, StopInstances/StartInstances power that host off and on, and its root volume is the host's
// root folder (the per-host files every lab host mounts over /etc/redis, /var/lib/redis, /home/ubuntu…).
import { chownSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureHostFolders } from '../host-folders.js';
import { labStart, labStop } from '../lab.js';
import { labLayout } from '../lab-layout.js';
import { readLabState } from '../lab-state.js';
import { LAB_USER, userIds } from '../lab-user.js';
import { Mutex } from './jobs.js';

export interface BackingHost {
  name: string;
  address: string;
}

export interface HostProvider {
  /** Every host that may back an instance, in the order they are handed out. */
  hosts(): BackingHost[];
  powerOff(name: string): Promise<void>;
  powerOn(name: string): Promise<void>;
  /** The folder that is the host's disk: the host boots from what is in it. */
  rootDir(name: string): string;
  /** Makes rootDir(name) a freshly installed machine's disk; cloud-init's part: the key pair's public key is authorized. */
  install(name: string, authorizedKey: string | null): Promise<void>;
}

/** The hosts of the lab in `labDir` (made by `rplay lab up`). */
export function labHostProvider(labDir: string): HostProvider {
  const layout = labLayout(labDir);
  // labStop/labStart each read, change and write the lab's state.json: one at a time.
  const power = new Mutex();
  const hosts = (): BackingHost[] => {
    const state = readLabState(layout.stateFile);
    if (state === null) throw new Error(`no lab in ${layout.dir}: run \`rplay lab up\` first`);
    return state.hosts.map(({ name, address }) => ({ name, address }));
  };
  return {
    hosts,
    powerOff: (name) => power.run(async () => void (await labStop(labDir, name))),
    powerOn: (name) => power.run(async () => void (await labStart(labDir, name))),
    rootDir: (name) => layout.hostRoot(name),
    async install(name, authorizedKey) {
      const host = hosts().find((h) => h.name === name);
      if (host === undefined) throw new Error(`no lab host ${name}`);
      rmSync(layout.hostRoot(name), { recursive: true, force: true });
      ensureHostFolders(layout, host);
      if (authorizedKey !== null) {
        const { uid, gid } = userIds(LAB_USER);
        const sshDir = join(layout.hostRoot(name), 'home', LAB_USER, '.ssh');
        mkdirSync(sshDir, { mode: 0o700 });
        chownSync(sshDir, uid, gid);
        const file = join(sshDir, 'authorized_keys');
        writeFileSync(file, `${authorizedKey.trim()}\n`, { mode: 0o600 });
        chownSync(file, uid, gid);
      }
    },
  };
}
