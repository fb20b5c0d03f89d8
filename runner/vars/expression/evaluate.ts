// A small evaluator over the parsed tree: only data in, data out — no property access beyond own
// keys, no calls except the filter, test and method tables, so an expression can never run code.
import type jsep from 'jsep';
import { isSecret } from '../../secret.js';
import { ExpressionError, UndefinedVariableError } from '../errors.js';
import { applyFilter, type Args } from './filters.js';
import { applyTest } from './jinja-tests.js';
import { callMethod } from './methods.js';
import { parseExpression, type GroupNode, type Node, type ObjectNode } from './parse.js';
import {
  LOOKUP,
  UNDEFINED,
  deepEqual,
  derive,
  getMember,
  guarded,
  isPlainObject,
  isVarSource,
  joinText,
  keyText,
  plain,
  setOwn,
  toText,
  truthy,
  typeName,
  type VarSource,
} from './values.js';

/** How `not`, `and`, `or` and `a if c else b` judge a value: Python's truthiness unless a condition says otherwise. */
export type Truth = (value: unknown) => boolean;

/** Evaluate an expression (no `{{ }}`) against variables. */
export function evaluateExpression(text: string, vars: VarSource, truth: Truth = truthy): unknown {
  return new Evaluator(vars, truth).value(parseExpression(text));
}

class Evaluator {
  constructor(
    private readonly vars: VarSource,
    private readonly truth: Truth,
  ) {}

  /** A value that must exist: undefined names are errors. */
  value(node: Node): unknown {
    const v = this.maybe(node);
    if (v === UNDEFINED) throw new UndefinedVariableError(describe(node));
    return v;
  }

  /** Like value(), but a missing variable or attribute at the end of a name path is UNDEFINED. */
  maybe(node: Node): unknown {
    switch (node.type) {
      case 'Literal':
        return (node as jsep.Literal).value;
      case 'Identifier':
        return this.vars[LOOKUP]((node as jsep.Identifier).name);
      case 'MemberExpression': {
        const m = node as jsep.MemberExpression;
        const obj = this.maybe(m.object);
        if (obj === UNDEFINED) return UNDEFINED;
        const key = m.computed ? this.value(m.property) : (m.property as jsep.Identifier).name;
        const member = getMember(obj, key);
        // Picking from a container passes a value through, but what a secret index picks tells
        // the index; a character of a secret string is derived from it.
        if (isSecret(key)) return derive([key], member);
        return isSecret(obj) ? derive([obj, key], member) : member;
      }
      case 'Group':
        return this.maybe((node as GroupNode).expression);
      default:
        return this.compute(node);
    }
  }

  private compute(node: Node): unknown {
    switch (node.type) {
      case 'ArrayExpression':
        return (node as jsep.ArrayExpression).elements.map((e) => (e ? this.value(e) : null));
      case 'SequenceExpression': // `(a, b)`: a tuple, i.e. a list
        return (node as jsep.SequenceExpression).expressions.map((e) => this.value(e));
      case 'ObjectExpression': {
        const out: Record<string, unknown> = {};
        for (const p of (node as ObjectNode).properties) {
          const k = p.key.type === 'Identifier' ? (p.key as jsep.Identifier).name : keyText(this.value(p.key), 'dict');
          setOwn(out, k, this.value(p.value));
        }
        return out;
      }
      case 'UnaryExpression':
        return this.unary(node as jsep.UnaryExpression);
      case 'BinaryExpression':
        return this.binary(node as jsep.BinaryExpression);
      case 'CallExpression':
        return this.call(node as jsep.CallExpression);
      case 'ConditionalExpression':
        throw new ExpressionError('`c ? a : b` is not supported; write `a if c else b`');
      default:
        throw new ExpressionError(`unsupported expression: ${node.type}`);
    }
  }

  private unary(u: jsep.UnaryExpression): unknown {
    const v = this.value(u.argument);
    if (u.operator === 'not') return !this.truth(v);
    const n = plain(v);
    if (typeof n !== 'number') throw new ExpressionError(`unary ${u.operator} needs a number, got ${typeName(v)}`);
    return derive([v], u.operator === '-' ? -n : n);
  }

