// One raw play from YAML → a checked Play (keywords, vars, tasks, handlers, notify targets).
import type { ValidateFunction } from 'ajv';
import { ExpressionError } from '../vars/errors.js';
import { checkTemplates } from '../vars/interpolate.js';
import { expectVarsMapping } from '../vars/vars-file.js';
import { didYouMean } from '../yaml/did-you-mean.js';
import { InputError, copyPositions, positionAtPath, positionOf } from '../yaml/load.js';
import { keywordValidator } from './ajv.js';
import { playKeywords, unsupported } from './keywords.js';
import { normalizeTaskNodes, type TaskContext } from './normalize-task.js';
import { describeSchemaErrors } from './schema-errors.js';
import { isBlock, type Play, type Task, type TaskNode } from './types.js';

let playValidator: ValidateFunction | undefined;

/** Every task of a task list, inside blocks too (rescue and always included). */
export function* allTasks(nodes: readonly TaskNode[]): Generator<Task> {
  for (const n of nodes) {
    if (isBlock(n)) {
      yield* allTasks(n.block);
      yield* allTasks(n.rescue);
      yield* allTasks(n.always);
    } else yield n;
  }
}

/** Every notify names a handler of the play (a typo would otherwise silently never restart anything). */
function checkNotify(tasks: readonly TaskNode[], handlers: readonly Task[]): void {
  const names = new Map<string, Task>();
  for (const h of handlers) {
    const first = names.get(h.name);
    if (first) throw new InputError(`handler "${h.name}" is defined twice (first at line ${first.pos.line})`, h.pos);
    names.set(h.name, h);
  }
  for (const t of [...allTasks(tasks), ...handlers]) {
    for (const n of t.notify) {
      if (n.includes('{{') || names.has(n)) continue;
      const where = positionOf(t, 'notify') ?? t.pos;
      throw new InputError(`task "${t.name}": notify: no handler named "${n}" in this play${didYouMean(n, names.keys())}`, where);
    }
  }
}

export function normalizePlay(raw: Record<string, unknown>, ctx: TaskContext): Play {
  const subject = typeof raw.name === 'string' ? `play "${raw.name}"` : 'play';
  for (const key of Object.keys(raw)) {
    const hint = Object.hasOwn(unsupported, key) ? unsupported[key] : undefined;
    if (hint) throw new InputError(`${subject}: '${key}' is not supported — ${hint}`, positionOf(raw, key) ?? ctx.file);
  }
  playValidator ??= keywordValidator('play', playKeywords);
  if (!playValidator(raw)) {
    const problem = describeSchemaErrors(playValidator.errors ?? [], subject);
    if (problem) {
      const message = problem.message.startsWith(subject + '.') ? `${subject}: ${problem.message.slice(subject.length + 1)}` : problem.message;
      throw new InputError(message, positionAtPath(raw, problem.path) ?? ctx.file);
    }
  }
  const vars = expectVarsMapping(raw.vars, ctx.file);
  for (const key of ['vars', 'vars_files', 'hosts', 'name', 'serial']) {
    checkTemplates(raw[key], (path, e: ExpressionError) => {
      throw new InputError(`${subject}: ${[key, ...path].join('.')}: ${e.message}`, positionAtPath(raw, [key, ...path]) ?? ctx.file);
    });
  }
  const hosts = Array.isArray(raw.hosts) ? raw.hosts.map(String).join(':') : String(raw.hosts);
  const tasks = normalizeTaskNodes(raw.tasks, ctx);
  const handlers = normalizeTaskNodes(raw.handlers, ctx, true) as Task[];
  checkNotify(tasks, handlers);
  const play: Play = {
    name: typeof raw.name === 'string' ? raw.name : hosts,
    hosts,
    vars,
    varsFiles: raw.vars_files === undefined ? [] : Array.isArray(raw.vars_files) ? raw.vars_files.map(String) : [String(raw.vars_files)],
    gatherFacts: raw.gather_facts !== false,
    tasks,
    handlers,
    pos: positionOf(raw) ?? { file: ctx.file, line: 1, col: 1 },
  };
  if (typeof raw.remote_user === 'string') play.remoteUser = raw.remote_user;
  if (typeof raw.become === 'boolean') play.become = raw.become;
  if (typeof raw.become_user === 'string') play.becomeUser = raw.become_user;
  if (raw.serial !== undefined) play.serial = (Array.isArray(raw.serial) ? raw.serial : [raw.serial]) as (number | string)[];
  if (raw.max_fail_percentage !== undefined) play.maxFailPercentage = parseFloat(String(raw.max_fail_percentage));
  if (typeof raw.any_errors_fatal === 'boolean') play.anyErrorsFatal = raw.any_errors_fatal;
  if (typeof raw.force_handlers === 'boolean') play.forceHandlers = raw.force_handlers;
  copyPositions(raw, play);
  return play;
}
