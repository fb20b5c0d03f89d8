import { resolve } from 'node:path';
import pLimit from 'p-limit';
import type { Inventory } from '../inventory/inventory.js';
import type { Block, Play, Playbook, Task, TaskNode } from '../playbook/types.js';
import type { Reporter, TaskInfo } from '../reporters/reporter.js';
import type { Vars } from '../types.js';
import { revealAll } from '../secret.js';
import { Scope } from '../vars/scope.js';
import { lazyMapping, UNDEFINED, type VarSource } from '../vars/expression/values.js';
import { formatPos } from '../yaml/input-error.js';
import { positionOf } from '../yaml/load.js';
import { isActive, type HostState } from './host-state.js';
import type { PendingHandlers } from './pending-handlers.js';
import { groupsOf, varsFilesDir } from './play-inputs.js';
import { runTask, type HostOutcome, type TaskEnv } from './run-task.js';
import { interpolate } from './task-scope.js';

export interface PlayEnv extends TaskEnv {
  readonly reporter: Reporter;
  readonly inventory: Inventory;
  readonly hostVars: (host: string) => Vars;
  readonly hostState: (host: string) => HostState | undefined;
  readonly extraVars: Vars;
  readonly forks: number;
  readonly tags: readonly string[];
  readonly skipTags: readonly string[];
  /** Skip tasks until one with this name (cleared once reached). */
  startAtTask?: string;
  /** Undefined in check mode: a dry run changes nothing, not even the controller's state. */
  readonly pending?: PendingHandlers;
  loadVarsFile(path: string): Promise<Vars>;
  /** meta: refresh_inventory */
  refreshInventory(): Promise<void>;
}

/** What a block passes down to the tasks inside it. */
interface Inherited {
  when: string[];
  tags: string[];
  vars: Vars;
  become?: boolean;
  becomeUser?: string;
  anyErrorsFatal?: boolean;
}

/**
 * Runs one play batch by batch; returns why the run must stop here (Ansible's rules: a batch in
 * which every host failed, or more than max_fail_percentage, or an any_errors_fatal failure), or
 * undefined to go on. Hosts that failed in an earlier play are not in any batch.
 */
export async function runPlay(env: PlayEnv, book: Playbook, index: number, play: Play, hosts: HostState[]): Promise<string | undefined> {
  env.reporter.playStart({ name: play.name, hosts: hosts.map((h) => h.name) });
  const key = `${resolve(book.file)}#${index}:${play.name}`;
  const remaining = hosts.filter(isActive);
  let sizes: number[] | undefined;
  try {
    sizes = batchSizes(play, env.extraVars, remaining.length);
  } catch (e) {
    return `${formatPos(positionOf(play, 'serial') ?? play.pos)}: play "${play.name}": ${(e as Error).message}`;
  }
  const all = batches(remaining, sizes);
  for (const [i, batch] of all.entries()) {
    const stop = await new PlayRun(env, play, key, varsFilesDir(play), batch).run();
    if (stop) return `play "${play.name}"${all.length > 1 ? `, batch ${i + 1} of ${all.length}` : ''}: ${stop}`;
  }
  return undefined;
}

/**
 * serial → one size per batch, the last repeating. Percentages are of the play's hosts, rounded
 * down but at least 1, as in Ansible; templates see the play's vars and the extra vars.
 */
function batchSizes(play: Play, extraVars: Vars, total: number): number[] | undefined {
  if (play.serial === undefined) return undefined;
  const scope = new Scope([{ vars: play.vars }, { vars: extraVars }]);
  const rendered = play.serial.flatMap((s) => {
    const v = interpolate(s, scope);
    return Array.isArray(v) ? v : [v];
  });
  if (rendered.length === 0) throw new Error('serial: gave an empty list; write a count, a percentage or a list of them');
  return rendered.map((v) => {
    const text = String(v).trim();
    const m = /^(\d+)(%?)$/.exec(text);
    if (!m || Number(m[1]) === 0) throw new Error(`serial: '${text}' is not a batch size (a count or a percentage above 0, like 2 or "30%")`);
    return m[2] ? Math.max(1, Math.floor((total * Number(m[1])) / 100)) : Number(m[1]);
  });
}

