import { ConnectionError } from '../connection/connection.js';
import { withBecome } from '../connection/become.js';
import { withTimeout } from '../connection/timeout.js';
import { taskBecome } from '../inventory/connection-settings.js';
import type { Connection } from '../connection/connection.js';
import type { Task } from '../playbook/types.js';
import { validateArgs } from '../playbook/validate-args.js';
import { renderDiff } from '../reporters/render-diff.js';
import { isSecret, maskTexts, retaint, revealAll, secretTexts } from '../secret.js';
import { ModuleError, NotYetThere, type Module, type ModuleContext, type Plan, type Status, type Vars } from '../types.js';
import { ExpressionError, UndefinedVariableError } from '../vars/errors.js';
import { evaluateExpression } from '../vars/expression/evaluate.js';
import { LOOKUP, type VarSource } from '../vars/expression/values.js';
import { Scope } from '../vars/scope.js';
import { inventoryView } from '../inventory/inventory-view.js';
import { converge, describe } from './converge.js';
import type { HostState } from './host-state.js';
import { evaluate, interpolate, isTrue, withVars, viewOf, type TaskScope } from './task-scope.js';

/** Everything a task needs that is the same for every host. */
export interface TaskEnv {
  readonly check: boolean;
  readonly diff: boolean;
  readonly projectDir: string;
  /** The modules the run's tasks use, imported (RunOptions.modules). */
  readonly modules: ReadonlyMap<string, Module>;
  connect(host: string): Promise<Connection>;
  local(): Connection;
  /** Check mode: whether an earlier task would change `host` ('*': any host of the run). */
  wouldChange(host: string): boolean;
  /** Check mode: states (NotYetThere's `settles`) an earlier task's apply would bring about, and that task's name. */
  readonly settled: Map<string, string>;
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
  /** Check mode: "would change" because what the task works on is not there yet (see NotYetThere). */
  pending?: true;
  /** The gathered state's fingerprint, which the plan was made from. */
  fingerprint?: string;
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
    if (!Array.isArray(items)) throw new ExpressionError(`loop: ${loopSource(task.loop)} is ${kindOf(items)}, not a list`);
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
    return finish(task, failure(e, task));
  }
}

/** The loop as written: the expression of a lone `{{ … }}`, else the whole string. */
function loopSource(loop: unknown): string {
  const text = String(loop);
  const inner = /^\s*\{\{([^]*)\}\}\s*$/.exec(text)?.[1];
  return `'${inner === undefined || inner.includes('{{') || inner.includes('}}') ? text : inner.trim()}'`;
}

