// The engine's view of variables: one Scope per task and host, layers lowest precedence first.
import { revealAll } from '../secret.js';
import { evaluateExpression } from '../vars/expression/evaluate.js';
import { LOOKUP, UNDEFINED } from '../vars/expression/values.js';
import { evaluateWhen } from '../vars/conditions.js';
import { hasTemplate, interpolate as interpolateWith } from '../vars/interpolate.js';
import { Scope } from '../vars/scope.js';
import type { Vars } from '../types.js';

export type TaskScope = Scope;

/** Data on top of a scope (loop item, a registered result): never re-templated. */
export function withVars(scope: TaskScope, vars: Vars): TaskScope {
  return scope.with(vars, true);
}

export function interpolate(value: unknown, scope: TaskScope): unknown {
  return interpolateWith(value, scope);
}

export function evaluate(expr: string, scope: TaskScope): unknown {
  return hasTemplate(expr) ? interpolateWith(expr, scope) : evaluateExpression(expr, scope);
}

/** `when:`/`until:`/`changed_when:` lists: every expression true. */
export function isTrue(exprs: readonly string[], scope: TaskScope): boolean {
  return evaluateWhen(exprs, scope);
}

/**
 * The variables as a plain-looking object for Mustache templates: names resolve lazily (a template
 * reads a handful of the host's variables, not all), secrets as their real text.
 */
export function viewOf(scope: TaskScope): Vars {
  return new Proxy({} as Vars, {
    has: (_t, name) => typeof name === 'string' && scope.has(name),
    get: (_t, name) => {
      if (typeof name !== 'string') return undefined;
      const v = scope[LOOKUP](name);
      return v === UNDEFINED ? undefined : revealAll(v);
    },
    ownKeys: () => scope.names(),
    getOwnPropertyDescriptor: (_t, name) =>
      typeof name === 'string' && scope.has(name) ? { enumerable: true, configurable: true, value: revealAll(scope.get(name)) } : undefined,
  });
}
