// A task's module args against the module's own schema: statically at load time (values still holding
// `{{ }}` cannot be judged yet and are left out) and again by the engine after interpolation.
import type { ErrorObject } from 'ajv';
import type { Module } from '../types.js';
import { InputError, type SourcePos } from '../yaml/input-error.js';
import { validatorOf, type ModuleSignature } from './module-registry.js';
import type { Task } from './types.js';
import { describeSchemaErrors, type SchemaProblem } from './schema-errors.js';

/** Paths of every string holding `{{` in a value tree. */
function templatedPaths(value: unknown, path: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (typeof value === 'string') {
    if (value.includes('{{')) out.push(path);
  } else if (Array.isArray(value)) value.forEach((v, i) => templatedPaths(v, [...path, i], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) templatedPaths(v, [...path, k], out);
  return out;
}

const isPrefix = (prefix: readonly (string | number)[], of: readonly (string | number)[]): boolean =>
  prefix.length <= of.length && prefix.every((p, i) => p === of[i]);

/**
 * The first problem with `args`, or undefined. With `allowTemplates`, errors about a value that is (or
 * contains) a template are ignored; missing or unknown keys are still errors.
 */
export function checkArgs(mod: Module | ModuleSignature, args: Record<string, unknown>, allowTemplates: boolean): SchemaProblem | undefined {
  const validate = 'validate' in mod ? mod.validate : validatorOf(mod);
  if (validate(args)) return undefined;
  const templated = allowTemplates ? templatedPaths(args) : [];
  const skip = (path: (string | number)[], err: ErrorObject): boolean =>
    err.keyword !== 'required' && err.keyword !== 'additionalProperties' && templated.some((t) => isPrefix(path, t));
  return describeSchemaErrors(validate.errors ?? [], mod.name, skip);
}

export function taskLabel(task: { name?: string }): string {
  return task.name ? `task "${task.name}"` : 'task';
}

/** For the engine, after interpolation: throws an InputError at the task's position. */
export function validateArgs(mod: Module, args: Record<string, unknown>, task: Pick<Task, 'name' | 'pos'>): void {
  const problem = checkArgs(mod, args, false);
  if (problem) throw new InputError(`${taskLabel(task)}: ${problem.message}`, task.pos satisfies SourcePos);
}
