import type { Connector } from '../connection/connection.js';
import { connectionSettings } from '../inventory/connection-settings.js';
import { hostVarsFromInventory, type Inventory } from '../inventory/inventory.js';
import { matchHosts } from '../inventory/patterns.js';
import type { Playbook } from '../playbook/types.js';
import type { Reporter } from '../reporters/reporter.js';
import type { HostStats, Module, Vars } from '../types.js';
import { Scope } from '../vars/scope.js';
import { ConnectionPool } from './connection-pool.js';
import { newHostState, type HostState } from './host-state.js';
import { PendingHandlers } from './pending-handlers.js';
import { runPlay, type PlayEnv } from './run-play.js';
import { viewOf } from './task-scope.js';

export interface RunOptions {
  books: readonly Playbook[];
  inventory: Inventory;
  /** Re-reads the inventory sources (meta: refresh_inventory). */
  reloadInventory: () => Promise<Inventory>;
  reporter: Reporter;
  /** Opens a connection to a host whose ansible_connection is ssh (the CLI: connectSsh). */
  connect: Connector;
  check: boolean;
  diff: boolean;
  limit?: string;
  tags: string[];
  skipTags: string[];
  extraVars: Vars;
  forks: number;
  startAtTask?: string;
  projectDir: string;
  /** Every module the books' tasks use, imported (see loadModules). */
  modules: ReadonlyMap<string, Module>;
  /** Controller-side state (handlers owed from an earlier run). */
  pendingHandlersFile: string;
  /** Loads an (absolute) vars file, decrypting vault files. */
  loadVarsFile(path: string): Promise<Vars>;
}

export interface RunResult {
  /** The recap's numbers per host. */
  stats: Record<string, HostStats>;
  /** Why the run stopped before its end (a failed batch, any_errors_fatal), if it did. */
  stopped?: string;
}

/** Runs every play of every playbook in order, until one says the run stops. */
export async function runPlaybooks(o: RunOptions): Promise<RunResult> {
  let inventory = o.inventory;
  let varsCache = new Map<string, Vars>();
  const states = new Map<string, HostState>();
  const pool = new ConnectionPool(o.connect);
  const hostVars = (host: string): Vars => {
    let v = varsCache.get(host);
    if (!v) varsCache.set(host, (v = hostVarsFromInventory(inventory, host)));
    return v;
  };
  const env: PlayEnv = {
    check: o.check,
    diff: o.diff,
    projectDir: o.projectDir,
    modules: o.modules,
    reporter: o.reporter,
    get inventory() {
      return inventory;
    },
    hostVars,
    hostState: (h) => states.get(h),
    settled: new Map(),
    wouldChange: (h) => (h === '*' ? [...states.values()].some((s) => s.wouldChange) : (states.get(h)?.wouldChange ?? false)),
    extraVars: o.extraVars,
    forks: o.forks,
    tags: o.tags,
    skipTags: o.skipTags,
    startAtTask: o.startAtTask,
    pending: o.check ? undefined : new PendingHandlers(o.pendingHandlersFile),
    loadVarsFile: o.loadVarsFile,
    local: () => pool.local(),
    connect: (host) =>
      pool.get(host, () => {
        const scope = new Scope([{ vars: { inventory_hostname: host } }, { vars: hostVars(host) }, { vars: o.extraVars }]);
        return connectionSettings(viewOf(scope), host);
      }),
    refreshInventory: async () => {
      inventory = await o.reloadInventory();
      varsCache = new Map();
    },
  };
  let stopped: string | undefined;
  try {
    run: for (const book of o.books) {
      for (const [i, play] of book.plays.entries()) {
        const names = matchHosts(inventory, play.hosts, o.limit);
        if (names.length === 0) o.reporter.warn(`play "${play.name}": no hosts matched '${play.hosts}'`);
        const hosts = names.map((n) => {
          let s = states.get(n);
          if (!s) states.set(n, (s = newHostState(n)));
          return s;
        });
        stopped = await runPlay(env, book, i, play, hosts);
        if (stopped) {
          o.reporter.warn(`${stopped}: the run stops here (no later batch, play or playbook runs)`);
          break run;
        }
      }
    }
  } finally {
    await pool.closeAll();
  }
  const stats = Object.fromEntries([...states].map(([n, s]) => [n, s.stats]));
  return stopped ? { stats, stopped } : { stats };
}

/**
 * 0 ok; 2 a task failed, or the run stopped early with no host unreachable (a rescued
 * any_errors_fatal failure leaves no failed count); 4 a host unreachable (2 wins); 3 with
 * --detailed-exitcode when anything changed.
 */
export function exitCodeOf({ stats, stopped }: RunResult, detailed: boolean): number {
  const all = Object.values(stats);
  if (all.some((s) => s.failed > 0)) return 2;
  if (stopped && !all.some((s) => s.unreachable > 0)) return 2;
  if (all.some((s) => s.unreachable > 0)) return 4;
  if (detailed && all.some((s) => s.changed > 0)) return 3;
  return 0;
}
