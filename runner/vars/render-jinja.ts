// `.j2` template files: `{{ expr }}` through rplay's own expression engine (the one `{{ }}` in YAML
// uses, so a filter means the same in both; undefined names are errors), `{# comments #}` removed,
// whitespace control as in Jinja with Ansible's defaults (trim_blocks on, lstrip_blocks off), and the
// statements Ansible templates use: if/elif/else, for (with `if`, `else` and `loop.*`), set, raw. Any
// other statement is refused at file:line:col: written as text it would be a silent wrong result.
import { ExpressionError, UndefinedVariableError } from './errors.js';
import { parseExpression } from './expression/parse.js';
import { closingTag } from './interpolate.js';
import { isPlainObject, plain, setOwn, toText, truthy, typeName } from './expression/values.js';
import { TemplateError } from './render-template.js';

/** Evaluates one expression against the host's variables with `locals` (loop and set names) on top. */
export type Evaluate = (expr: string, locals: Readonly<Record<string, unknown>>) => unknown;

interface Pos {
  line: number;
  col: number;
}

type Token = { kind: 'text'; text: string } | { kind: 'output'; expr: string; at: Pos } | { kind: 'statement'; body: string; at: Pos };

class Source {
  /** Offsets at which lines start, for file:line:col in errors. */
  private readonly lineStarts = [0];

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
  }

  pos(index: number): Pos {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: index - this.lineStarts[lo]! + 1 };
  }

  fail(at: Pos, message: string): never {
    throw new TemplateError(`${this.file}:${at.line}:${at.col}: ${message}`);
  }
}

/** The end of a tag opened before `from`: the first `close` outside quotes (and, for `}}`, outside braces). */
function tagEnd(src: Source, from: number, close: string, openedAt: number): number {
  const at = closingTag(src.text, from, close);
  if (at !== -1) return at;
  return src.fail(src.pos(openedAt), `${src.text.slice(openedAt, openedAt + 2)} is never closed with ${close}`);
}

const ENDRAW = /\{%([-+]?)\s*endraw\s*([-+]?)%\}/g;

/**
 * Text, `{{ }}` and `{% %}` tokens with whitespace control applied: `{{-`/`{%-`/`{#-` strip the
 * whitespace before the tag, `-}}`/`-%}`/`-#}` the whitespace after it, and a block tag or comment
 * eats the one newline that follows it (trim_blocks) unless it ends with `+%}`. The body of
 * `{% raw %}…{% endraw %}` is text, whatever it holds.
 */
function tokenize(src: Source): Token[] {
  const s = src.text;
  const tokens: Token[] = [];
  let pos = 0;
  let text = '';
  const flush = (): void => {
    if (text) tokens.push({ kind: 'text', text });
    text = '';
  };
  /** Where text resumes after a tag whose closing two characters start at `end`. */
  const resume = (end: number, marker: string | undefined, block: boolean): number => {
    let i = end + 2;
    if (marker === '-') while (i < s.length && ' \t\r\n'.includes(s[i]!)) i++;
    else if (block && marker !== '+') i += s.startsWith('\r\n', i) ? 2 : s[i] === '\n' ? 1 : 0;
    return i;
  };
  const opener = /\{[{%#]/g;
  while (pos < s.length) {
    opener.lastIndex = pos;
    const at = opener.exec(s)?.index;
    if (at === undefined) {
      text += s.slice(pos);
      break;
    }
    text += s.slice(pos, at);
    const kind = s[at + 1];
    let inner = at + 2;
    if (s[inner] === '-') {
      text = text.trimEnd();
      inner++;
    } else if (s[inner] === '+') inner++; // lstrip_blocks is off: `{%+` changes nothing
    const close = kind === '{' ? '}}' : kind === '%' ? '%}' : '#}';
    const end = kind === '#' ? s.indexOf('#}', inner) : tagEnd(src, inner, close, at);
    if (end === -1) src.fail(src.pos(at), '{# is never closed with #}');
    let body = s.slice(inner, end);
    const marker = body.at(-1);
    if (marker === '-' || (marker === '+' && kind !== '{')) body = body.slice(0, -1);
    // Jinja's trim_blocks skips `{% raw %}` itself: the newline after it is part of the raw text.
    const raw = kind === '%' && body.trim() === 'raw';
    pos = resume(end, marker, kind !== '{' && !raw);
    if (kind === '{') {
      flush();
      tokens.push({ kind: 'output', expr: body.trim(), at: src.pos(at) });
    } else if (raw) {
      ENDRAW.lastIndex = pos;
      const close = ENDRAW.exec(s);
      if (!close) src.fail(src.pos(at), '{% raw %} is never closed: add {% endraw %}');
      const body = s.slice(pos, close.index);
      text += close[1] === '-' ? body.trimEnd() : body;
      pos = resume(close.index + close[0].length - 2, close[2] || undefined, true);
    } else if (kind === '%') {
      flush();
      tokens.push({ kind: 'statement', body: body.trim(), at: src.pos(at) });
    }
  }
  flush();
  return tokens;
}

/** The error of an expression at a template position, as file:line:col: message. */
function atPosition<T>(src: Source, at: Pos, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ExpressionError || e instanceof UndefinedVariableError) src.fail(at, e.message);
    throw e;
  }
}

interface Expr {
  text: string;
  at: Pos;
}

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'output'; expr: Expr }
  | { kind: 'if'; branches: Array<{ test: Expr; body: Node[] }>; otherwise: Node[] }
  | { kind: 'for'; names: string[]; items: Expr; filter?: Expr; body: Node[]; otherwise: Node[]; at: Pos }
  | { kind: 'set'; name: string; value: Expr };

