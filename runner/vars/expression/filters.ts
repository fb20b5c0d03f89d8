// Jinja/Ansible filters (`x | name(args)`), each a pure function of data.
import { createHmac } from 'node:crypto';
import { posix } from 'node:path';
import { shQuote } from '../../connection/quote.js';
import { containsSecret, isSecret, MASK, revealAll } from '../../secret.js';
import { ExpressionError, UndefinedVariableError } from '../errors.js';
import { applyTest } from './jinja-tests.js';
import type { RE2JS } from 're2js';
import { findAll, groupRef, groups, matches, playbookRegex, replace, type RegexOptions } from './regex.js';
import {
  UNDEFINED,
  deepEqual,
  derive,
  expectList,
  expectNumber,
  expectString,
  getMember,
  guarded,
  isPlainObject,
  joinText,
  keyText,
  plain,
  resolved,
  setOwn,
  toText,
  truthy,
  typeName,
} from './values.js';

export interface Args {
  positional: unknown[];
  named: Record<string, unknown>;
}

type Filter = (input: unknown, args: Args) => unknown;

/** Argument `i` by position or by name, else the fallback. */
function arg(args: Args, i: number, name: string, fallback?: unknown): unknown {
  if (i < args.positional.length) return args.positional[i];
  if (Object.hasOwn(args.named, name)) return args.named[name];
  return fallback;
}

function toBool(v: unknown): boolean {
  const p = plain(v);
  if (typeof p === 'boolean') return p;
  if (typeof p === 'number') return p === 1;
  if (typeof p === 'string') return ['yes', 'on', '1', 'true', 'y'].includes(p.trim().toLowerCase());
  return false;
}

function toNumber(v: unknown, parse: (s: string) => number, fallback: unknown): unknown {
  const p = plain(v);
  if (typeof p === 'number') return p;
  if (typeof p === 'boolean') return p ? 1 : 0;
  if (typeof p === 'string') {
    const n = parse(p.trim());
    if (Number.isFinite(n)) return n;
  }
  return fallback;
}

function length(v: unknown): number {
  const p = plain(v);
  if (typeof p === 'string' || Array.isArray(p)) return p.length;
  if (isPlainObject(p)) return Object.keys(p).length;
  throw new ExpressionError(`length needs a string, list or mapping, got ${typeName(v)}`);
}

function sequence(v: unknown, what: string): unknown[] {
  const p = plain(v);
  if (typeof p === 'string') return [...p];
  if (isPlainObject(p)) return Object.keys(p);
  return expectList(p, what);
}

function sortKey(a: unknown, b: unknown): number {
  const x = plain(a);
  const y = plain(b);
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  if (typeof x === 'string' && typeof y === 'string') return x < y ? -1 : x > y ? 1 : 0;
  throw new ExpressionError(`cannot sort ${typeName(a)} with ${typeName(b)}`);
}

/** `attribute` may be a dotted path, as in Jinja (`map(attribute='stat.mode')`). */
function attribute(item: unknown, path: string): unknown {
  let v: unknown = item;
  for (const part of path.split('.')) {
    v = getMember(v, /^-?\d+$/.test(part) && Array.isArray(plain(v)) ? Number(part) : part);
    if (v === UNDEFINED) throw new UndefinedVariableError(path, `attribute of ${typeName(item)}`);
  }
  return v;
}

function testArgs(args: Args, from: number): Args {
  return { positional: args.positional.slice(from), named: {} };
}

function select(input: unknown, args: Args, keep: boolean, byAttr: boolean): unknown[] {
  const list = sequence(input, byAttr ? 'selectattr' : 'select');
  const attr = byAttr ? expectString(arg(args, 0, 'attribute'), 'selectattr') : undefined;
  const from = byAttr ? 1 : 0;
  const test = arg(args, from, 'test');
  return list.filter((item) => {
    const v = attr === undefined ? item : getMember(item, attr);
    const ok = test === undefined ? v !== UNDEFINED && truthy(v) : applyTest(expectString(test, 'select'), v, testArgs(args, from + 1), attr ?? 'item');
    return ok === keep;
  });
}

