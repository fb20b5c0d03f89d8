// Jinja-flavoured expressions on jsep: jsep parses, this file teaches it Jinja's operators
// (`and`, `or`, `not`, `in`, `not in`, `is`, `is not`, `|` filters, `~`, `a if c else b`),
// Python literals (True, None, …), dict literals and keyword arguments, and fixes `not`'s precedence.
import jsep from 'jsep';
import { ExpressionError } from '../errors.js';

export type Node = jsep.Expression;

/** Parenthesised expression, kept in the tree so the `not` fix-up never reaches into a group. */
export interface GroupNode extends jsep.Expression {
  type: 'Group';
  expression: Node;
}

export interface ObjectNode extends jsep.Expression {
  type: 'ObjectExpression';
  properties: Array<{ key: Node; value: Node }>;
}

/** Ops whose precedence is below `not` (Jinja: `not a == b` is `not (a == b)`, `not a and b` is not). */
const BELOW_NOT = new Set(['=', 'else', 'if', 'or', 'and']);

function configure(): void {
  for (const op of Object.keys(jsep.binary_ops)) jsep.removeBinaryOp(op);
  for (const op of Object.keys(jsep.unary_ops)) jsep.removeUnaryOp(op);
  jsep.removeAllLiterals();
  const binary: Array<[string, number, boolean?]> = [
    ['=', 1], // keyword arguments only: `map(attribute='name')`
    ['else', 2, true],
    ['if', 3],
    ['or', 4],
    ['and', 5],
    ...['==', '!=', '<', '<=', '>', '>=', 'in', 'not in', 'is', 'is not'].map((op): [string, number] => [op, 7]),
    ['~', 8],
    ['+', 9],
    ['-', 9],
    ['*', 10],
    ['/', 10],
    ['//', 10],
    ['%', 10],
    ['**', 11, true],
    ['|', 12], // filters bind tighter than any other operator
  ];
  for (const [op, prec, right] of binary) jsep.addBinaryOp(op, prec, right ?? false);
  for (const op of ['not', '-', '+']) jsep.addUnaryOp(op);
  const literals: Array<[string, unknown]> = [
    ['true', true], ['True', true], ['false', false], ['False', false],
    ['none', null], ['None', null], ['null', null],
  ];
  for (const [name, value] of literals) jsep.addLiteral(name, value);
  jsep.this_str = '\u0000'; // no `this`
  jsep.hooks.add('gobble-token', function gobbleGroupOrDict(env) {
    if (this.code === 40 /* ( */) {
      const inner = this.gobbleGroup();
      if (!inner) this.throwError('empty ()');
      env.node = this.gobbleTokenProperty({ type: 'Group', expression: inner });
    } else if (this.code === 123 /* { */) {
      env.node = this.gobbleTokenProperty(gobbleDict(this));
    } else if (this.code === 39 /* ' */ || this.code === 34 /* " */) {
      env.node = this.gobbleTokenProperty(gobbleString(this));
    }
  });
}

/** Escapes of a Python string literal that mean a character; any other `\x` keeps its backslash. */
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '\n': '' };
const CODE_POINT: Record<string, number> = { x: 2, u: 4, U: 8 };

/**
 * A string literal as Jinja reads it (Python's rules): `\n`, `\t`, `\\`, `\'`, `\"` are escapes, and
 * `\d`, `\.`, `\b`, `\1` keep their backslash, so a regex written in a playbook reaches the regex
 * engine as written. (Python turns `\b` and `\1` into control characters, which no playbook means.)
 */