  private binary(b: jsep.BinaryExpression): unknown {
    const op = b.operator;
    switch (op) {
      case 'and': {
        const l = this.value(b.left);
        return this.truth(l) ? this.value(b.right) : l;
      }
      case 'or': {
        const l = this.value(b.left);
        return this.truth(l) ? l : this.value(b.right);
      }
      case 'else': {
        if (b.left.type !== 'BinaryExpression' || (b.left as jsep.BinaryExpression).operator !== 'if') {
          throw new ExpressionError('`else` without `if`');
        }
        const cond = b.left as jsep.BinaryExpression;
        return this.truth(this.value(cond.right)) ? this.value(cond.left) : this.value(b.right);
      }
      case 'if':
        return this.truth(this.value(b.right)) ? this.value(b.left) : null;
      case 'is':
      case 'is not': {
        const { name, args } = this.callee(b.right, 'test');
        const subject = this.maybe(b.left);
        // A test's verdict is a plain boolean, like a comparison's; its error must not quote a secret.
        const result = guarded([subject, ...args.positional], () => applyTest(name, subject, args, describe(b.left)));
        return op === 'is' ? result : !result;
      }
      case '|':
        return this.filter(b.left, b.right);
      case '=':
        throw new ExpressionError('`=` is only allowed for keyword arguments, e.g. map(attribute=\'name\'); compare with ==');
    }
    const l = this.value(b.left);
    const r = this.value(b.right);
    switch (op) {
      case '==':
        return deepEqual(l, r);
      case '!=':
        return !deepEqual(l, r);
      case 'in':
        return contains(r, l);
      case 'not in':
        return !contains(r, l);
      case '~':
        return joinText([l, r]);
      case '<':
      case '<=':
      case '>':
      case '>=':
        return compare(op, l, r);
      default:
        return derive([l, r], arithmetic(op, l, r));
    }
  }

  private filter(input: Node, call: Node): unknown {
    // `default` is what undefined values are for: the one filter that sees them. Its fallback is
    // evaluated only when used, so `x | default(y.z)` needs no y.z when x is set.
    if (isDefaultCall(call)) {
      const value = this.maybe(input);
      const given = call.type === 'CallExpression' ? (call as jsep.CallExpression).arguments : [];
      const falsyToo = given.length > 1 && truthy(this.value(given[1]!));
      if (value !== UNDEFINED && !(falsyToo && !truthy(value))) return value;
      const { name, args } = this.callee(call, 'filter');
      return applyFilter(name, value, args);
    }
    const { name, args } = this.callee(call, 'filter');
    return applyFilter(name, this.value(input), args);
  }

  /** `name` or `name(args…)` on the right of `|` or `is`. */
  private callee(node: Node, kind: string): { name: string; args: Args } {
    if (node.type === 'Identifier') return { name: (node as jsep.Identifier).name, args: { positional: [], named: {} } };
    if (node.type === 'Literal' && (node as jsep.Literal).value === null) return { name: 'none', args: { positional: [], named: {} } };
    if (node.type === 'Literal' && typeof (node as jsep.Literal).value === 'boolean') {
      return { name: String((node as jsep.Literal).value), args: { positional: [], named: {} } };
    }
    if (node.type === 'CallExpression') {
      const c = node as jsep.CallExpression;
      if (c.callee.type === 'Identifier') return { name: (c.callee as jsep.Identifier).name, args: this.args(c.arguments) };
    }
    throw new ExpressionError(`expected a ${kind} name after ${kind === 'test' ? "'is'" : "'|'"}`);
  }

  private args(nodes: Node[]): Args {
    const args: Args = { positional: [], named: {} };
    for (const n of nodes) {
      const kw = n as jsep.BinaryExpression;
      if (n.type === 'BinaryExpression' && kw.operator === '=' && kw.left.type === 'Identifier') {
        args.named[(kw.left as jsep.Identifier).name] = this.value(kw.right);
      } else args.positional.push(this.value(n));
    }
    return args;
  }