function batches(hosts: HostState[], sizes: number[] | undefined): HostState[][] {
  if (sizes === undefined) return hosts.length ? [hosts] : [];
  const out: HostState[][] = [];
  for (let i = 0; i < hosts.length; ) {
    const n = sizes[Math.min(out.length, sizes.length - 1)]!;
    out.push(hosts.slice(i, i + n));
    i += n;
  }
  return out;
}

class PlayRun {
  readonly #limit;
  readonly #notified = new Map<string, Set<string>>();
  readonly #varsFiles = new Map<string, Vars>();
  /** Why the play (and the run) stops; once set, hosts still running are stopped too. */
  #stop: string | undefined;
  /** Hosts that did not fail but were stopped by #stop: no further task, no handler. */
  readonly #stopped = new Set<string>();
  /** Inside the block part of a block with a rescue: a failure there is not final until the rescue ran. */
  #rescuable = 0;

  constructor(
    private readonly env: PlayEnv,
    private readonly play: Play,
    private readonly key: string,
    private readonly varsDir: string,
    /** This batch. */
    private readonly hosts: HostState[],
  ) {
    this.#limit = pLimit(env.forks);
    for (const h of hosts) this.#notified.set(h.name, new Set(env.pending?.get(key, h.name)));
  }

  /** Returns why the run must stop after this batch, if it must. */
  async run(): Promise<string | undefined> {
    const top = this.#top();
    await this.#loadVarsFiles();
    if (this.play.gatherFacts) await this.#runTask(factsTask(this.play), top, false);
    await this.#runNodes(this.play.tasks, top);
    await this.#flushHandlers();
    this.#checkFailures();
    if (!this.#stop && this.hosts.length > 0 && this.hosts.every((h) => !isActive(h))) {
      this.#stop = `every host ${this.play.serial ? 'of the batch' : 'of the play'} failed`;
    }
    return this.#stop;
  }

