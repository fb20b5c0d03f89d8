// The value model of expressions: plain JSON-like data, plus Secret (kept wrapped until text is
// needed) and variable sources (a Scope, e.g. `hostvars['node-1']`) that resolve names lazily.
import { containsSecret, MASK, revealAll, Secret, secretTexts } from '../../secret.js';
import { ExpressionError, UndefinedVariableError } from '../errors.js';

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

/**
 * The result of an operation on `inputs` (a filter with its arguments, a method, an operator): when
 * any input holds a secret, every scalar of the result that is not one of the inputs' own plain
 * values (or keys) is derived from it and becomes a Secret. Values merely passed through keep what
 * they were (`users | map(attribute='name')` stays plain, the passwords beside the names stay Secrets).
 */
export function derive(inputs: readonly unknown[], result: unknown): unknown {
  if (!inputs.some(containsSecret)) return result;
  const passed = new Set<unknown>();
  for (const i of inputs) collectPlain(i, passed);
  return taint(result, passed);
}

function collectPlain(v: unknown, into: Set<unknown>): void {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') into.add(v);
  else if (Array.isArray(v)) for (const x of v) collectPlain(x, into);
  else if (isPlainObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      into.add(k);
      collectPlain(x, into);
    }
  }
}

/** `v` with its new scalars wrapped; the same object where nothing needed wrapping. */
function taint(v: unknown, passed: ReadonlySet<unknown>): unknown {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return passed.has(v) ? v : new Secret(v);
  if (Array.isArray(v)) {
    const out = v.map((x) => taint(x, passed));
    return out.every((x, i) => x === v[i]) ? v : out;
  }
  if (isPlainObject(v)) {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const t = taint(x, passed);
      changed ||= t !== x;
      setOwn(out, k, t);
    }
    return changed ? out : v;
  }
  return v;
}

/**
 * Runs an operation on `inputs`; when it fails and an input holds a secret, the error's text no
 * longer quotes any of the secrets (an invalid regex, an unknown filter name given as a variable).
 */
export function guarded<T>(inputs: readonly unknown[], run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof Error && inputs.some(containsSecret)) scrub(e, textsToScrub(inputs));
    throw e;
  }
}

/** Longest first, so a secret that holds another is masked whole; one character would mangle everything. */
function textsToScrub(inputs: readonly unknown[]): string[] {
  const all = new Set<string>();
  for (const i of inputs) secretTexts(i, all);
  return [...all].filter((t) => t.length > 1).sort((a, b) => b.length - a.length);
}

function scrub(e: Error, texts: readonly string[]): void {
  const clean = (s: string): string => texts.reduce((m, t) => m.split(t).join(MASK), s);
  e.message = clean(e.message);
  if (e instanceof UndefinedVariableError) Object.defineProperty(e, 'variable', { value: clean(e.variable) });
}

/** A mapping key: keys are names, printed as they are, so one computed from a secret is refused. */
export function keyText(v: unknown, what: string): string {
  if (containsSecret(v)) throw new ExpressionError(`${what}: a mapping key cannot be a secret (keys are printed as they are); keep the secret in a value`);
  return toText(v);
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

/**
 * How a value reads inside a larger string: scalars as written, collections as JSON, none as ''.
 * The real text, secrets included: callers that keep it (interpolation, filters) go through derive().
 */
export function toText(v: unknown): string {
  const p = plain(resolved(v));
  if (p === null || p === undefined) return '';
  if (typeof p === 'string') return p;
  if (typeof p === 'number' || typeof p === 'boolean' || typeof p === 'bigint') return String(p);
  // Revealed first: JSON.stringify calls a Secret's toJSON() (the mask) before any replacer.
  return JSON.stringify(revealAll(p));
}

/**
 * A value as data, for text: a variable source that can list itself (another host's variables,
 * `hostvars[h]`) resolved, deeply; Secrets kept, so derive() sees them.
 */
export function resolved(v: unknown): unknown {
  if (v instanceof Secret) return v;
  if (Array.isArray(v)) return v.map(resolved);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) setOwn(out, k, resolved(x));
    return out;
  }
  const listable = v as { toJSON?: () => unknown } | null;
  if (isVarSource(v) && typeof listable?.toJSON === 'function') return resolved(listable.toJSON());
  return v;
}

/** Text of values (`a ~ b`, `{{ a }}-{{ b }}`): a Secret when any of them holds one. */
export function joinText(parts: readonly unknown[]): unknown {
  const data = parts.map(resolved);
  return derive(data, data.map(toText).join(''));
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
