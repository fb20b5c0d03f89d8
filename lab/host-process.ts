// Powering one lab host on and off. A host is `unshare … tini -- sh -c BOOT_SCRIPT`: unshare's child,
// tini, is PID 1 of the host's PID namespace and reaps orphans (daemonised services end up its
// children); SIGKILL to it ends every process of the host at once, as a machine losing power.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BOOT_SCRIPT } from './boot-script.js';
import { RUN_DIR } from './host-paths.js';
import type { LabLayout } from './lab-layout.js';

const BOOT_TAG = 'rplay-lab-boot';
/** Hosts get a plain environment, not whatever the caller of `rplay lab` had. */
const HOST_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };
const POLL_MS = 20;

export interface HostPids {
  pid: number;
  wrapperPid: number;
}

export class HostBootError extends Error {}

/** argv of a live process; null when it is gone or a zombie (whose cmdline is empty). */
function procArgs(pid: number): string[] | null {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw === '' ? null : raw.replace(/\0$/, '').split('\0');
  } catch {
    return null;
  }
}

/** True when pid is still this lab's PID 1 of host `name` (not a reused pid). */
export function isHostInit(pid: number | null, layout: LabLayout, name: string): boolean {
  if (pid === null) return false;
  const args = procArgs(pid);
  if (args === null || args[0] !== '/usr/bin/tini') return false;
  const tag = args.indexOf(BOOT_TAG);
  return tag > 0 && args[tag + 1] === layout.dir && args[tag + 2] === name;
}

function isWrapper(pid: number | null, layout: LabLayout, name: string): boolean {
  if (pid === null) return false;
  const args = procArgs(pid);
  return args !== null && args[0] === '/usr/bin/unshare' && args.includes(layout.dir) && args.at(-1) === name;
}

/** Exists and is not a zombie (field 3 of /proc/PID/stat, after the parenthesised command name). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function firstChild(pid: number): number | null {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : null;
  } catch {
    return null;
  }
}

function logTail(layout: LabLayout, name: string): string {
  try {
    return readFileSync(layout.log(name), 'utf8').trim().split('\n').slice(-5).join('\n');
  } catch {
    return '';
  }
}

/** Starts the host's namespace; resolves once its sshd listens (sshd writes its pidfile after binding). */
export async function bootHost(layout: LabLayout, name: string, timeoutMs: number): Promise<HostPids> {
  const sshdPidFile = join(layout.hostRoot(name), RUN_DIR, 'sshd.pid');
  const log = openSync(layout.log(name), 'a');
  const child = spawn(
    '/usr/bin/unshare',
    ['--mount', '--uts', '--pid', '--fork', '--propagation', 'private', '--mount-proc',
      '/usr/bin/tini', '--', '/bin/sh', '-c', BOOT_SCRIPT, BOOT_TAG, layout.dir, name],
    // Own session: a Ctrl-C meant for the CLI must not reach the hosts.
    { detached: true, stdio: ['ignore', log, log], env: HOST_ENV },
  );
  closeSync(log);
  child.unref();
  const wrapperPid = child.pid;
  if (wrapperPid === undefined) throw new HostBootError(`${name}: cannot start unshare`);
  const deadline = Date.now() + timeoutMs;
  let pid: number | null = null;
  for (;;) {
    pid ??= firstChild(wrapperPid);
    if (pid !== null && existsSync(sshdPidFile)) return { pid, wrapperPid };
    // Mid-exec a process's cmdline is briefly empty, so boot checks only that the process still runs.
    const gone = !isRunning(pid ?? wrapperPid);
    if (gone || Date.now() > deadline) {
      if (pid !== null) {
        killInit(pid);
        await powerOff(layout, name, { pid, wrapperPid });
      }
      const why = gone ? 'its init exited during boot' : `sshd not listening after ${timeoutMs} ms`;
      throw new HostBootError(`${name}: ${why}\n${logTail(layout, name)}`.trim());
    }
    await sleep(POLL_MS);
  }
}

function killInit(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/** SIGKILL to the host's PID 1 ends its whole PID namespace; resolves once it and its wrapper are gone. */
export async function powerOff(layout: LabLayout, name: string, pids: { pid: number | null; wrapperPid: number | null }): Promise<void> {
  if (pids.pid !== null && isHostInit(pids.pid, layout, name)) killInit(pids.pid);
  // The kernel reaps the namespace's processes before its PID 1 becomes a zombie, so once PID 1 and
  // the wrapper (which exits when PID 1 does) no longer run, nothing of the host does.
  const deadline = Date.now() + 10_000;
  while (isHostInit(pids.pid, layout, name) || isWrapper(pids.wrapperPid, layout, name)) {
    if (Date.now() > deadline) throw new Error(`${name}: still running 10 s after SIGKILL (pid ${pids.pid})`);
    await sleep(5);
  }
}
