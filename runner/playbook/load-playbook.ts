// A playbook file → its plays, with `- import_playbook: x.yml` entries replaced by that file's plays
// (paths relative to the importing file), all validated before the engine sees any of it.
import { dirname, join, resolve } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { inputProblems, isInputProblem } from '../yaml/input-error.js';
import { InputError, loadYamlFile, positionAtPath, positionOf } from '../yaml/load.js';
import { keywordValidator } from './ajv.js';
import { importKeywords } from './keywords.js';
import type { ModuleRegistry, ModuleSignature } from './module-registry.js';
import { normalizePlay } from './normalize-play.js';
import { describeSchemaErrors } from './schema-errors.js';
import type { Play, Playbook } from './types.js';

let importValidator: ValidateFunction | undefined;

/** `modules`: the registry the tasks' module names are looked up in (modules/registry.ts, or a test's own). */
export async function loadPlaybook(path: string, modules: ModuleRegistry): Promise<Playbook> {
  return { file: path, plays: await loadPlays(path, modules, []) };
}

/** `importing`: the files (as named in messages) whose imports led here, outermost first. */
async function loadPlays(file: string, modules: ModuleRegistry, importing: string[]): Promise<Play[]> {
  const data = await loadYamlFile(file);
  if (!Array.isArray(data)) {
    const where = data !== null && typeof data === 'object' ? (positionOf(data) ?? file) : file;
    throw new InputError('a playbook must be a list of plays (- hosts: …) or imports (- import_playbook: …)', where);
  }
  const list: unknown[] = data;
  const plays: Play[] = [];
  const chain = [...importing, file];
  // Plays are independent: every bad one is reported, not only the first.
  const problems: Error[] = [];
  for (const [i, entry] of list.entries()) {
    try {
      plays.push(...(await loadEntry(entry, i)));
    } catch (e) {
      if (!isInputProblem(e)) throw e;
      problems.push(e);
    }
  }
  if (problems.length > 0) throw inputProblems(problems);
  return plays;

  async function loadEntry(entry: unknown, i: number): Promise<Play[]> {
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
      throw new InputError('each entry must be a play (hosts:, tasks:, …) or - import_playbook: file.yml', positionOf(list, i) ?? file);
    }
    const raw = entry as Record<string, unknown>;
    if (!('import_playbook' in raw)) return [normalizePlay(raw, { file, modules: modules.names, signatures: await signaturesFor(raw, modules) })];
    importValidator ??= keywordValidator('import', importKeywords);
    if (!importValidator(raw)) {
      const problem = describeSchemaErrors(importValidator.errors ?? [], 'import_playbook');
      throw new InputError(problem?.message ?? 'invalid import_playbook', positionAtPath(raw, problem?.path ?? []) ?? file);
    }
    const target = join(dirname(file), String(raw.import_playbook));
    const where = positionOf(raw, 'import_playbook') ?? file;
    const seen = chain.findIndex((f) => resolve(f) === resolve(target));
    if (seen !== -1) throw new InputError(`import_playbook cycle: ${[...chain.slice(seen), target].join(' → ')}`, where);
    try {
      return await loadPlays(target, modules, chain);
    } catch (e) {
      // A missing file is reported where it is imported; errors inside it carry their own position.
      if (e instanceof InputError && e.file === target && !e.pos) throw new InputError(`import_playbook ${raw.import_playbook}: ${e.text}`, where);
      throw e;
    }
  }
}

/** The signatures of the modules a raw play's tasks and handlers name (any depth of blocks). */
async function signaturesFor(play: Record<string, unknown>, modules: ModuleRegistry): Promise<Map<string, ModuleSignature>> {
  const names = new Set<string>();
  const walk = (list: unknown): void => {
    if (!Array.isArray(list)) return;
    for (const task of list) {
      if (!task || typeof task !== 'object') continue;
      for (const [key, value] of Object.entries(task)) {
        if (key === 'block' || key === 'rescue' || key === 'always') walk(value);
        else if (modules.names.has(key)) names.add(key);
      }
    }
  };
  walk(play.tasks);
  walk(play.handlers);
  return new Map(await Promise.all([...names].map(async (n) => [n, await modules.signature(n)] as const)));
}
