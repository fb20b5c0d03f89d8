// state.json: which hosts the lab has and the pids it started them as (so `down` ends exactly those).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

export interface LabHostState {
  name: string;
  address: string;
  /** The host's PID 1 (tini) as seen from outside; null while the host is powered off. */
  pid: number | null;
  /** The `unshare` process that waits for that PID 1, outside the namespace. */
  wrapperPid: number | null;
}

export interface LabState {
  prefix: string;
  hosts: LabHostState[];
}

export function readLabState(stateFile: string): LabState | null {
  let text: string;
  try {
    text = readFileSync(stateFile, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const state = JSON.parse(text) as LabState;
  if (typeof state.prefix !== 'string' || !Array.isArray(state.hosts)) {
    throw new Error(`${stateFile} is not a lab state file`);
  }
  return state;
}

export function writeLabState(stateFile: string, state: LabState): void {
  const tmp = `${stateFile}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  renameSync(tmp, stateFile);
}

export function hostName(index: number): string {
  return `node-${index}`;
}

export function hostAddress(prefix: string, index: number): string {
  return `${prefix}.${index}`;
}
