import { ConnectionError } from '../connection/connection.js';
import { withTimeout } from '../connection/timeout.js';
import { taskBecome } from '../inventory/connection-settings.js';
import type { Connection } from '../connection/connection.js';
import type { Task } from '../playbook/types.js';
import { validateArgs } from '../playbook/validate-args.js';
import { renderDiff } from '../reporters/render-diff.js';
import { redact, revealAll } from '../secret.js';
import { ModuleError, type Module, type ModuleContext, type Plan, type Status, type Vars } from '../types.js';
import { registry } from '../../modules/registry.js';
import { ExpressionError, UndefinedVariableError } from '../vars/errors.js';
import type { HostState } from './host-state.js';
import { evaluate, interpolate, isTrue, withVars, viewOf, type TaskScope } from './task-scope.js';

/** Everything a task needs that is the same for every host. */
export interface TaskEnv {
  readonly check: boolean;
  readonly diff: boolean;
  readonly projectDir: string;
  connect(host: string): Promise<Connection>;
  local(): Connection;
}

/** One host's outcome of one task, as reported and registered. */
export interface HostOutcome {
  status: Status;
  msg?: string;
  diff?: string;
  registered: Vars;
  /** The task changed (or in check mode would change) something: its handlers are notified. */
  notify: boolean;
  ignored?: boolean;
}

const NO_LOG_MSG = 'the output has been hidden due to no_log: true';

export async function runTask(env: TaskEnv, task: Task, host: HostState, scope: TaskScope): Promise<HostOutcome> {
  try {
    if (task.loop === undefined) {
      if (task.when && !isTrue(task.when, scope)) return skipped('conditional result was false');
      return finish(task, await runOnce(env, task, host, scope));
    }
    // Conditions that do not name the loop item (a block's `when`, say) decide before the loop is
    // expanded: `when: not ansible_check_mode` must guard a loop over a result that does not exist.
    const [perItem, upFront] = partition(task.when ?? [], (c) => /\bitem\b/.test(c));
    if (upFront.length && !isTrue(upFront, scope)) return skipped('conditional result was false');
    const items = interpolate(task.loop, scope);
    if (!Array.isArray(items)) throw new ModuleError(`loop must be a list, got ${typeof items}`);
    const results: Vars[] = [];
    let changed = false;
    let failed: HostOutcome | undefined;
    const diffs: string[] = [];
    for (const item of items) {
      const s = withVars(scope, { item });
      if (perItem.length && !isTrue(perItem, s)) {
        results.push({ item, skipped: true, changed: false });
        continue;
      }
      const o = await runOnce(env, task, host, s);
      results.push({ item, ...o.registered });
      changed ||= o.status === 'changed';
      if (o.diff) diffs.push(o.diff);
      if (o.status === 'failed' || o.status === 'unreachable') {
        failed = o;
        break;
      }
    }
    const registered: Vars = { changed, failed: !!failed, results, skipped: results.every((r) => r.skipped) };
    if (failed) return finish(task, { ...failed, registered });
    if (registered.skipped) return skipped('every item skipped', registered);
    // Say what changed, item by item, as Ansible prints each item; "N item(s)" when nothing did.
    const itemMsgs = results.filter((r) => r.changed).map((r) => `${itemLabel(r.item)}: ${String(r.msg ?? 'changed')}`);
    return finish(task, {
      status: changed ? 'changed' : 'ok',
      msg: itemMsgs.length ? itemMsgs.join('; ') : `${results.length} item(s)`,
      diff: diffs.join('') || undefined,
      registered,
      notify: changed,
    });
  } catch (e) {
    return finish(task, failure(e, env, host, task));
  }
}

function itemLabel(item: unknown): string {
  if (item && typeof item === 'object' && !Array.isArray(item)) {
    const o = item as Vars;
    const name = o.name ?? o.port ?? o.path ?? o.dest;
    if (name !== undefined) return `(item=${String(name)})`;
  }
  return `(item=${typeof item === 'string' ? item : JSON.stringify(item)})`;
}

function partition<T>(xs: readonly T[], test: (x: T) => boolean): [T[], T[]] {
  return [xs.filter(test), xs.filter((x) => !test(x))];
}

function skipped(msg: string, registered: Vars = { changed: false, skipped: true }): HostOutcome {
  return { status: 'skipped', msg, registered, notify: false };
}

/** no_log and ignore_errors apply to whatever the task produced. */
function finish(task: Task, o: HostOutcome): HostOutcome {
  let out = o;
  if (task.ignoreErrors && o.status === 'failed') out = { ...o, ignored: true, msg: `${o.msg ?? ''} (ignored)` };
  if (task.noLog) out = { ...out, msg: NO_LOG_MSG, diff: undefined, registered: { changed: out.registered.changed, failed: out.registered.failed, censored: NO_LOG_MSG } };
  return out;
}

