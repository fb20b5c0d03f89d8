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

/** Python's strip(chars): a character test (whitespace by default), no regex, so linear on host output. */
const stripping = (chars: unknown, what: string): ((c: string) => boolean) => {
  if (chars === undefined || chars === null) return (c) => /\s/.test(c);
  const set = new Set(str(chars, what));
  return (c) => set.has(c);
};

function strip(s: string, chars: unknown, what: string, left: boolean, right: boolean): string {
  const strips = stripping(chars, what);
  let a = 0;
  let b = s.length;
  while (left && a < b && strips(s[a]!)) a++;
  while (right && b > a && strips(s[b - 1]!)) b--;
  return s.slice(a, b);
}

const stringMethods: Record<string, Method<string>> = {
  startswith: (s, [p]) => anyOf(p, 'startswith').some((x) => s.startsWith(x)),
  endswith: (s, [p]) => anyOf(p, 'endswith').some((x) => s.endsWith(x)),
  lower: (s) => s.toLowerCase(),
  upper: (s) => s.toUpperCase(),
  strip: (s, [c]) => strip(s, c, 'strip', true, true),
  lstrip: (s, [c]) => strip(s, c, 'lstrip', true, false),
  rstrip: (s, [c]) => strip(s, c, 'rstrip', false, true),
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
