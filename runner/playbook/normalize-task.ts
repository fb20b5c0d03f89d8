// One raw task (or block) from YAML → a checked Task/Block: keywords typed, exactly one module, its
// args checked against the module's schema, every expression parsed — all before any host is touched.
import type { ValidateFunction } from 'ajv';
import { checkCondition } from '../vars/conditions.js';
import { ExpressionError } from '../vars/errors.js';
import { checkTemplates } from '../vars/interpolate.js';
import { expectVarsMapping } from '../vars/vars-file.js';
import { closest, didYouMean } from '../yaml/did-you-mean.js';
import { inputProblems, isInputProblem } from '../yaml/input-error.js';
import { InputError, copyPositions, positionAtPath, positionOf, type SourcePos } from '../yaml/load.js';
import { keywordValidator } from './ajv.js';
import { blockKeywords, taskKeywords, unsupported } from './keywords.js';
import { describeSchemaErrors } from './schema-errors.js';
import type { Block, Task, TaskNode } from './types.js';
import type { ModuleSignature } from './module-registry.js';
import { checkArgs, taskLabel } from './validate-args.js';

export interface TaskContext {
  file: string;
  /** Every module name the registry has. */
  modules: ReadonlySet<string>;
  /** The signatures of the modules this file's tasks name (see signaturesFor). */
  signatures: ReadonlyMap<string, ModuleSignature>;
}

type Raw = Record<string, unknown>;

const META_ACTIONS = ['flush_handlers', 'refresh_inventory'];
const TASK_KEYS = Object.keys(taskKeywords.properties);
const BLOCK_KEYS = Object.keys(blockKeywords.properties);

let taskValidator: ValidateFunction | undefined;
let blockValidator: ValidateFunction | undefined;