function failure(e: unknown, env: TaskEnv, host: HostState, task: Task): HostOutcome {
  if (e instanceof ConnectionError) {
    return { status: 'unreachable', msg: e.message, registered: { unreachable: true, msg: e.message }, notify: false };
  }
  // A mistake in the playbook (undefined variable, bad expression) names where it was written.
  const located = e instanceof UndefinedVariableError || e instanceof ExpressionError;
  const text = e instanceof Error ? e.message : String(e);
  const msg = located ? `${task.pos.file}:${task.pos.line}:${task.pos.col}: task "${task.name}": ${text}` : text;
  // Check mode: facts read after an earlier simulated change may not exist yet (a package's unit, a
  // directory a previous task creates). Report the truth: this may change, not ok and not failed.
  if (env.check && host.wouldChange && !located) {
    return { status: 'changed', msg: `may change (depends on earlier changes): ${msg}`, registered: { changed: true, msg }, notify: true };
  }
  const extra = e instanceof ModuleError ? e.result : {};
  return { status: 'failed', msg, registered: { ...extra, changed: false, failed: true, msg }, notify: false };
}

async function runOnce(env: TaskEnv, task: Task, host: HostState, scope: TaskScope): Promise<HostOutcome> {
  const mod = registry.get(task.module);
  if (!mod) throw new ModuleError(`module '${task.module}' unknown`);
  const retries = task.until ? (task.retries ?? 3) : 0;
  for (let attempt = 0; ; attempt++) {
    const o = await attemptOnce(env, task, mod, host, scope);
    if (!task.until || o.status === 'unreachable') return o;
    const s = task.register ? withVars(scope, { [task.register]: o.registered }) : scope;
    if (isTrue(task.until, s)) return { ...o, registered: { ...o.registered, attempts: attempt + 1 } };
    if (attempt >= retries) {
      return { ...o, status: 'failed', msg: `still not true after ${attempt + 1} attempt(s): ${task.until.join(' and ')}`, registered: { ...o.registered, failed: true, attempts: attempt + 1 }, notify: false };
    }
    await new Promise((r) => setTimeout(r, (task.delay ?? 5) * 1000));
  }
}

async function attemptOnce(env: TaskEnv, task: Task, mod: Module, host: HostState, scope: TaskScope): Promise<HostOutcome> {
  const raw = new Set(mod.rawArgs ?? []);
  const args: Vars = {};
  for (const [k, v] of Object.entries(task.args)) args[k] = raw.has(k) ? v : interpolate(v, scope);
  const plainArgs = revealAll(args) as Vars;
  validateArgs(mod, plainArgs, task);
  const { become, becomeUser } = taskBecome(viewOf(scope), host.name, task);
  const conn = withTimeout(task.delegateTo === 'localhost' ? env.local() : await env.connect(host.name), task.timeout);
  const ctx: ModuleContext = {
    host: host.name,
    conn,
    become,
    becomeUser,
    vars: viewOf(scope),
    projectDir: env.projectDir,
    evaluate: (expr) => evaluate(expr, scope),
  };

  let registered: Vars;
  let status: Status;
  let msg: string | undefined;
  let plan: Plan | undefined;
  try {
    const actual = await mod.gather(ctx, plainArgs);
    plan = mod.plan(plainArgs, actual);
    if (plan.changes.length === 0) {
      status = 'ok';
      msg = plan.msg;
    } else if (env.check && task.checkMode !== false) {
      status = mod.opaque && task.changedWhen ? 'skipped' : 'changed';
      msg = status === 'skipped' ? 'not run in check mode (its changed_when needs the real output)' : describe(plan);
    } else {
      const applied = (await mod.apply?.(ctx, plainArgs, plan, actual)) ?? {};
      status = applied.changed === false ? 'ok' : 'changed';
      msg = applied.msg ?? describe(plan);
      plan = { ...plan, result: { ...plan.result, ...applied.result }, facts: { ...plan.facts, ...applied.facts } };
    }
    registered = { ...plan.result, changed: status === 'changed', failed: false, msg };
    if (status === 'skipped') registered.skipped = true;
  } catch (e) {
    if (!(e instanceof ModuleError) || !task.failedWhen) throw e;
    // failed_when decides, from the module's result, whether this is a failure.
    status = 'failed';
    msg = e.message;
    registered = { ...e.result, changed: false, failed: true, msg };
  }

  if (status !== 'skipped') {
    const s = task.register ? withVars(scope, { [task.register]: registered }) : scope;
    if (task.changedWhen && status !== 'failed') {
      status = isTrue(task.changedWhen, s) ? 'changed' : 'ok';
      registered.changed = status === 'changed';
    }
    if (task.failedWhen) {
      const failed = isTrue(task.failedWhen, s);
      if (failed) status = 'failed';
      else if (status === 'failed') status = registered.changed ? 'changed' : 'ok';
      registered.failed = failed;
    }
  }
  if (status !== 'failed' && plan?.facts) Object.assign(host.facts, plan.facts);
  const diffs = plan?.changes.flatMap((c) => (c.diff ? [c.diff] : [])) ?? [];
  return {
    status,
    msg: msg === undefined ? undefined : redact(msg),
    diff: env.diff && status === 'changed' && diffs.length ? renderDiff(diffs) : undefined,
    registered,
    notify: status === 'changed',
  };
}

function describe(plan: Plan): string {
  return plan.changes.map((c) => c.description).join('; ');
}
