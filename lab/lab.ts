// The lab's operations: up, down, stop, start, status. The CLI and the test fixture both call these.
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import pLimit from 'p-limit';
import { bootHost, isHostInit, powerOff } from './host-process.js';
import { ensureHostFolders, ensureMountTargets, freshRunDir } from './host-folders.js';
import { ensureClientKey, ensureHostKey, writeKnownHosts } from './lab-keys.js';
import { ensureLabVault } from './lab-vault.js';
import { labLayout, type LabLayout } from './lab-layout.js';
import { hostAddress, hostName, readLabState, writeLabState, type LabHostState, type LabState } from './lab-state.js';
import { ensureLabUser } from './lab-user.js';
import { sshdConfig } from './sshd-config.js';
import { SYSTEMCTL_SCRIPT } from './systemctl.js';

export const DEFAULT_PREFIX = '127.0.1';
export const DEFAULT_HOSTS = 3;
const BOOT_TIMEOUT_MS = 60_000;

/** A mistake of the caller (bad option, unknown host, no lab): printed as is, exit 1. */
export class LabError extends Error {}

export interface HostStatus {
  name: string;
  address: string;
  up: boolean;
}

export interface UpResult {
  started: string[];
  alreadyUp: string[];
}

function loadState(layout: LabLayout): LabState {
  const state = readLabState(layout.stateFile);
  if (state === null) throw new LabError(`no lab in ${layout.dir}: run \`rplay lab up\` first`);
  return state;
}

function findHost(state: LabState, name: string): LabHostState {
  const host = state.hosts.find((h) => h.name === name);
  if (host === undefined) throw new LabError(`no lab host ${name} (hosts: ${state.hosts.map((h) => h.name).join(', ')})`);
  return host;
}

function checkOptions(layout: LabLayout, prefix: string, hosts: number): void {
  const octets = prefix.split('.');
  if (octets.length !== 3 || octets[0] !== '127' || !octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255)) {
    throw new LabError(`--prefix ${prefix}: expected three octets of a loopback address, such as 127.0.1`);
  }
  if (!Number.isInteger(hosts) || hosts < 1 || hosts > 254) throw new LabError(`--hosts ${hosts}: expected 1 to 254`);
  // Each host mounts its own /run first; a lab folder inside /run would be hidden by it.
  if ((layout.dir + sep).startsWith('/run/')) throw new LabError(`the lab folder cannot be under /run (${layout.dir})`);
}

async function boot(layout: LabLayout, host: LabHostState): Promise<void> {
  freshRunDir(layout, host.name);
  const pids = await bootHost(layout, host.name, BOOT_TIMEOUT_MS);
  host.pid = pids.pid;
  host.wrapperPid = pids.wrapperPid;
}

/** Brings hosts node-1…node-N up; hosts already up are left alone, hosts that are down are booted. */
export async function labUp(dir: string, opts: { hosts?: number; prefix?: string } = {}): Promise<UpResult> {
  const layout = labLayout(dir);
  const previous = readLabState(layout.stateFile);
  const prefix = opts.prefix ?? previous?.prefix ?? DEFAULT_PREFIX;
  const count = opts.hosts ?? previous?.hosts.length ?? DEFAULT_HOSTS;
  checkOptions(layout, prefix, count);
  if (previous !== null && previous.prefix !== prefix) {
    throw new LabError(`the lab in ${layout.dir} uses prefix ${previous.prefix}; run \`rplay lab down\` before changing it`);
  }

  ensureLabUser();
  ensureMountTargets();
  mkdirSync(layout.dir, { recursive: true });
  chmodSync(layout.dir, 0o755);
  mkdirSync(layout.sbinDir, { recursive: true, mode: 0o755 });
  for (const tool of ['systemctl', 'journalctl']) writeFileSync(join(layout.sbinDir, tool), SYSTEMCTL_SCRIPT, { mode: 0o755 });
  await ensureClientKey(layout);
  ensureLabVault(layout.dir);

  const state: LabState = previous ?? { prefix, hosts: [] };
  for (let i = state.hosts.length + 1; i <= count; i++) {
    state.hosts.push({ name: hostName(i), address: hostAddress(prefix, i), pid: null, wrapperPid: null });
  }
  const wanted = state.hosts.slice(0, count);
  for (const h of wanted) {
    ensureHostFolders(layout, h);
    writeFileSync(layout.sshdConfig(h.name), sshdConfig(layout, h));
  }
  // ssh-keygen is a process per key: a few at a time keep 100 hosts quick on 2 cores.
  const limit = pLimit(8);
  await Promise.all(wanted.map((h) => limit(() => ensureHostKey(layout, h.name))));
  writeKnownHosts(layout, state.hosts.filter((h) => existsSync(`${layout.hostKey(h.name)}.pub`)));

  const down = wanted.filter((h) => !isHostInit(h.pid, layout, h.name));
  const booted = await Promise.allSettled(down.map((h) => boot(layout, h)));
  writeLabState(layout.stateFile, state);
  const failures = booted.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message)] : []));
  if (failures.length > 0) throw new Error(`lab hosts failed to boot:\n${failures.join('\n')}`);
  return {
    started: down.map((h) => h.name),
    alreadyUp: wanted.filter((h) => !down.includes(h)).map((h) => h.name),
  };
}

/** Powers every host off (by the pids the lab recorded); with purge, removes the lab folder too. */
export async function labDown(dir: string, opts: { purge?: boolean } = {}): Promise<string[]> {
  const layout = labLayout(dir);
  const state = readLabState(layout.stateFile);
  const stopped: string[] = [];
  if (state !== null) {
    await Promise.all(
      state.hosts.map(async (h) => {
        if (isHostInit(h.pid, layout, h.name)) stopped.push(h.name);
        await powerOff(layout, h.name, h);
        h.pid = null;
        h.wrapperPid = null;
      }),
    );
    writeLabState(layout.stateFile, state);
  }
  if (opts.purge && existsSync(layout.dir)) {
    // Only a folder that is a lab (or empty) is removed: --dir may be mistyped.
    if (state === null && readdirSync(layout.dir).length > 0) {
      throw new LabError(`${layout.dir} has no state.json; not removing a folder that is not a lab`);
    }
    rmSync(layout.dir, { recursive: true, force: true });
  }
  return stopped.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** Powers one host off: every process of the host ends at once. */
export async function labStop(dir: string, name: string): Promise<boolean> {
  const layout = labLayout(dir);
  const state = loadState(layout);
  const host = findHost(state, name);
  const wasUp = isHostInit(host.pid, layout, host.name);
  await powerOff(layout, host.name, host);
  host.pid = null;
  host.wrapperPid = null;
  writeLabState(layout.stateFile, state);
  return wasUp;
}

/** Boots one host again (mounts, enabled services, sshd); false when it was already up. */
export async function labStart(dir: string, name: string): Promise<boolean> {
  const layout = labLayout(dir);
  const state = loadState(layout);
  const host = findHost(state, name);
  if (isHostInit(host.pid, layout, host.name)) return false;
  await boot(layout, host);
  writeLabState(layout.stateFile, state);
  return true;
}

export function labStatus(dir: string): HostStatus[] {
  const layout = labLayout(dir);
  return loadState(layout).hosts.map((h) => ({ name: h.name, address: h.address, up: isHostInit(h.pid, layout, h.name) }));
}