/** The kind of a value, never the value: it may be a secret. */
function kindOf(v: unknown): string {
  if (v === null || v === undefined) return 'none';
  if (typeof v === 'string' || isSecret(v)) return 'a string';
  if (typeof v === 'object') return 'a mapping (loop over its entries with "{{ x | dict2items }}")';
  return `a ${typeof v}`;
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

function failure(e: unknown, task: Task): HostOutcome {
  if (e instanceof ConnectionError) {
    return { status: 'unreachable', msg: e.message, registered: { unreachable: true, msg: e.message }, notify: false };
  }
  // A mistake in the playbook (undefined variable, bad expression) names where it was written.
  const located = e instanceof UndefinedVariableError || e instanceof ExpressionError;
  const text = e instanceof Error ? e.message : String(e);
  const msg = located ? `${task.pos.file}:${task.pos.line}:${task.pos.col}: task "${task.name}": ${text}` : text;
  const extra = e instanceof ModuleError ? e.result : {};
  return { status: 'failed', msg, registered: retaint({ ...extra, changed: false, failed: true, msg }) as Vars, notify: false };
}

async function runOnce(env: TaskEnv, task: Task, host: HostState, scope: TaskScope): Promise<HostOutcome> {
  const mod = env.modules.get(task.module);
  if (!mod) throw new ModuleError(`module '${task.module}' unknown`);
  const retries = task.until ? (task.retries ?? 3) : 0;
  for (let attempt = 0; ; attempt++) {
    const o = await attemptOnce(env, task, mod, host, scope);
    if (!task.until || o.status === 'unreachable' || o.pending) return o;
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
  const moduleArgs = mod.keepsSecrets ? args : plainArgs;
  // What the module returns may echo its secret args (stdout, a file read back): those stay secret.
  const echoed = secretTexts(args);
  const become = taskBecome(viewOf(scope), host.name, task);
  const conn = withBecome(withTimeout(task.delegateTo === 'localhost' ? env.local() : await env.connect(host.name), task.timeout), become);
  const ctx: ModuleContext = {
    host: host.name,
    conn,
    vars: viewOf(scope),
    inventory: inventoryView(scope.get('groups') as Record<string, string[]>, (h) => {
      const vars = (scope[LOOKUP]('hostvars') as VarSource)[LOOKUP](h);
      return vars instanceof Scope ? viewOf(vars) : undefined;
    }),
    projectDir: env.projectDir,
    // Modules that send what they evaluate to a host get real values; debug and assert, Secrets.
    evaluate: (expr, locals) => {
      const v = locals ? evaluateExpression(expr, withVars(scope, locals)) : evaluate(expr, scope);
      return mod.keepsSecrets ? v : revealAll(v);
    },
  };
  const hide = (text: string): string => maskTexts(text, echoed);

  let registered: Vars;
  let status: Status;
  let msg: string | undefined;
  let plan: Plan | undefined;
  let fingerprint: string | undefined;
  try {
    const run = await converge(mod, ctx, moduleArgs, { check: env.check && task.checkMode !== false });
    plan = run.planned;
    fingerprint = run.fingerprint;
    const waitsOnly = plan.changes.every((c) => c.waitOnly);
    if (plan.changes.length === 0) {
      status = 'ok';
      msg = plan.msg;
    } else if (!run.result) {
      status = mod.opaque && task.changedWhen ? 'skipped' : waitsOnly ? 'ok' : 'changed';
      msg = status === 'skipped' ? 'not run in check mode (its changed_when needs the real output)' : describe(plan);
    } else {
      const applied = run.result;
      const changes = run.applied;
      status = applied.changed === false || changes.every((c) => c.waitOnly) ? 'ok' : 'changed';
      msg = applied.msg ?? describe({ changes });
      const end = run.settled;
      plan = { ...plan, changes, result: { ...plan.result, ...end?.result, ...applied.result }, setVars: { ...plan.setVars, ...end?.setVars, ...applied.setVars } };
    }
    if (msg !== undefined) msg = hide(msg);
    registered = retaint({ ...plan.result, changed: status === 'changed', failed: false, msg }, echoed) as Vars;
    if (status === 'skipped') registered.skipped = true;
  } catch (e) {
    // What a failure says and carries may echo the task's secret args, however short.
    if (e instanceof Error) e.message = hide(e.message);
    if (e instanceof ModuleError) Object.assign(e.result, retaint(e.result, echoed));
    const pending = env.check ? pendingReason(e, host.name, (h) => env.wouldChange(h)) : undefined;
    if (pending !== undefined && e instanceof NotYetThere) {
      const by = e.settles === undefined ? undefined : env.settled.get(e.settles);
      if (by !== undefined || e.unchanged) {
        // Once it is there, nothing is left to change: an earlier task's apply leaves exactly what this
        // one reads, or the module says so.
        const why = by !== undefined ? `as task "${by}" would leave it` : e.would;
        const text = hide(`ok once it is there (${pending}${why ? `; ${why}` : ''})`);
        return { status: 'ok', msg: text, registered: { changed: false, failed: false, msg: text }, notify: false, pending: true };
      }
      if (e.settles !== undefined) env.settled.set(e.settles, task.name);
      const text = hide(`would change (${pending})${e.would ? `: ${e.would}` : ''}`);
      return { status: 'changed', msg: text, registered: { changed: true, failed: false, msg: text }, notify: true, pending: true };
    }
    if (!(e instanceof ModuleError) || !task.failedWhen) throw e;
    // failed_when decides, from the module's result, whether this is a failure.
    status = 'failed';
    msg = e.message;
    registered = retaint({ ...e.result, changed: false, failed: true, msg }, echoed) as Vars;
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
  if (status !== 'failed' && plan?.setVars) Object.assign(host.facts, retaint(plan.setVars, echoed));
  const diffs = plan?.changes.flatMap((c) => (c.diff ? [c.diff] : [])) ?? [];
  return {
    status,
    msg,
    diff: env.diff && status === 'changed' && diffs.length ? hide(renderDiff(diffs)) : undefined,
    registered,
    notify: status === 'changed',
    fingerprint,
  };
}

/**
 * Check mode: why a task whose gather or plan threw `e` would change, or undefined when `e` is a
 * failure. Only a module's declared NotYetThere qualifies, and only when what is missing is made by
 * this task's own apply, or by an earlier task on the host it lives on that would change that host.
 * Every other error (a refused login, bad credentials, a wrong argument) stays a failure.
 */
export function pendingReason(e: unknown, taskHost: string, wouldChange: (host: string) => boolean): string | undefined {
  if (!(e instanceof NotYetThere)) return undefined;
  if (e.by === 'self') return `${e.missing} not there yet: this task makes it`;
  const on = typeof e.on === 'string' ? [e.on] : (e.on ?? [taskHost]);
  if (on.length === 0 || !on.every(wouldChange)) return undefined;
  const where = on.includes('*') ? '' : ` on ${on.join(', ')}`;
  return `${e.missing} not there yet: an earlier task${where} would change what it depends on`;
}

