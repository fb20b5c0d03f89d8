// The lab's emulator as a background process (`rplay lab up --ec2`): it keeps its account in
// <lab>/ec2/state.json, volume and snapshot contents in <lab>/ec2/disks (next to the hosts' root
// folders, so attaching a root volume is a rename), and records where it listens in <lab>/ec2/emulator.json.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { labLayout } from '../lab-layout.js';

/** Where `rplay lab up --ec2` listens unless told otherwise: inventories/lab-aws points here. */
export const DEFAULT_EC2_PORT = 4577;
const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const START_TIMEOUT_MS = 15_000;

export interface Ec2EmulatorFiles {
  dir: string;
  stateFile: string;
  infoFile: string;
  logFile: string;
}

export interface Ec2EmulatorInfo {
  url: string;
  port: number;
  pid: number;
}

export function ec2EmulatorFiles(labDir: string): Ec2EmulatorFiles {
  const dir = join(labLayout(labDir).dir, 'ec2');
  return { dir, stateFile: join(dir, 'state.json'), infoFile: join(dir, 'emulator.json'), logFile: join(dir, 'emulator.log') };
}

/** True when pid is this lab's emulator process (not a reused pid). */
function isEmulator(pid: number, labDir: string): boolean {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return args.includes(MAIN) && args.includes(labLayout(labDir).dir);
  } catch {
    return false;
  }
}

/** The lab's running emulator, or null. */
export function ec2EmulatorInfo(labDir: string): Ec2EmulatorInfo | null {
  let info: Ec2EmulatorInfo;
  try {
    info = JSON.parse(readFileSync(ec2EmulatorFiles(labDir).infoFile, 'utf8')) as Ec2EmulatorInfo;
  } catch {
    return null;
  }
  return isEmulator(info.pid, labDir) ? info : null;
}

/** Starts the lab's emulator in the background unless it runs already; resolves once it listens. */
export async function runEc2Emulator(labDir: string, opts: { port?: number } = {}): Promise<Ec2EmulatorInfo & { started: boolean }> {
  const running = ec2EmulatorInfo(labDir);
  if (running !== null) return { ...running, started: false };
  const files = ec2EmulatorFiles(labDir);
  mkdirSync(files.dir, { recursive: true });
  rmSync(files.infoFile, { force: true });
  const log = openSync(files.logFile, 'a');
  const child = spawn(process.execPath, [MAIN, '--lab-dir', labLayout(labDir).dir, '--port', String(opts.port ?? DEFAULT_EC2_PORT)], {
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  child.unref();
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const info = ec2EmulatorInfo(labDir);
    if (info !== null && info.pid === child.pid) return { ...info, started: true };
    if (child.exitCode !== null || child.signalCode !== null) break;
    await sleep(20);
  }
  const tail = readFileSync(files.logFile, 'utf8').trim().split('\n').slice(-5).join('\n');
  if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGTERM');
  throw new Error(`the EC2 emulator did not start (log ${files.logFile}):\n${tail}`);
}

/** Stops the lab's emulator (it saves its account first); false when none was running. */
export async function stopEc2Emulator(labDir: string): Promise<boolean> {
  const info = ec2EmulatorInfo(labDir);
  if (info === null) return false;
  process.kill(info.pid, 'SIGTERM');
  const deadline = Date.now() + 20_000;
  while (isEmulator(info.pid, labDir)) {
    if (Date.now() > deadline) throw new Error(`the EC2 emulator (pid ${info.pid}) is still running 20 s after SIGTERM`);
    await sleep(20);
  }
  return true;
}
