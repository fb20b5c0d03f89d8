// Everything a run reads on the controller, loaded and checked before the first host is contacted:
// every play's vars_files (vaults decrypted, their HMAC verified) and the files tasks name (template
// files parsed). A problem then exits 1 with nothing run; the run uses the vars files loaded here.
import { dirname, resolve } from 'node:path';
import { hostVarsFromInventory, type Inventory } from '../inventory/inventory.js';
import { matchHosts } from '../inventory/patterns.js';
import { allTasks } from '../playbook/normalize-play.js';
import type { Play, Playbook } from '../playbook/types.js';
import type { Module, Vars } from '../types.js';
import { UndefinedVariableError } from '../vars/errors.js';
import { hasTemplate, interpolate } from '../vars/interpolate.js';
import { TemplateError } from '../vars/render-template.js';
import { Scope } from '../vars/scope.js';
import { formatPos, InputError, type SourcePos } from '../yaml/input-error.js';
import { positionOf } from '../yaml/load.js';
import { groupsOf, varsFilesDir } from './play-inputs.js';

/** Vars files by absolute path, each read once per run: every play and host gets what was read. */
export class VarsFiles {
  readonly #loaded = new Map<string, Promise<Vars>>();

  constructor(private readonly read: (path: string) => Promise<Vars>) {}

  get(path: string): Promise<Vars> {
    let vars = this.#loaded.get(path);
    if (!vars) this.#loaded.set(path, (vars = this.read(path)));
    return vars;
  }
}

export interface InputsToCheck {
  books: readonly Playbook[];
  /**
   * What `{{ }}` in a vars_files path may name before any host is contacted; undefined when the
   * inventory or the extra vars failed to load (such paths are then not resolved).
   */
  values?: {
    /** Undefined under --syntax-check without -i. */
    inventory?: Inventory;
    extraVars: Vars;
  };
  limit?: string;
  check: boolean;
  projectDir: string;
  modules: ReadonlyMap<string, Module>;
  varsFiles: VarsFiles;
}

/** A vars_files entry that names values only the run has (facts, registered results). */
export interface DeferredVarsFile {
  play: Play;
  entry: string;
}

export interface CheckedInputs {
  /** Every problem found, one per file (in playbook order). */
  errors: Error[];
  /** Loaded when their play starts, as before. */
  deferred: DeferredVarsFile[];
}

export async function checkRunInputs(o: InputsToCheck): Promise<CheckedInputs> {
  // One check per file or task args, reported where it is first named.
  const checks = new Map<string, { run: () => Promise<void>; at: SourcePos; subject: string }>();
  const errors: Error[] = [];
  const deferred: DeferredVarsFile[] = [];
  const hostVars = new Map<string, Vars>();
  for (const book of o.books) {
    for (const play of book.plays) {
      // As the run resolves them, so what is loaded here is what the run asks for.
      const bookDir = varsFilesDir(play);
      const named = { at: positionOf(play, 'vars_files') ?? play.pos, subject: `play "${play.name}": vars_files` };
      const paths = varsFilePaths(play, o, hostVars);
      for (const entry of play.varsFiles) {
        let resolved;
        try {
          resolved = paths(entry);
        } catch (e) {
          errors.push(e as Error);
          continue;
        }
        if (resolved.deferred) deferred.push({ play, entry });
        for (const file of [...resolved.paths].map((p) => resolve(bookDir, p))) {
          if (!checks.has(file)) checks.set(file, { run: async () => void (await o.varsFiles.get(file)), ...named });
        }
      }
      for (const task of [...allTasks(play.tasks), ...play.handlers]) {
        const check = o.modules.get(task.module)?.checkAtLoad;
        const key = `${task.module} ${JSON.stringify(task.args)}`;
        if (!check || checks.has(key)) continue;
        checks.set(key, { run: () => check(task.args, { projectDir: o.projectDir }), at: task.pos, subject: `task "${task.name}"` });
      }
    }
  }
  const outcomes = await Promise.all(
    [...checks.values()].map((c) =>
      c.run().then(
        () => undefined,
        (e: unknown) => {
          // A bug is not bad input: it surfaces as itself.
          if (!(e instanceof Error) || e.name === 'TypeError' || e.name === 'ReferenceError') throw e;
          // A problem with a place of its own (a line of the vars file or template) is named by it
          // first, then by where the playbook names the file; any other by where it is named.
          const own = (e instanceof InputError && e.pos) || e instanceof TemplateError;
          return own ? new InputError(`${e.message} (${c.subject} at ${formatPos(c.at)})`) : new InputError(`${c.subject}: ${e.message}`, c.at);
        },
      ),
    ),
  );
  for (const e of outcomes) if (e) errors.push(e);
  // A play's hosts pattern that fails fails every templated entry the same way: once is enough.
  return { errors: [...new Map(errors.map((e) => [e.message, e])).values()], deferred };
}

type PathsOfPlay = (entry: string) => { paths: Set<string>; deferred: boolean };

/**
 * The paths a play's vars_files entries name on the hosts the play will run on, from the inventory,
 * play vars and extra vars (what the run has at the play's start, before any fact); an entry that
 * names anything else is left to the run.
 */
function varsFilePaths(play: Play, o: InputsToCheck, hostVars: Map<string, Vars>): PathsOfPlay {
  const scopes = (): Scope[] => {
    const base: Vars = { ansible_check_mode: o.check, playbook_dir: o.projectDir };
    const extra = o.values?.extraVars ?? {};
    const inventory = o.values?.inventory;
    let hosts: string[] = [];
    try {
      if (inventory) hosts = matchHosts(inventory, play.hosts, o.limit);
    } catch (e) {
      throw new InputError(`play "${play.name}": hosts: ${(e as Error).message}`, play.pos);
    }
    // A play whose hosts exist only later (after meta: refresh_inventory) still has its own vars.
    if (!inventory || hosts.length === 0) return [new Scope([{ vars: base, literal: true }, { vars: play.vars }, { vars: extra }])];
    return hosts.map((h) => {
      let inv = hostVars.get(h);
      if (!inv) hostVars.set(h, (inv = hostVarsFromInventory(inventory, h)));
      const magic: Vars = {
        ...base,
        inventory_hostname: h,
        inventory_hostname_short: h.split('.')[0],
        group_names: inventory.hosts.get(h)?.groups.filter((g) => g !== 'all') ?? [],
        groups: groupsOf(inventory),
        ansible_play_hosts: hosts,
      };
      return new Scope([{ vars: inv }, { vars: magic, literal: true }, { vars: play.vars }, { vars: extra }]);
    });
  };
  let perHost: Scope[] | undefined;
  return (entry) => {
    if (!hasTemplate(entry)) return { paths: new Set([entry]), deferred: false };
    if (!o.values) return { paths: new Set(), deferred: true };
    perHost ??= scopes();
    const paths = new Set<string>();
    let deferred = false;
    for (const scope of perHost) {
      try {
        paths.add(String(interpolate(entry, scope)));
      } catch (e) {
        if (!(e instanceof UndefinedVariableError)) {
          const at = positionOf(play, 'vars_files') ?? play.pos;
          throw new InputError(`play "${play.name}": vars_files: ${entry}: ${(e as Error).message}`, at);
        }
        deferred = true;
      }
    }
    return { paths, deferred };
  };
}