function isMapping(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function here(raw: object, key: string | undefined, file: string): SourcePos | string {
  return positionOf(raw, key) ?? file;
}

function labelOf(raw: Raw): string {
  return taskLabel({ name: typeof raw.name === 'string' ? raw.name : undefined });
}

function toList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.map(String);
  return String(v)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function toConditions(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  const list = Array.isArray(v) ? v : [v];
  return list.map((c) => (typeof c === 'boolean' ? (c ? 'True' : 'False') : String(c)));
}

export function normalizeTaskNodes(list: unknown, ctx: TaskContext, handlers = false): TaskNode[] {
  if (list === null || list === undefined) return [];
  if (!Array.isArray(list)) throw new InputError('expected a list of tasks', (isMapping(list) ? positionOf(list) : undefined) ?? ctx.file);
  // Tasks are independent: every bad one is reported, not only the first.
  const nodes: TaskNode[] = [];
  const problems: Error[] = [];
  list.forEach((raw, i) => {
    try {
      if (!isMapping(raw)) throw new InputError('a task must be a mapping (name:, a module, …)', positionOf(list, i) ?? ctx.file);
      if ('block' in raw) {
        if (handlers) throw new InputError('a handler cannot be a block', here(raw, 'block', ctx.file));
        nodes.push(normalizeBlock(raw, ctx));
      } else nodes.push(normalizeTask(raw, ctx));
    } catch (e) {
      if (!isInputProblem(e)) throw e;
      problems.push(e);
    }
  });
  if (problems.length > 0) throw inputProblems(problems);
  return nodes;
}

function checkKeywords(validator: ValidateFunction, raw: Raw, subject: string, file: string): void {
  if (validator(raw)) return;
  const problem = describeSchemaErrors(validator.errors ?? [], subject);
  if (!problem) return;
  // Keyword errors read `task "X": retries must be …`, not `task "X".retries …`.
  const message = problem.message.startsWith(subject + '.') ? `${subject}: ${problem.message.slice(subject.length + 1)}` : problem.message;
  throw new InputError(message, positionAtPath(raw, problem.path) ?? file);
}

function rejectUnsupported(raw: Raw, subject: string, file: string): void {
  for (const key of Object.keys(raw)) {
    const hint = Object.hasOwn(unsupported, key) ? unsupported[key] : undefined;
    if (hint) throw new InputError(`${subject}: '${key}' is not supported — ${hint}`, here(raw, key, file));
  }
}

/** Parse-check conditions and templates, pointing at the key that holds the bad one. */
function checkExpressions(raw: Raw, subject: string, file: string, conditionKeys: string[], templateKeys: string[]): void {
  for (const key of conditionKeys) {
    for (const c of toConditions(raw[key]) ?? []) {
      try {
        checkCondition(c);
      } catch (e) {
        if (e instanceof ExpressionError) throw new InputError(`${subject}: ${key}: ${e.message}`, here(raw, key, file));
        throw e;
      }
    }
  }
  for (const key of templateKeys) {
    if (!(key in raw)) continue;
    checkTemplates(raw[key], (path, e) => {
      throw new InputError(`${subject}: ${[key, ...path].join('.')}: ${e.message}`, positionAtPath(raw, [key, ...path]) ?? file);
    });
  }
}

function varsOf(raw: Raw, ctx: TaskContext): Record<string, unknown> | undefined {
  return raw.vars === undefined ? undefined : expectVarsMapping(raw.vars, ctx.file);
}

function normalizeBlock(raw: Raw, ctx: TaskContext): Block {
  const subject = typeof raw.name === 'string' ? `block "${raw.name}"` : 'block';
  rejectUnsupported(raw, subject, ctx.file);
  blockValidator ??= keywordValidator('block', blockKeywords);
  if (!blockValidator(raw)) {
    const problem = describeSchemaErrors(blockValidator.errors ?? [], subject);
    const key = problem?.path[0];
    if (typeof key === 'string' && !BLOCK_KEYS.includes(key)) {
      const where = TASK_KEYS.includes(key) ? ` — '${key}' belongs on the tasks inside the block` : didYouMean(key, BLOCK_KEYS);
      throw new InputError(`${subject}: unknown key '${key}'${where}`, here(raw, key, ctx.file));
    }
    checkKeywords(blockValidator, raw, subject, ctx.file);
  }
  checkExpressions(raw, subject, ctx.file, ['when'], ['vars']);
  const block: Block = {
    block: normalizeTaskNodes(raw.block, ctx),
    rescue: normalizeTaskNodes(raw.rescue, ctx),
    always: normalizeTaskNodes(raw.always, ctx),
    tags: toList(raw.tags),
    pos: positionOf(raw) ?? { file: ctx.file, line: 1, col: 1 },
  };
  if (typeof raw.name === 'string') block.name = raw.name;
  const when = toConditions(raw.when);
  if (when) block.when = when;
  if (typeof raw.become === 'boolean') block.become = raw.become;
  if (typeof raw.become_user === 'string') block.becomeUser = raw.become_user;
  if (typeof raw.any_errors_fatal === 'boolean') block.anyErrorsFatal = raw.any_errors_fatal;
  const vars = varsOf(raw, ctx);
  if (vars) block.vars = vars;
  copyPositions(raw, block);
  return block;
}

/** The one key that names the module; everything else must be a task keyword. */
function moduleKey(raw: Raw, subject: string, ctx: TaskContext): string {
  const others = Object.keys(raw).filter((k) => !TASK_KEYS.includes(k));
  const known = [...ctx.modules, 'meta'];
  const isModule = (k: string): boolean => k === 'meta' || ctx.modules.has(k);
  const unknown = others.filter((k) => !isModule(k));
  const modules = others.filter(isModule);
  for (const key of unknown) {
    const guess = closest(key, [...TASK_KEYS, ...known]);
    const guessIsKeyword = guess !== undefined && TASK_KEYS.includes(guess);
    if (modules.length > 0 || guessIsKeyword) {
      throw new InputError(`${subject}: unknown key '${key}'${guess ? ` (did you mean '${guess}'?)` : ''}`, here(raw, key, ctx.file));
    }
    throw new InputError(`${subject}: module '${key}' unknown${didYouMean(key, known)}`, here(raw, key, ctx.file));
  }
  if (modules.length > 1) {
    throw new InputError(`${subject}: one module per task, found ${modules.join(', ')}`, here(raw, modules[1], ctx.file));
  }
  const [mod] = modules;
  if (!mod) throw new InputError(`${subject}: no module (one of ${[...ctx.modules].sort().join(', ')})`, here(raw, undefined, ctx.file));
  return mod;
}

function metaArgs(value: unknown, raw: Raw, subject: string, file: string): Record<string, unknown> {
  const action = isMapping(value) ? value.action : value;
  if (typeof action !== 'string' || !META_ACTIONS.includes(action)) {
    throw new InputError(`${subject}: meta must be one of ${META_ACTIONS.join(', ')}`, here(raw, 'meta', file));
  }
  return { action };
}

/** Module args from `module: {…}`, `module: free form` or `module:` (none), plus any `args:`. */
function moduleArgs(mod: ModuleSignature, value: unknown, raw: Raw, subject: string, file: string): Record<string, unknown> {
  let inline: Record<string, unknown>;
  if (value === null || value === undefined) inline = {};
  else if (isMapping(value)) inline = value;
  else if (typeof value === 'string' && mod.freeForm) inline = { [mod.freeForm]: value };
  else {
    throw new InputError(`${subject}: ${mod.name} takes a mapping of args (${mod.name}: {key: value, …}), not ${Array.isArray(value) ? 'a list' : `a ${typeof value}`}`, here(raw, mod.name, file));
  }
  const extra = isMapping(raw.args) ? raw.args : {};
  // Keys written on the module line win over `args:`, as in Ansible.
  return Object.keys(extra).length ? { ...extra, ...inline } : inline;
}

function normalizeTask(raw: Raw, ctx: TaskContext): Task {
  const subject = labelOf(raw);
  rejectUnsupported(raw, subject, ctx.file);
  const key = moduleKey(raw, subject, ctx);
  taskValidator ??= keywordValidator('task', taskKeywords);
  checkKeywords(taskValidator, raw, subject, ctx.file);
  const pos = positionOf(raw) ?? { file: ctx.file, line: 1, col: 1 };

  let args: Record<string, unknown>;
  if (key === 'meta') args = metaArgs(raw.meta, raw, subject, ctx.file);
  else {
    const mod = ctx.signatures.get(key);
    if (!mod) throw new Error(`bug: no signature for module '${key}' (signaturesFor missed it)`);
    args = moduleArgs(mod, raw[key], raw, subject, ctx.file);
    const problem = checkArgs(mod, args, true);
    if (problem) {
      // The culprit was written on the module line or under `args:`; a missing key is the module's.
      const first = problem.path[0];
      const source = first !== undefined && isMapping(raw.args) && first in raw.args && !(isMapping(raw[key]) && first in raw[key]) ? 'args' : key;
      const where = positionAtPath(raw, [source, ...problem.path]) ?? here(raw, key, ctx.file);
      throw new InputError(`${subject}: ${problem.message}`, where);
    }
  }
  if (raw.loop !== undefined && !Array.isArray(raw.loop) && !(typeof raw.loop === 'string' && raw.loop.includes('{{'))) {
    throw new InputError(`${subject}: loop must be a list or a "{{ expression }}" giving one`, here(raw, 'loop', ctx.file));
  }
  checkExpressions(raw, subject, ctx.file, ['when', 'changed_when', 'failed_when', 'until'], [key, 'args', 'loop', 'vars', 'name', 'notify']);

  const task: Task = {
    name: typeof raw.name === 'string' ? raw.name : key,
    module: key,
    args,
    // Not comma-split like tags: a handler's name may contain a comma.
    notify: raw.notify === undefined || raw.notify === null ? [] : Array.isArray(raw.notify) ? raw.notify.map(String) : [String(raw.notify)],
    ignoreErrors: raw.ignore_errors === true,
    tags: toList(raw.tags),
    noLog: raw.no_log === true,
    runOnce: raw.run_once === true,
    pos,
    file: ctx.file,
  };
  const when = toConditions(raw.when);
  if (when) task.when = when;
  const changedWhen = toConditions(raw.changed_when);
  if (changedWhen) task.changedWhen = changedWhen;
  const failedWhen = toConditions(raw.failed_when);
  if (failedWhen) task.failedWhen = failedWhen;
  const until = toConditions(raw.until);
  if (until) task.until = until;
  if (raw.loop !== undefined) task.loop = raw.loop;
  if (typeof raw.register === 'string') task.register = raw.register;
  if (typeof raw.become === 'boolean') task.become = raw.become;
  if (typeof raw.become_user === 'string') task.becomeUser = raw.become_user;
  if (typeof raw.check_mode === 'boolean') task.checkMode = raw.check_mode;
  if (typeof raw.any_errors_fatal === 'boolean') task.anyErrorsFatal = raw.any_errors_fatal;
  if (typeof raw.retries === 'number') task.retries = raw.retries;
  if (typeof raw.delay === 'number') task.delay = raw.delay;
  if (typeof raw.timeout === 'number') task.timeout = raw.timeout;
  if (raw.delegate_to === 'localhost') task.delegateTo = 'localhost';
  const vars = varsOf(raw, ctx);
  if (vars) task.vars = vars;
  copyPositions(raw, task);
  return task;
}