function gobbleString(p: jsep.HookScope): jsep.Literal {
  const { expr } = p;
  const start = p.index;
  const quote = expr[p.index++];
  let value = '';
  for (;;) {
    if (p.index >= expr.length) p.throwError(`unclosed quote: ${expr.slice(start)}`);
    const c = expr[p.index++]!;
    if (c === quote) break;
    if (c !== '\\') {
      value += c;
      continue;
    }
    const e = expr[p.index] ?? '';
    const digits = CODE_POINT[e];
    if (Object.hasOwn(ESCAPES, e)) {
      value += ESCAPES[e];
      p.index++;
    } else if (digits !== undefined) {
      const hex = expr.slice(p.index + 1, p.index + 1 + digits);
      if (hex.length !== digits || !/^[0-9a-fA-F]+$/.test(hex)) p.throwError(`\\${e} needs ${digits} hex digits in ${expr.slice(start, p.index + 1 + digits)}`);
      const code = parseInt(hex, 16);
      if (code > 0x10ffff) p.throwError(`\\U${hex} is not a character`);
      value += String.fromCodePoint(code);
      p.index += 1 + digits;
    } else value += c;
  }
  return { type: 'Literal', value, raw: expr.slice(start, p.index) };
}

function gobbleDict(p: jsep.HookScope): ObjectNode {
  // Read through a function: the parser moves under us, so TypeScript's narrowing of `p.code` lies.
  const next = (): string => (p.gobbleSpaces(), p.char);
  p.index++;
  const properties: ObjectNode['properties'] = [];
  while (next() !== '}') {
    const key = p.gobbleExpression();
    if (!key || next() !== ':') p.throwError('expected key: value in {…}');
    p.index++;
    const value = p.gobbleExpression();
    if (!value) p.throwError('expected a value after : in {…}');
    properties.push({ key, value });
    if (next() === ',') p.index++;
    else if (next() !== '}') p.throwError('expected , or } in {…}');
  }
  p.index++;
  return { type: 'ObjectExpression', properties };
}

configure();

/** `not x OP y` as Jinja reads it: `not (x OP y)` for every OP that binds tighter than `not`. */
function fixNot(node: Node): Node {
  switch (node.type) {
    case 'BinaryExpression': {
      const b = node as jsep.BinaryExpression;
      const left = fixNot(b.left);
      const right = fixNot(b.right);
      if (!BELOW_NOT.has(b.operator) && left.type === 'UnaryExpression' && (left as jsep.UnaryExpression).operator === 'not') {
        const inner = fixNot({ ...b, left: (left as jsep.UnaryExpression).argument, right });
        return { ...left, argument: inner };
      }
      return { ...b, left, right };
    }
    case 'UnaryExpression':
      return { ...node, argument: fixNot((node as jsep.UnaryExpression).argument) };
    case 'Group':
      return { ...node, expression: fixNot((node as GroupNode).expression) };
    case 'MemberExpression': {
      const m = node as jsep.MemberExpression;
      return { ...m, object: fixNot(m.object), property: fixNot(m.property) };
    }
    case 'CallExpression': {
      const c = node as jsep.CallExpression;
      return { ...c, callee: fixNot(c.callee), arguments: c.arguments.map(fixNot) };
    }
    case 'ArrayExpression':
      return { ...node, elements: (node as jsep.ArrayExpression).elements.map((e) => (e ? fixNot(e) : e)) };
    case 'SequenceExpression':
      return { ...node, expressions: (node as jsep.SequenceExpression).expressions.map(fixNot) };
    case 'ObjectExpression':
      return {
        ...node,
        properties: (node as ObjectNode).properties.map((p) => ({ key: fixNot(p.key), value: fixNot(p.value) })),
      };
    default:
      return node;
  }
}

const cache = new Map<string, Node>();

/** Parse once per distinct text (the same `when:` runs on every host). */
export function parseExpression(text: string): Node {
  let node = cache.get(text);
  if (!node) {
    if (text.trim() === '') throw new ExpressionError('empty expression');
    try {
      node = fixNot(jsep(text));
    } catch (e) {
      throw new ExpressionError(`cannot parse expression '${text}': ${(e as Error).message}`);
    }
    if (node.type === 'Compound') throw new ExpressionError(`cannot parse expression '${text}': one expression expected`);
    cache.set(text, node);
  }
  return node;
}
