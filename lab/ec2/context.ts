// What an action handler works with: the caller's region of the account, and the emulator's runtime
// (delays, background jobs, the disks of volumes and snapshots, the lab hosts behind instances).
import type { AccountState, RegionState } from './account.js';
import type { DiskStore } from './disks.js';
import type { HostProvider } from './host-provider.js';
import type { Jobs } from './jobs.js';

/** How long the asynchronous states last (ms). The real API takes seconds to minutes; waiters poll. */
export interface Ec2Delays {
  /** pending → running, stopping → stopped, shutting-down → terminated. */
  instance: number;
  /** A snapshot's pending → completed (CreateSnapshot, CopySnapshot). */
  snapshot: number;
  /** creating → available, attaching → attached, detaching → available, deleting → gone. */
  volume: number;
}

export const DEFAULT_DELAYS: Ec2Delays = { instance: 300, snapshot: 500, volume: 200 };

export interface Ec2Runtime {
  account: AccountState;
  delays: Ec2Delays;
  jobs: Jobs;
  /** Null in memory-only mode: volumes and snapshots then have no contents. */
  disks: DiskStore | null;
  /** Null without lab hosts: instances are records only, with addresses from made-up ranges. */
  hosts: HostProvider | null;
  /** Persists the account (a no-op in memory-only mode). */
  save(): void;
  /** Errors of background jobs (a host that failed to boot…), for the emulator's log. */
  log(line: string): void;
}

export interface Ec2Context {
  runtime: Ec2Runtime;
  regionName: string;
  region: RegionState;
  now(): Date;
  /** Marks the account as changed by this request: saved once the request is answered. */
  changed(): void;
}
