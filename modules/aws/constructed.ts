// Ansible's "constructed" features of inventory plugins, over one host's variables: compose (new
// variables from expressions), groups (membership from conditions) and keyed_groups (a group per value
// of an expression, named prefix_value). Expressions are rplay's own (runner/vars), never eval.
import { evaluateExpression } from '../../runner/vars/expression/evaluate.js';
import { truthy } from '../../runner/vars/expression/values.js';
import { Scope } from '../../runner/vars/scope.js';

export interface KeyedGroup {
  key: string;
  prefix?: string;
  separator?: string;
  parent_group?: string;
  default_value?: string;
  trailing_separator?: boolean;
}

export interface Construction {
  compose?: Record<string, unknown>;
  groups?: Record<string, string>;
  keyed_groups?: KeyedGroup[];
  /** An expression that fails is an error (true) or skipped for that host, as in Ansible (false). */
  strict?: boolean;
  /** A keyed group without prefix starts with the separator (_value) unless this is false. */
  leading_separator?: boolean;
}

export interface Constructed {
  /** Variables from compose. */
  vars: Record<string, unknown>;
  /** Groups the host joins (sanitized names). */
  groups: string[];
  /** Parent group → child groups (keyed groups' parent_group). */
  parents: Record<string, string[]>;
}

export class ConstructError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConstructError';
  }
}

/** Group names usable as variable names: other characters become _, as Ansible does. */
export function sanitizeGroupName(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_').replace(/^[0-9]/, '_');
}

function evaluate(expr: unknown, scope: Scope): unknown {
  return typeof expr === 'string' ? evaluateExpression(expr, scope) : expr;
}

function textOf(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
}

function keyedNames(k: KeyedGroup, value: unknown): string[] {
  const sep = k.separator ?? '_';
  const empty = (v: unknown): boolean => v === null || v === undefined || v === '';
  if (empty(value)) return k.default_value === undefined ? [] : [k.default_value];
  if (Array.isArray(value)) return value.flatMap((v) => (empty(v) ? (k.default_value === undefined ? [] : [k.default_value]) : [textOf(v)]));
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>).map(([name, v]) => {
      if (!empty(v)) return `${name}${sep}${textOf(v)}`;
      if (k.default_value !== undefined) return `${name}${sep}${k.default_value}`;
      return k.trailing_separator === false ? name : `${name}${sep}`;
    });
  }
  return [textOf(value)];
}

/** What compose, groups and keyed_groups make of one host. */
export function construct(host: string, hostVars: Readonly<Record<string, unknown>>, c: Construction): Constructed {
  const strict = c.strict ?? false;
  const attempt = <T>(what: string, f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      if (strict) throw new ConstructError(`host ${host}: ${what}: ${(e as Error).message}`);
      return undefined;
    }
  };
  // compose sees the instance's own variables; groups and keyed_groups also see the composed ones.
  const base = new Scope([{ vars: hostVars, literal: true }]);
  const vars: Record<string, unknown> = {};
  for (const [name, expr] of Object.entries(c.compose ?? {})) {
    const v = attempt(`compose ${name}`, () => evaluate(expr, base));
    if (v !== undefined) vars[name] = v;
  }
  const scope = base.with(vars, true);
  const groups = new Set<string>();
  for (const [name, condition] of Object.entries(c.groups ?? {})) {
    if (attempt(`groups ${name}`, () => truthy(evaluate(condition, scope)))) groups.add(sanitizeGroupName(name));
  }
  const parents: Record<string, string[]> = {};
  for (const k of c.keyed_groups ?? []) {
    const value = attempt(`keyed_groups ${k.key}`, () => evaluate(k.key, scope));
    if (value === undefined) continue;
    const prefix = k.prefix ?? '';
    const sep = prefix === '' && c.leading_separator === false ? '' : (k.separator ?? '_');
    for (const bare of keyedNames(k, value)) {
      const name = sanitizeGroupName(`${prefix}${sep}${bare}`);
      groups.add(name);
      if (k.parent_group !== undefined) (parents[sanitizeGroupName(k.parent_group)] ??= []).push(name);
    }
  }
  return { vars, groups: [...groups], parents };
}