  #top(): Inherited {
    return { when: [], tags: [], vars: {}, become: this.play.become, becomeUser: this.play.becomeUser, anyErrorsFatal: this.play.anyErrorsFatal };
  }

  #active(): HostState[] {
    return this.hosts.filter((h) => isActive(h) && !this.#stopped.has(h.name));
  }

  /** Ends the play for every host still running once the current task is done. */
  #halt(reason: string): void {
    this.#stop ??= reason;
    for (const h of this.#active()) this.#stopped.add(h.name);
  }

  /** After each task: an any_errors_fatal failure, or a batch over max_fail_percentage, stops the play. */
  #afterTask(task: Task, inh: Inherited, failed: readonly HostState[]): void {
    if (failed.length && (task.anyErrorsFatal ?? inh.anyErrorsFatal)) {
      this.#halt(`any_errors_fatal: task "${task.name}" failed on ${failed.map((h) => h.name).join(', ')}`);
    }
    this.#checkFailures();
  }

  /** Unreachable hosts count as failed; a host whose failure a rescue may still handle does not yet. */
  #checkFailures(): void {
    const max = this.play.maxFailPercentage;
    if (this.#stop || max === undefined || this.#rescuable > 0) return;
    const failed = this.hosts.filter((h) => !isActive(h)).length;
    if (failed * 100 > max * this.hosts.length) {
      this.#halt(`${failed} of ${this.hosts.length} host(s) failed, more than max_fail_percentage ${max}%`);
    }
  }

  /** vars_files per host (their paths may name host variables); a file that fails fails that host. */
  async #loadVarsFiles(): Promise<void> {
    if (this.play.varsFiles.length === 0) return;
    const failures: [HostState, string][] = [];
    await Promise.all(
      this.hosts.filter(isActive).map((h) =>
        this.#limit(async () => {
          const vars: Vars = {};
          const scope = this.#scope(h, {});
          try {
            for (const f of this.play.varsFiles) {
              Object.assign(vars, await this.env.loadVarsFile(resolve(this.varsDir, String(revealAll(interpolate(f, scope))) /* a path, never masked */)));
            }
          } catch (e) {
            failures.push([h, (e as Error).message]);
          }
          this.#varsFiles.set(h.name, vars);
        }),
      ),
    );
    if (failures.length === 0) return;
    const info: TaskInfo = { name: 'Load vars_files', module: 'vars_files', handler: false };
    this.env.reporter.taskStart(info);
    for (const [h, msg] of failures) this.#record(info, h, { status: 'failed', msg, registered: { failed: true, msg }, notify: false });
    this.env.reporter.taskEnd(info);
    if (this.play.anyErrorsFatal) this.#halt(`any_errors_fatal: vars_files failed on ${failures.map(([h]) => h.name).join(', ')}`);
    this.#checkFailures();
  }

  /** Lowest precedence first: inventory, play vars, vars_files, block/task vars, facts, extra vars. */
  #scope(h: HostState, taskVars: Vars): Scope {
    const magic: Vars = {
      inventory_hostname: h.name,
      inventory_hostname_short: h.name.split('.')[0],
      group_names: this.env.inventory.hosts.get(h.name)?.groups.filter((g) => g !== 'all') ?? [],
      groups: groupsOf(this.env.inventory),
      hostvars: hostvarsOf(this.env),
      ansible_play_hosts: this.hosts.filter(isActive).map((x) => x.name),
      ansible_check_mode: this.env.check,
      playbook_dir: this.env.projectDir,
    };
    return new Scope([
      { vars: this.env.hostVars(h.name) },
      { vars: magic, literal: true },
      { vars: this.play.vars },
      { vars: this.#varsFiles.get(h.name) ?? {} },
      { vars: taskVars },
      { vars: h.facts, literal: true },
      { vars: this.env.extraVars },
    ]);
  }

  async #runNodes(nodes: readonly TaskNode[], inh: Inherited): Promise<void> {
    for (const node of nodes) {
      if (this.#active().length === 0) return;
      if ('block' in node) await this.#runBlock(node, inh);
      else await this.#runTask(node, inh, false);
    }
  }

  async #runBlock(b: Block, inh: Inherited): Promise<void> {
    const inner: Inherited = {
      when: [...inh.when, ...(b.when ?? [])],
      tags: [...inh.tags, ...b.tags],
      vars: { ...inh.vars, ...b.vars },
      become: b.become ?? inh.become,
      becomeUser: b.becomeUser ?? inh.becomeUser,
      anyErrorsFatal: b.anyErrorsFatal ?? inh.anyErrorsFatal,
    };
    const entered = this.#active();
    const before = new Map(entered.map((h) => [h.name, h.stats.failed]));
    if (b.rescue.length) this.#rescuable++;
    try {
      await this.#runNodes(b.block, inner);
    } finally {
      if (b.rescue.length) this.#rescuable--;
    }
    const failedInBlock = entered.filter((h) => h.failed && !h.unreachable);
    if (b.rescue.length && failedInBlock.length) {
      for (const h of failedInBlock) h.failed = false;
      await this.#runNodes(b.rescue, inner);
      // A rescued failure is handled, as in Ansible's recap (rescued, not failed).
      for (const h of failedInBlock) if (!h.failed) h.stats.failed = before.get(h.name) ?? 0;
    }
    if (b.always.length) {
      const stillFailed = entered.filter((h) => h.failed && !h.unreachable);
      for (const h of stillFailed) h.failed = false;
      await this.#runNodes(b.always, inner);
      for (const h of stillFailed) h.failed = true;
    }
    // A host that rescued a fatal failure has run its rescue and always; the play ends for it too.
    if (this.#stop) for (const h of this.#active()) this.#stopped.add(h.name);
    this.#checkFailures();
  }

  #selectedByTags(tags: readonly string[]): boolean {
    const { tags: only, skipTags } = this.env;
    if (skipTags.some((t) => tags.includes(t))) return false;
    if (only.length === 0) return true;
    return tags.includes('always') || only.some((t) => t === 'all' || tags.includes(t));
  }

  /** Runs a task on the batch's running hosts (or on `only`); returns the hosts it failed on. */
  async #runTask(task: Task, inh: Inherited, handler: boolean, only?: HostState[]): Promise<HostState[]> {
    if (!handler && !this.#selectedByTags([...inh.tags, ...task.tags])) return [];
    if (!handler && this.env.startAtTask !== undefined) {
      if (task.name !== this.env.startAtTask) return [];
      this.env.startAtTask = undefined;
    }
    const hosts = only ?? this.#active();
    if (hosts.length === 0) return [];
    const info: TaskInfo = { name: task.name, module: task.module, handler };
    this.env.reporter.taskStart(info);
    if (task.module === 'meta') {
      await this.#meta(task);
      this.env.reporter.taskEnd(info);
      return [];
    }
    const effective: Task = {
      ...task,
      when: inh.when.length || task.when ? [...inh.when, ...(task.when ?? [])] : undefined,
      become: task.become ?? inh.become ?? undefined,
      becomeUser: task.becomeUser ?? inh.becomeUser,
    };
    const targets = task.runOnce ? hosts.slice(0, 1) : hosts;
    const failed: HostState[] = [];
    await Promise.all(
      targets.map((h) =>
        this.#limit(async () => {
          const scope = this.#scope(h, { ...inh.vars, ...task.vars });
          const o = await runTask(this.env, effective, h, scope);
          this.#record(info, h, o, task);
          if (o.status === 'unreachable' || (o.status === 'failed' && !o.ignored)) failed.push(h);
          if (task.runOnce) for (const other of hosts.slice(1)) if (task.register) other.facts[task.register] = o.registered;
        }),
      ),
    );
    this.env.reporter.taskEnd(info);
    this.#afterTask(task, inh, failed);
    return failed;
  }

  #record(info: TaskInfo, h: HostState, o: HostOutcome, task?: Task): void {
    this.env.reporter.hostResult(info, h.name, { status: o.status, msg: o.msg, diff: o.diff, registered: o.registered });
    switch (o.status) {
      case 'ok':
        h.stats.ok++;
        break;
      case 'changed':
        h.stats.ok++;
        h.stats.changed++;
        if (this.env.check) h.wouldChange = true;
        break;
      case 'skipped':
        h.stats.skipped++;
        break;
      case 'failed':
        if (o.ignored) break;
        h.stats.failed++;
        h.failed = true;
        break;
      case 'unreachable':
        h.stats.unreachable++;
        h.unreachable = true;
        break;
    }
    if (task?.register) h.facts[task.register] = o.registered;
    if (task && o.notify && task.notify.length) {
      const set = this.#notified.get(h.name)!;
      for (const n of task.notify) set.add(n);
      this.env.pending?.set(this.key, h.name, set);
    }
  }

  async #meta(task: Task): Promise<void> {
    const action = String(task.args.action ?? '');
    if (action === 'flush_handlers') await this.#flushHandlers();
    else if (action === 'refresh_inventory') await this.env.refreshInventory();
  }

  /**
   * Notified handlers, once each, in handler order, on the hosts that notified them; with
   * force_handlers also on those that failed or were stopped (never on unreachable ones).
   */
  async #flushHandlers(): Promise<void> {
    for (const handler of this.play.handlers) {
      const candidates = this.play.forceHandlers ? this.hosts.filter((h) => !h.unreachable) : this.#active();
      const hosts = candidates.filter((h) => this.#notified.get(h.name)?.has(handler.name));
      if (hosts.length === 0) continue;
      const failed = await this.#runTask(handler, this.#top(), true, hosts);
      for (const h of hosts) {
        if (failed.includes(h)) continue; // still owed: the next run runs it
        const set = this.#notified.get(h.name)!;
        set.delete(handler.name);
        this.env.pending?.set(this.key, h.name, set);
      }
    }
  }
}

function factsTask(play: Play): Task {
  return {
    name: 'Gathering Facts',
    module: 'setup',
    args: {},
    notify: [],
    ignoreErrors: false,
    tags: ['always'],
    noLog: false,
    runOnce: false,
    pos: play.pos,
    file: play.pos.file,
  };
}

/** hostvars[h]: another host's inventory variables plus what it registered, resolved on use. */
function hostvarsOf(env: PlayEnv): VarSource {
  return lazyMapping((name) =>
    env.inventory.hosts.has(name)
      ? new Scope([{ vars: env.hostVars(name) }, { vars: env.hostState(name)?.facts ?? {}, literal: true }])
      : UNDEFINED,
  );
}