/** Statements Ansible templates use; anything else is refused by name rather than passed through. */
const SUPPORTED = 'supported: if/elif/else, for/else, set, raw';

/** Index of the first top-level ` if ` in a `for` header (outside quotes and brackets), or -1. */
function topLevelIf(s: string): number {
  let quote = '';
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === "'" || c === '"') quote = c;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (depth === 0 && /\s/.test(c) && /^\sif\s/.test(s.slice(i, i + 4))) return i;
  }
  return -1;
}

class Parser {
  private i = 0;

  constructor(
    private readonly src: Source,
    private readonly tokens: Token[],
  ) {}

  /** Nodes up to one of `ends` (returned with the statement that ended them), or the end of the file. */
  parse(ends: readonly string[] = [], opener?: { what: string; at: Pos }): { nodes: Node[]; end?: { word: string; rest: string; at: Pos } } {
    const nodes: Node[] = [];
    while (this.i < this.tokens.length) {
      const t = this.tokens[this.i++]!;
      if (t.kind === 'text') {
        nodes.push(t);
        continue;
      }
      if (t.kind === 'output') {
        nodes.push({ kind: 'output', expr: this.expr(t.expr, t.at) });
        continue;
      }
      const [, word = '', rest = ''] = /^(\w*)\s*([\s\S]*)$/.exec(t.body)!;
      if (ends.includes(word)) return { nodes, end: { word, rest, at: t.at } };
      nodes.push(this.statement(word, rest, t.at));
    }
    if (opener) this.src.fail(opener.at, `{% ${opener.what} %} is never closed: add {% end${opener.what} %}`);
    return { nodes };
  }

  private expr(text: string, at: Pos): Expr {
    if (text === '') this.src.fail(at, 'empty expression');
    atPosition(this.src, at, () => parseExpression(text));
    return { text, at };
  }

  private statement(word: string, rest: string, at: Pos): Node {
    switch (word) {
      case 'if':
        return this.ifBlock(rest, at);
      case 'for':
        return this.forBlock(rest, at);
      case 'set': {
        const m = /^([A-Za-z_]\w*)\s*=(?!=)\s*([\s\S]+)$/.exec(rest);
        if (!m) this.src.fail(at, `{% set ${rest} %}: write {% set name = expression %} (block set is not supported)`);
        return { kind: 'set', name: m[1]!, value: this.expr(m[2]!.trim(), at) };
      }
      case 'elif':
      case 'else':
      case 'endif':
      case 'endfor':
        return this.src.fail(at, `{% ${word} %} without an open {% ${word === 'endfor' ? 'for' : 'if'} %}${word === 'else' ? ' or {% for %}' : ''}`);
      default:
        return this.src.fail(at, word ? `{% ${word} %} is not supported in rplay templates (${SUPPORTED})` : `{% ${rest} %} is not a statement (${SUPPORTED})`);
    }
  }

  private ifBlock(test: string, at: Pos): Node {
    const branches: Array<{ test: Expr; body: Node[] }> = [];
    let cond = this.expr(test, at);
    for (;;) {
      const { nodes, end } = this.parse(['elif', 'else', 'endif'], { what: 'if', at });
      branches.push({ test: cond, body: nodes });
      if (end!.word === 'elif') {
        cond = this.expr(end!.rest, end!.at);
        continue;
      }
      this.noArgs(end!);
      if (end!.word === 'endif') return { kind: 'if', branches, otherwise: [] };
      const last = this.parse(['endif', 'elif', 'else'], { what: 'if', at });
      if (last.end!.word !== 'endif') this.src.fail(last.end!.at, `{% ${last.end!.word} %} after {% else %}: {% else %} must come last`);
      this.noArgs(last.end!);
      return { kind: 'if', branches, otherwise: last.nodes };
    }
  }