function combine(input: unknown, args: Args): Record<string, unknown> {
  const recursive = toBool(args.named.recursive ?? false);
  const merge = (a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> => {
    const out = { ...a };
    for (const [k, v] of Object.entries(b)) {
      const prev = out[k];
      setOwn(out, k, recursive && isPlainObject(prev) && isPlainObject(v) ? merge(prev, v) : v);
    }
    return out;
  };
  let out = expectMapping(input, 'combine');
  for (const d of args.positional) out = merge(out, expectMapping(d, 'combine'));
  return out;
}

function expectMapping(v: unknown, what: string): Record<string, unknown> {
  const p = plain(v);
  if (!isPlainObject(p)) throw new ExpressionError(`${what} needs a mapping, got ${typeName(v)}`);
  return p;
}

/**
 * `ignorecase` and `multiline` by name, or by position where Ansible's filter takes them there
 * (regex_replace: 3rd and 4th; regex_findall: multiline 2nd, ignorecase 3rd; regex_search: names only).
 */
function regexOptions(args: Args, at: { ignorecase?: number; multiline?: number } = {}): RegexOptions {
  const flag = (name: 'ignorecase' | 'multiline'): boolean => toBool(at[name] === undefined ? (args.named[name] ?? false) : arg(args, at[name], name, false));
  return { ignorecase: flag('ignorecase'), multiline: flag('multiline') };
}

function regex(v: unknown, args: Args, what: string, at?: { ignorecase?: number; multiline?: number }): { text: string; re: RE2JS } {
  const pattern = arg(args, 0, 'regex');
  return { text: expectString(v, what), re: playbookRegex(pattern, what, regexOptions(args, at)) };
}

function asJson(v: unknown, indent?: number): unknown {
  const data = resolved(v);
  return derive([data], JSON.stringify(revealAll(data), null, indent));
}

const filters: Record<string, Filter> = {
  default: (v, a) =>
    v === UNDEFINED || (toBool(arg(a, 1, 'boolean', false)) && !truthy(v)) ? arg(a, 0, 'default_value', '') : v,
  bool: toBool,
  int: (v, a) => {
    const base = expectNumber(arg(a, 1, 'base', 10), 'int base');
    const n = toNumber(v, (s) => (base === 10 && /^[-+]?\d+(\.\d+)?$/.test(s) ? Math.trunc(Number(s)) : parseInt(s, base)), arg(a, 0, 'default', 0));
    return typeof n === 'number' ? Math.trunc(n) : n;
  },
  float: (v, a) => toNumber(v, (s) => (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(s) ? Number(s) : NaN), arg(a, 0, 'default', 0)),
  string: (v) => joinText([v]),
  lower: (v) => expectString(v, 'lower').toLowerCase(),
  upper: (v) => expectString(v, 'upper').toUpperCase(),
  capitalize: (v) => {
    const s = expectString(v, 'capitalize');
    return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
  },
  trim: (v) => expectString(v, 'trim').trim(),
  length,
  count: length,
  join: (v, a) => expectList(v, 'join').map(toText).join(toText(arg(a, 0, 'd', ''))),
  first: (v) => {
    const s = sequence(v, 'first');
    if (s.length === 0) throw new ExpressionError('first of an empty list');
    return s[0];
  },
  last: (v) => {
    const s = sequence(v, 'last');
    if (s.length === 0) throw new ExpressionError('last of an empty list');
    return s[s.length - 1];
  },
  list: (v) => sequence(v, 'list'),
  unique: (v) => expectList(v, 'unique').filter((x, i, all) => all.findIndex((y) => deepEqual(x, y)) === i),
  sort: (v, a) => {
    const attr = arg(a, 2, 'attribute');
    const key = (x: unknown): unknown => (attr === undefined ? x : attribute(x, expectString(attr, 'sort attribute')));
    const sorted = [...expectList(v, 'sort')].sort((x, y) => sortKey(key(x), key(y)));
    return toBool(arg(a, 0, 'reverse', false)) ? sorted.reverse() : sorted;
  },
  reverse: (v) => (typeof plain(v) === 'string' ? [...expectString(v, 'reverse')].reverse().join('') : [...expectList(v, 'reverse')].reverse()),
  min: (v) => expectList(v, 'min').reduce((m, x) => (sortKey(x, m) < 0 ? x : m)),
  max: (v) => expectList(v, 'max').reduce((m, x) => (sortKey(x, m) > 0 ? x : m)),
  sum: (v, a) => expectList(v, 'sum').reduce((s: number, x) => s + expectNumber(x, 'sum'), expectNumber(arg(a, 1, 'start', 0), 'sum')),
  flatten: (v) => expectList(v, 'flatten').flat(Infinity),
  abs: (v) => Math.abs(expectNumber(v, 'abs')),
  round: (v, a) => {
    const f = 10 ** expectNumber(arg(a, 0, 'precision', 0), 'round precision');
    return Math.round(expectNumber(v, 'round') * f) / f;
  },
  // Revealed first: JSON.stringify calls a Secret's toJSON() (the mask) before any replacer, and
  // this text goes to hosts; derive() makes the result a Secret again.
  to_json: (v) => asJson(v),
  to_nice_json: (v, a) => asJson(v, expectNumber(arg(a, 0, 'indent', 4), 'indent')),
  from_json: (v) => {
    try {
      return JSON.parse(expectString(v, 'from_json'));
    } catch (e) {
      // The parser quotes the text around the fault: not when that text is a secret.
      const why = containsSecret(v) ? 'the text (a secret, not shown) is not valid JSON' : (e as Error).message;
      throw new ExpressionError(`from_json: ${why}`);
    }
  },
  b64encode: (v) => Buffer.from(expectString(v, 'b64encode'), 'utf8').toString('base64'),
  /** HMAC-SHA256 keyed with the input, of the message argument, in hex: from a secret, a secret of its own. */
  hmac: (v, a) => createHmac('sha256', expectString(v, 'hmac')).update(expectString(arg(a, 0, 'message'), 'hmac')).digest('hex'),
  b64decode: (v) => Buffer.from(expectString(v, 'b64decode'), 'base64').toString('utf8'),
  replace: (v, a) => expectString(v, 'replace').split(expectString(arg(a, 0, 'old'), 'replace')).join(toText(arg(a, 1, 'new', ''))),
  split: (v, a) => {
    const sep = arg(a, 0, 'sep');
    const s = expectString(v, 'split');
    return sep === undefined || sep === null ? s.split(/\s+/).filter(Boolean) : s.split(expectString(sep, 'split'));
  },
  regex_replace: (v, a) => {
    const { text, re } = regex(v, a, 'regex_replace', { ignorecase: 2, multiline: 3 });
    return replace(re, text, toText(arg(a, 1, 'replace', '')), expectNumber(a.named.count ?? 0, 'regex_replace count'));
  },
  // `regex_search(re)` is the first match or none; `regex_search(re, '\\1', '\\g<name>')` the list of those groups.
  regex_search: (v, a) => {
    const { text, re } = regex(v, a, 'regex_search');
    const refs = a.positional.slice(1).map((r) => groupRef(expectString(r, 'regex_search'), 'regex_search'));
    for (const m of matches(re, text)) return refs.length ? groups(m, refs) : m.group();
    return null;
  },
  regex_findall: (v, a) => {
    const { text, re } = regex(v, a, 'regex_findall', { multiline: 1, ignorecase: 2 });
    return findAll(re, text);
  },
  quote: (v) => shQuote(toText(v)),
  basename: (v) => posix.basename(expectString(v, 'basename')),
  dirname: (v) => posix.dirname(expectString(v, 'dirname')),
  combine,
  dict2items: (v) => Object.entries(expectMapping(v, 'dict2items')).map(([key, value]) => ({ key, value })),
  items2dict: (v) =>
    Object.fromEntries(expectList(v, 'items2dict').map((it) => [keyText(attribute(it, 'key'), 'items2dict'), attribute(it, 'value')])),
  map: (v, a) => {
    const list = sequence(v, 'map');
    const attr = a.named.attribute;
    if (attr !== undefined) {
      const fallback = a.named.default;
      return list.map((x) => {
        const got = getMember(x, expectString(attr, 'map attribute'));
        if (got !== UNDEFINED) return got;
        if (fallback !== undefined) return fallback;
        return attribute(x, expectString(attr, 'map attribute'));
      });
    }
    const name = expectString(a.positional[0], 'map');
    const rest: Args = { positional: a.positional.slice(1), named: a.named };
    return list.map((x) => applyFilter(name, x, rest));
  },
  // `groups['redis'] | map('extract', hostvars, 'ansible_host')`
  extract: (v, a) => {
    let out = getMember(a.positional[0], v);
    if (out === UNDEFINED) throw new UndefinedVariableError(isSecret(v) ? MASK : toText(v), 'extract');
    if (a.positional.length > 1) out = attribute(out, toText(a.positional[1]));
    return out;
  },
  select: (v, a) => select(v, a, true, false),
  reject: (v, a) => select(v, a, false, false),
  selectattr: (v, a) => select(v, a, true, true),
  rejectattr: (v, a) => select(v, a, false, true),
};
filters.d = filters.default!;

/** A filter's result is derived from its input and from its arguments (see derive()). */
export function applyFilter(name: string, input: unknown, args: Args): unknown {
  const f = Object.hasOwn(filters, name) ? filters[name] : undefined;
  if (!f) throw new ExpressionError(`unknown filter '${name}'`);
  if (input === UNDEFINED && name !== 'default' && name !== 'd') throw new ExpressionError(`filter '${name}' got an undefined value`);
  const inputs = [input, ...args.positional, ...Object.values(args.named)];
  return guarded(inputs, () => derive(inputs, f(input, args)));
}
