// The value model of expressions: plain JSON-like data, plus Secret (kept wrapped until text is
// needed) and variable sources (a Scope, e.g. `hostvars['node-1']`) that resolve names lazily.
import { Secret } from '../../secret.js';
import { ExpressionError } from '../errors.js';

/** "No such variable/attribute" — distinct from null, which is a value (`none`). */
export const UNDEFINED: unique symbol = Symbol('undefined');

export const LOOKUP: unique symbol = Symbol('rplay.vars.lookup');

/** Something that resolves variable names; returns UNDEFINED for unknown names. */
export interface VarSource {
  [LOOKUP](name: string): unknown;
}

export function isVarSource(v: unknown): v is VarSource {
  return typeof v === 'object' && v !== null && typeof (v as Partial<VarSource>)[LOOKUP] === 'function';
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** `obj[key] = value` that stays an own property even for `__proto__` (user data may use any key). */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Secrets reveal themselves only where a value is actually used. */
export function plain(v: unknown): unknown {
  return v instanceof Secret ? v.reveal() : v;
}

/** Text derived from a secret (b64encode, upper, split, …) is as secret as its source. */
export function keepSecret(source: unknown, derived: unknown): unknown {
  return source instanceof Secret && typeof derived === 'string' && derived !== '' ? new Secret(derived) : derived;
}

/** Jinja/Python truthiness. */
export function truthy(v: unknown): boolean {
  const p = plain(v);
  if (p === null || p === undefined || p === false || p === 0 || p === '') return false;
  if (Array.isArray(p)) return p.length > 0;
  if (isPlainObject(p)) return Object.keys(p).length > 0;
  return true;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  const x = plain(a);
  const y = plain(b);
  if (x === y) return true;
  if (Array.isArray(x) && Array.isArray(y)) return x.length === y.length && x.every((v, i) => deepEqual(v, y[i]));
  if (isPlainObject(x) && isPlainObject(y)) {
    const kx = Object.keys(x);
    return kx.length === Object.keys(y).length && kx.every((k) => Object.hasOwn(y, k) && deepEqual(x[k], y[k]));
  }
  return false;
}

/** How a value reads inside a larger string: scalars as written, collections as JSON, none as ''. */
export function toText(v: unknown): string {
  const p = plain(v);
  if (p === null || p === undefined) return '';
  if (typeof p === 'string') return p;
  if (typeof p === 'number' || typeof p === 'boolean' || typeof p === 'bigint') return String(p);
  return JSON.stringify(p, (_k, x: unknown) => plain(x));
}

export function typeName(v: unknown): string {
  const p = plain(v);
  if (p === null || p === undefined) return 'none';
  if (Array.isArray(p)) return 'list';
  if (isPlainObject(p) || isVarSource(p)) return 'mapping';
  return typeof p;
}

export function expectString(v: unknown, what: string): string {
  const p = plain(v);
  if (typeof p !== 'string') throw new ExpressionError(`${what} needs a string, got ${typeName(v)}`);
  return p;
}

export function expectNumber(v: unknown, what: string): number {
  const p = plain(v);
  if (typeof p !== 'number') throw new ExpressionError(`${what} needs a number, got ${typeName(v)}`);
  return p;
}

export function expectList(v: unknown, what: string): unknown[] {
  const p = plain(v);
  if (!Array.isArray(p)) throw new ExpressionError(`${what} needs a list, got ${typeName(v)}`);
  return p;
}

/**
 * Attribute or item of a value, Python-style (negative list indices count from the end), or UNDEFINED
 * when there is none.
 */
export function getMember(obj: unknown, key: unknown): unknown {
  if (isVarSource(obj)) return typeof key === 'string' ? obj[LOOKUP](key) : UNDEFINED;
  const o = plain(obj);
  const k = plain(key);
  if (Array.isArray(o) || typeof o === 'string') {
    if (typeof k !== 'number' || !Number.isInteger(k)) return UNDEFINED;
    const i = k < 0 ? o.length + k : k;
    return i >= 0 && i < o.length ? o[i] : UNDEFINED;
  }
  if (isPlainObject(o)) {
    const name = typeof k === 'number' ? String(k) : k;
    // Own keys only: `x.constructor` or `x.__proto__` must never reach JS internals.
    return typeof name === 'string' && Object.hasOwn(o, name) ? o[name] : UNDEFINED;
  }
  return UNDEFINED;
}

/**
 * A mapping whose entries are computed on use (e.g. `hostvars`: one Scope per host, built only for the
 * hosts an expression names). `get` returns UNDEFINED for unknown keys.
 */
export function lazyMapping(get: (name: string) => unknown): VarSource {
  return { [LOOKUP]: get };
}
