import type { HostStats, Vars } from '../types.js';

/** What the run knows about one host across plays. */
export interface HostState {
  readonly name: string;
  /** Registered results and set_fact/gathered facts: they outlive the play, as in Ansible. */
  readonly facts: Vars;
  failed: boolean;
  unreachable: boolean;
  /** Check mode: an earlier task would have changed this host, so later facts may be stale. */
  wouldChange: boolean;
  readonly stats: HostStats;
}

export function newHostState(name: string): HostState {
  return {
    name,
    facts: {},
    failed: false,
    unreachable: false,
    wouldChange: false,
    stats: { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0 },
  };
}

export function isActive(h: HostState): boolean {
  return !h.failed && !h.unreachable;
}
