import type { Static, TSchema } from '@sinclair/typebox';
import type { Connection } from './connection/connection.js';
import type { InventoryView } from './inventory/inventory-view.js';

export type Status = 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';

export type Vars = Record<string, unknown>;

/** Text before and after a change of one file; the reporter renders it as a unified diff. */
export interface FileDiff {
  path: string;
  before: string;
  after: string;
}

/**
 * What applying a change does, as data: commands to run, a file to write (its bytes' hash and mode),
 * an API call and its parameters. JSON plus Buffers (see execution/operations.ts): a plan can be
 * serialised and applied later exactly as reviewed. `kind` names the operation within its module.
 */
export interface Operation {
  readonly kind: string;
}

/** One thing a module would change on a host. */
export interface Change<O extends Operation = Operation> {
  /** One line, e.g. "mode 0644 → 0600 on /etc/redis/tls/node.key". */
  description: string;
  diff?: FileDiff;
  /** Only waits for the host to settle (a restarted node catching up): a plan of nothing else is ok, not changed. */
  waitOnly?: boolean;
  /** What apply runs for this change; a module's apply receives exactly these, in order. */
  op: O;
}

/** A module's pure verdict from wanted args and actual state: [] changes means ok. */
export interface Plan<O extends Operation = Operation> {
  changes: Change<O>[];
  /**
   * These changes' outcome decides what comes next (a waiter, one cluster formation step): after
   * applying them the engine gathers and plans again, until a plan has no changes.
   */
  replan?: boolean;
  /** Short reason, e.g. "already installed". */
  msg?: string;
  /** Extra fields of the registered result (stdout, rc, stat, …). */
  result?: Vars;
  /** Variables the task sets on the host (set_fact, gathered facts), for the rest of the run. */
  setVars?: Vars;
}

export interface ApplyResult {
  msg?: string;
  result?: Vars;
  /** As Plan.setVars: variables the task sets, learnt by acting. */
  setVars?: Vars;
  /** A module that only learns after acting whether anything changed (rare) may say so. */
  changed?: boolean;
}

/** What a module sees of the host and run; it never sees whether the run is a check. */
export interface ModuleContext {
  /** Inventory name of the host. */
  readonly host: string;
  /** The host, with the task's become/become_user (and timeout) bound: a call's own options win. */
  readonly conn: Connection;
  /** The host's variables as the task sees them. */
  readonly vars: Readonly<Vars>;
  /** Other hosts' variables and the groups' hosts, as hostvars/groups give them. */
  readonly inventory: InventoryView;
  /** Root of the project (templates/, files/ are relative to it). */
  readonly projectDir: string;
  /**
   * Evaluate an expression (as in `when:`; a whole `{{ expr }}` is accepted) against the task's
   * variables. With `locals` (data on top: a template's loop and set names) `expr` is always a bare
   * expression, as the inside of a template's `{{ }}` is: `{{ '{{ x }}' }}` is the text `{{ x }}`.
   */
  evaluate(expr: string, locals?: Readonly<Vars>): unknown;
}

/** A module failed on a host for a reason the user must read (not a bug). */
export class ModuleError extends Error {
  constructor(
    message: string,
    readonly result: Vars = {},
  ) {
    super(message);
    this.name = 'ModuleError';
  }
}

/**
 * What a task works on is not there yet (a folder, a user, a unit file, a package, a running Redis
 * instance, a VPC), and something this run would make it: an earlier task (`by: 'earlier'`), on the
 * host `on` (the task's own host when unset; '*' for controller files a task delegated to localhost
 * writes), or this task's own apply (`by: 'self'`). Only in check mode, and only when that can be so
 * (an earlier task on that host would change it), does the engine report the task "would change";
 * otherwise this is a failure with its message, like any ModuleError.
 */