  private call(c: jsep.CallExpression): unknown {
    if (c.callee.type !== 'MemberExpression' || (c.callee as jsep.MemberExpression).computed) {
      throw new ExpressionError(`unknown function ${describe(c.callee)}(); filters are applied with |, e.g. x | ${describe(c.callee)}`);
    }
    const m = c.callee as jsep.MemberExpression;
    const { positional } = this.args(c.arguments);
    const obj = this.value(m.object);
    const inputs = [obj, ...positional];
    return guarded(inputs, () => derive(inputs, callMethod(obj, (m.property as jsep.Identifier).name, positional)));
  }
}

function contains(container: unknown, item: unknown): boolean {
  if (isVarSource(container)) return typeof item === 'string' && container[LOOKUP](item) !== UNDEFINED;
  const c = plain(container);
  const x = plain(item);
  if (typeof c === 'string') {
    if (typeof x !== 'string') throw new ExpressionError(`'in <string>' needs a string on the left, got ${typeName(item)}`);
    return c.includes(x);
  }
  if (Array.isArray(c)) return c.some((v) => deepEqual(v, x));
  if (isPlainObject(c)) return typeof x === 'string' && Object.hasOwn(c, x);
  throw new ExpressionError(`'in' needs a string, list or mapping on the right, got ${typeName(container)}`);
}

function compare(op: string, a: unknown, b: unknown): boolean {
  const x = plain(a);
  const y = plain(b);
  if (!((typeof x === 'number' && typeof y === 'number') || (typeof x === 'string' && typeof y === 'string'))) {
    throw new ExpressionError(`cannot compare ${typeName(a)} ${op} ${typeName(b)} (use | int or | string to convert)`);
  }
  switch (op) {
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    default:
      return x >= y;
  }
}

function arithmetic(op: string, a: unknown, b: unknown): unknown {
  const x = plain(a);
  const y = plain(b);
  if (op === '+') {
    if (typeof x === 'string' && typeof y === 'string') return x + y;
    if (Array.isArray(x) && Array.isArray(y)) return [...x, ...y];
  }
  if (typeof x !== 'number' || typeof y !== 'number') {
    throw new ExpressionError(`cannot apply ${op} to ${typeName(a)} and ${typeName(b)} (use ~ to join as text)`);
  }
  if ((op === '/' || op === '//' || op === '%') && y === 0) throw new ExpressionError('division by zero');
  switch (op) {
    case '+':
      return x + y;
    case '-':
      return x - y;
    case '*':
      return x * y;
    case '/':
      return x / y;
    case '//':
      return Math.floor(x / y);
    case '%':
      return ((x % y) + y) % y; // Python's modulo takes the divisor's sign
    case '**':
      return x ** y;
  }
  throw new ExpressionError(`unknown operator ${op}`);
}

/** The expression as the user wrote it, for error messages (`result.stdout`, `groups['redis']`). */
function describe(node: Node): string {
  switch (node.type) {
    case 'Identifier':
      return (node as jsep.Identifier).name;
    case 'Literal':
      return (node as jsep.Literal).raw;
    case 'MemberExpression': {
      const m = node as jsep.MemberExpression;
      return m.computed ? `${describe(m.object)}[${describe(m.property)}]` : `${describe(m.object)}.${describe(m.property)}`;
    }
    case 'Group':
      return `(${describe((node as GroupNode).expression)})`;
    case 'CallExpression': {
      const c = node as jsep.CallExpression;
      return `${describe(c.callee)}(…)`;
    }
    default:
      return 'expression';
  }
}

/** `default`, `d`, `default(…)` or `d(…)` on the right of `|`. */
function isDefaultCall(node: Node): boolean {
  const callee = node.type === 'CallExpression' ? (node as jsep.CallExpression).callee : node;
  return callee.type === 'Identifier' && ['default', 'd'].includes((callee as jsep.Identifier).name);
}
