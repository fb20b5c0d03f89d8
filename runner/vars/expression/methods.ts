// The few Python methods Ansible users call on strings and dicts (`out.stdout.startswith('x')`).
import { ExpressionError } from '../errors.js';
import { UNDEFINED, getMember, isPlainObject, plain, toText, typeName } from './values.js';

type Method<T> = (self: T, args: unknown[]) => unknown;

const str = (v: unknown, what: string): string => {
  const p = plain(v);
  if (typeof p !== 'string') throw new ExpressionError(`${what} needs a string argument, got ${typeName(v)}`);
  return p;
};

/** `startswith(('a', 'b'))` takes a tuple of alternatives, as in Python. */
const anyOf = (v: unknown, what: string): string[] => {
  const p = plain(v);
  return Array.isArray(p) ? p.map((x) => str(x, what)) : [str(p, what)];
};

const stripChars = (chars: unknown): string =>
  chars === undefined || chars === null ? '\\s' : str(chars, 'strip').replace(/[\]\\^-]/g, '\\$&');

const stringMethods: Record<string, Method<string>> = {
  startswith: (s, [p]) => anyOf(p, 'startswith').some((x) => s.startsWith(x)),
  endswith: (s, [p]) => anyOf(p, 'endswith').some((x) => s.endsWith(x)),
  lower: (s) => s.toLowerCase(),
  upper: (s) => s.toUpperCase(),
  strip: (s, [c]) => s.replace(new RegExp(`^[${stripChars(c)}]+|[${stripChars(c)}]+$`, 'g'), ''),
  lstrip: (s, [c]) => s.replace(new RegExp(`^[${stripChars(c)}]+`), ''),
  rstrip: (s, [c]) => s.replace(new RegExp(`[${stripChars(c)}]+$`), ''),
  split: (s, [sep, max]) => {
    const parts = sep === undefined || sep === null ? s.split(/\s+/).filter(Boolean) : s.split(str(sep, 'split'));
    if (typeof max !== 'number' || max < 0 || parts.length <= max + 1) return parts;
    const joiner = sep === undefined || sep === null ? ' ' : str(sep, 'split');
    return [...parts.slice(0, max), parts.slice(max).join(joiner)];
  },
  splitlines: (s) => s.split(/\r?\n/).filter((l, i, all) => !(l === '' && i === all.length - 1)),
  replace: (s, [a, b]) => s.split(str(a, 'replace')).join(str(b, 'replace')),
  join: (s, [list]) => {
    const p = plain(list);
    if (!Array.isArray(p)) throw new ExpressionError(`join needs a list, got ${typeName(list)}`);
    return p.map(toText).join(s);
  },
  isdigit: (s) => /^\d+$/.test(s),
};

const dictMethods: Record<string, Method<Record<string, unknown>>> = {
  keys: (d) => Object.keys(d),
  values: (d) => Object.values(d),
  items: (d) => Object.entries(d),
  get: (d, [k, fallback = null]) => {
    const v = getMember(d, k);
    return v === UNDEFINED ? fallback : v;
  },
};

export function callMethod(self: unknown, name: string, args: unknown[]): unknown {
  const p = plain(self);
  if (typeof p === 'string' && Object.hasOwn(stringMethods, name)) return stringMethods[name]!(p, args);
  if (isPlainObject(p) && Object.hasOwn(dictMethods, name)) return dictMethods[name]!(p, args);
  throw new ExpressionError(`${typeName(self)} has no method ${name}()`);
}
