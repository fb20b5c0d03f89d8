// Jinja/Ansible tests (`x is name(args)`), including the task-result tests `changed`, `failed`, ….
import { ExpressionError, UndefinedVariableError } from '../errors.js';
import type { Args } from './filters.js';
import { foundIn, matchesAtStart, playbookRegex, type RegexOptions } from './regex.js';
import { UNDEFINED, deepEqual, expectString, getMember, isPlainObject, isVarSource, plain, truthy, typeName } from './values.js';

type Test = (value: unknown, args: unknown[], named: Record<string, unknown>) => boolean;

function resultFlag(flag: string): Test {
  return (v) => {
    if (!isPlainObject(plain(v))) throw new ExpressionError(`'is ${flag}' needs a registered task result, got ${typeName(v)}`);
    const f = getMember(v, flag);
    return f !== UNDEFINED && truthy(f);
  };
}

function ordered(op: string): Test {
  return (v, [other]) => {
    const x = plain(v);
    const y = plain(other);
    if (!((typeof x === 'number' && typeof y === 'number') || (typeof x === 'string' && typeof y === 'string'))) {
      throw new ExpressionError(`cannot compare ${typeName(v)} ${op} ${typeName(other)}`);
    }
    return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
  };
}

/** Dotted versions compared numerically part by part (`7.0.15` > `7.0.9`). */
function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0';
    const y = pb[i] ?? '0';
    const d = /^\d+$/.test(x) && /^\d+$/.test(y) ? Number(x) - Number(y) : x.localeCompare(y);
    if (d !== 0) return d;
  }
  return 0;
}

const VERSION_OPS: Record<string, (d: number) => boolean> = {
  '<': (d) => d < 0, lt: (d) => d < 0, '<=': (d) => d <= 0, le: (d) => d <= 0,
  '>': (d) => d > 0, gt: (d) => d > 0, '>=': (d) => d >= 0, ge: (d) => d >= 0,
  '==': (d) => d === 0, '=': (d) => d === 0, eq: (d) => d === 0, '!=': (d) => d !== 0, ne: (d) => d !== 0,
};

/** `is match(re, ignorecase=true, multiline=true)`: the flags by name or by position, as in Ansible. */
function regexOptions([ignorecase, multiline]: unknown[], named: Record<string, unknown>): RegexOptions {
  return { ignorecase: truthy(named.ignorecase ?? ignorecase ?? false), multiline: truthy(named.multiline ?? multiline ?? false) };
}

const tests: Record<string, Test> = {
  none: (v) => plain(v) === null,
  true: (v) => plain(v) === true,
  false: (v) => plain(v) === false,
  string: (v) => typeof plain(v) === 'string',
  number: (v) => typeof plain(v) === 'number',
  integer: (v) => Number.isInteger(plain(v)),
  float: (v) => typeof plain(v) === 'number' && !Number.isInteger(plain(v)),
  boolean: (v) => typeof plain(v) === 'boolean',
  mapping: (v) => isPlainObject(plain(v)) || isVarSource(v),
  sequence: (v) => Array.isArray(plain(v)) || typeof plain(v) === 'string',
  iterable: (v) => Array.isArray(plain(v)) || typeof plain(v) === 'string' || isPlainObject(plain(v)),
  even: (v) => Number.isInteger(plain(v)) && (plain(v) as number) % 2 === 0,
  odd: (v) => Number.isInteger(plain(v)) && Math.abs(plain(v) as number) % 2 === 1,
  changed: resultFlag('changed'),
  failed: resultFlag('failed'),
  skipped: resultFlag('skipped'),
  succeeded: (v, a, n) => !resultFlag('failed')(v, a, n),
  match: (v, [re, ...flags], named) => matchesAtStart(playbookRegex(re, 'match', regexOptions(flags, named)), expectString(v, 'match')),
  search: (v, [re, ...flags], named) => foundIn(playbookRegex(re, 'search', regexOptions(flags, named)), expectString(v, 'search')),
  in: (v, [c]) => {
    const p = plain(c);
    return Array.isArray(p) ? p.some((x) => deepEqual(x, v)) : typeof p === 'string' && p.includes(expectString(v, 'in'));
  },
  contains: (v, [x]) => {
    const p = plain(v);
    return Array.isArray(p) ? p.some((y) => deepEqual(x, y)) : typeof p === 'string' && p.includes(expectString(x, 'contains'));
  },
  eq: (v, [x]) => deepEqual(v, x),
  ne: (v, [x]) => !deepEqual(v, x),
  lt: ordered('<'),
  le: ordered('<='),
  gt: ordered('>'),
  ge: ordered('>='),
  version: (v, [other, op = 'eq']) => {
    const check = VERSION_OPS[expectString(op, 'version operator')];
    if (!check) throw new ExpressionError(`version: unknown operator '${String(op)}'`);
    return check(compareVersions(expectString(v, 'version'), expectString(other, 'version')));
  },
};
Object.assign(tests, {
  success: tests.succeeded, regex: tests.search, equalto: tests.eq, '==': tests.eq, '!=': tests.ne,
  '<': tests.lt, '<=': tests.le, '>': tests.gt, '>=': tests.ge, version_compare: tests.version,
});

/**
 * `value is name(args)`. `value` may be UNDEFINED: only `defined`/`undefined` accept that; any other
 * test on an undefined name is an error naming it (`subject`).
 */
export function applyTest(name: string, value: unknown, args: Args, subject: string): boolean {
  if (name === 'defined') return value !== UNDEFINED;
  if (name === 'undefined') return value === UNDEFINED;
  const t = Object.hasOwn(tests, name) ? tests[name] : undefined;
  if (!t) throw new ExpressionError(`unknown test '${name}'`);
  if (value === UNDEFINED) throw new UndefinedVariableError(subject);
  return t(value, args.positional, args.named);
}