  private forBlock(header: string, at: Pos): Node {
    const m = /^([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s+in\s+([\s\S]+)$/.exec(header);
    if (!m) this.src.fail(at, `{% for ${header} %}: write {% for name in expression %} or {% for key, value in expression %}`);
    if (/\srecursive\s*$/.test(m[2]!)) this.src.fail(at, `{% for … recursive %} is not supported in rplay templates (${SUPPORTED})`);
    const names = m[1]!.split(',').map((n) => n.trim());
    const split = topLevelIf(m[2]!);
    const items = this.expr((split === -1 ? m[2]! : m[2]!.slice(0, split)).trim(), at);
    const filter = split === -1 ? undefined : this.expr(m[2]!.slice(split + 4).trim(), at);
    const { nodes, end } = this.parse(['else', 'endfor'], { what: 'for', at });
    this.noArgs(end!);
    if (end!.word === 'endfor') return { kind: 'for', names, items, filter, body: nodes, otherwise: [], at };
    const rest = this.parse(['endfor', 'else'], { what: 'for', at });
    if (rest.end!.word !== 'endfor') this.src.fail(rest.end!.at, '{% else %} twice in one {% for %}');
    this.noArgs(rest.end!);
    return { kind: 'for', names, items, filter, body: nodes, otherwise: rest.nodes, at };
  }

  private noArgs(end: { word: string; rest: string; at: Pos }): void {
    if (end.rest) this.src.fail(end.at, `{% ${end.word} ${end.rest} %}: {% ${end.word} %} takes nothing after it`);
  }
}

type Frame = Record<string, unknown>;

class Renderer {
  constructor(
    private readonly src: Source,
    private readonly evaluate: Evaluate,
  ) {}

  private value(e: Expr, frame: Frame): unknown {
    return atPosition(this.src, e.at, () => this.evaluate(e.text, frame));
  }

  render(nodes: readonly Node[], frame: Frame): string {
    let out = '';
    for (const n of nodes) {
      switch (n.kind) {
        case 'text':
          out += n.text;
          break;
        case 'output':
          out += toText(this.value(n.expr, frame)); // secrets as their real text: the output is a host file
          break;
        case 'set':
          setOwn(frame, n.name, this.value(n.value, frame));
          break;
        case 'if': {
          const taken = n.branches.find((b) => truthy(this.value(b.test, frame)));
          out += this.render(taken ? taken.body : n.otherwise, frame);
          break;
        }
        case 'for':
          out += this.loop(n, frame);
          break;
      }
    }
    return out;
  }

  private loop(n: Extract<Node, { kind: 'for' }>, frame: Frame): string {
    const items = this.items(this.value(n.items, frame), n.items);
    // Each pass has its own frame: a `set` in the body does not leak out of the loop (Jinja's scoping).
    const bound = items.map((item) => ({ ...frame, ...this.bind(n.names, item, n.at) }));
    const kept = n.filter ? bound.filter((f) => truthy(this.value(n.filter!, f))) : bound;
    if (kept.length === 0) return this.render(n.otherwise, frame);
    let out = '';
    kept.forEach((f, i) => {
      const length = kept.length;
      const loop = { index: i + 1, index0: i, first: i === 0, last: i === length - 1, length, revindex: length - i, revindex0: length - i - 1 };
      out += this.render(n.body, { ...f, loop });
    });
    return out;
  }

  private items(value: unknown, e: Expr): unknown[] {
    const p = plain(value);
    if (Array.isArray(p)) return p;
    if (isPlainObject(p)) return Object.keys(p); // a mapping loops over its keys, as in Python; .items() for pairs
    if (typeof p === 'string') return [...p];
    return this.src.fail(e.at, `cannot loop over ${typeName(value)} '${e.text}'`);
  }

  private bind(names: readonly string[], item: unknown, at: Pos): Frame {
    if (names.length === 1) return { [names[0]!]: item };
    const parts = plain(item);
    if (!Array.isArray(parts) || parts.length !== names.length) {
      this.src.fail(at, `cannot unpack ${typeName(item)} into ${names.join(', ')}`);
    }
    return Object.fromEntries(names.map((name, i) => [name, parts[i]]));
  }
}

/**
 * Render a `.j2` template. `file` names the template in errors (`templates/redis.conf.j2:3:7: undefined
 * variable 'port'`); the whole template is parsed, every expression checked, before anything is evaluated.
 */
export function renderJinja(file: string, text: string, evaluate: Evaluate): string {
  const { src, nodes } = parseJinja(file, text);
  return new Renderer(src, evaluate).render(nodes, {});
}

/** Parse a `.j2` template without rendering it (before any host is contacted); throws as renderJinja does. */
export function checkJinja(file: string, text: string): void {
  parseJinja(file, text);
}

function parseJinja(file: string, text: string): { src: Source; nodes: Node[] } {
  // Newlines are \n in what Jinja writes (Ansible's newline_sequence default), whatever the file has.
  const src = new Source(file, text.replace(/\r\n?/g, '\n'));
  return { src, nodes: new Parser(src, tokenize(src)).parse().nodes };
}