export class NotYetThere extends ModuleError {
  readonly by: 'earlier' | 'self';
  /** The inventory host(s) it lives on. */
  readonly on?: string | readonly string[];
  /** What the task would then do, for check mode's report ("CreateSubnet 10.0.1.0/24 …"). */
  readonly would?: string;
  /**
   * The state this task's apply brings about once what is missing is there (a cluster formed and
   * agreed over these instances), as a key: a later task in the run meeting the same key finds it so.
   */
  readonly settles?: string;
  /** Once it is there, the task finds nothing to change (it would only wait for it): check mode reports ok. */
  readonly unchanged?: boolean;

  constructor(
    message: string,
    /** What is missing, in a few words: "user redis", "10.0.1.12:6380 (node-2) (not running)". */
    readonly missing: string,
    opts: { by?: 'earlier' | 'self'; on?: string | readonly string[]; would?: string; settles?: string; unchanged?: boolean } = {},
  ) {
    super(message);
    this.name = 'NotYetThere';
    this.by = opts.by ?? 'earlier';
    this.on = opts.on;
    this.would = opts.would;
    this.settles = opts.settles;
    this.unchanged = opts.unchanged;
  }
}

/** A module's error for `e`, its message prefixed ("redis_acl: …"); a NotYetThere stays one. */
export function prefixedError(prefix: string, e: unknown): ModuleError {
  const message = `${prefix}: ${e instanceof Error ? e.message : String(e)}`;
  return e instanceof NotYetThere ? new NotYetThere(message, e.missing, { by: e.by, on: e.on, would: e.would, settles: e.settles, unchanged: e.unchanged }) : new ModuleError(message);
}

export interface Module<S extends TSchema = TSchema, Actual = unknown, O extends Operation = Operation> {
  readonly name: string;
  /** TypeBox schema of the args; compiled once by ajv, checked before any host is touched. */
  readonly schema: S;
  /** The arg a free-form string maps to (`shell: echo hi` → `{ cmd: 'echo hi' }`). */
  readonly freeForm?: string;
  /** Arg keys the engine passes through uninterpolated (expressions the module evaluates itself). */
  readonly rawArgs?: readonly string[];
  /**
   * The module sends nothing to a host, so it gets its args with Secrets still wrapped: set_fact
   * stores them as Secrets, debug prints them masked (even one character of a password).
   */
  readonly keepsSecrets?: boolean;
  /** One or few round trips: the host's actual state. */
  gather(ctx: ModuleContext, args: Static<S>): Promise<Actual>;
  /** Pure. */
  plan(args: Static<S>, actual: Actual): Plan<O>;
  /** Runs the plan's operations, exactly those, in order; never called in check mode. */
  apply?(ctx: ModuleContext, ops: readonly O[]): Promise<ApplyResult | void>;
  /**
   * The change is running something whose effect only running it shows (command, shell). In check
   * mode such a task is reported "changed" (it would run), or "skipped" when the task's own
   * changed_when would decide, since that needs the real output.
   */
  readonly opaque?: boolean;
  /**
   * Checks, before any host is contacted, what the args name on the controller (a template file
   * parses). `args` are as written: a module skips any value that holds `{{ }}`, which only the host's
   * variables decide. Throws an Error whose message the user reads.
   */
  checkAtLoad?(args: Readonly<Vars>, ctx: LoadContext): Promise<void>;
}

/** What a load-time check sees: the controller's side only. */
export interface LoadContext {
  /** As in ModuleContext. */
  readonly projectDir: string;
}

/** Helper that keeps a module's arg types tied to its schema. */
export function defineModule<S extends TSchema, Actual, O extends Operation = Operation>(m: Module<S, Actual, O>): Module<S, Actual, O> {
  return m;
}

export interface TaskResult {
  status: Status;
  msg?: string;
  /** Rendered unified diff (already redacted), when --diff. */
  diff?: string;
  /** The registered value (Ansible-like: changed, failed, skipped, msg, rc, stdout, …). */
  registered?: Vars;
}

export interface HostStats {
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  unreachable: number;
}
