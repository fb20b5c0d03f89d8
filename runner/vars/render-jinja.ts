// `.j2` template files: `{{ expr }}` through rplay's own expression engine (the one `{{ }}` in YAML
// uses, so a filter means the same in both; undefined names are errors), `{# comments #}` removed,
// whitespace control as in Jinja with Ansible's defaults (trim_blocks on, lstrip_blocks off).
// Jinja statements (`{% … %}`) are refused for now: rendering them as text would be a silent wrong result.
import { ExpressionError, UndefinedVariableError } from './errors.js';
import { parseExpression } from './expression/parse.js';
import { toText } from './expression/values.js';
import { TemplateError } from './render-template.js';

/** Evaluates one expression against the host's variables with `locals` (loop and set names) on top. */
export type Evaluate = (expr: string, locals: Readonly<Record<string, unknown>>) => unknown;

interface Pos {
  line: number;
  col: number;
}

type Token = { kind: 'text'; text: string } | { kind: 'output'; expr: string; at: Pos } | { kind: 'statement'; body: string; at: Pos };

class Source {
  constructor(
    readonly file: string,
    readonly text: string,
  ) {}

  pos(index: number): Pos {
    let line = 1;
    let start = 0;
    for (let i = this.text.indexOf('\n'); i !== -1 && i < index; i = this.text.indexOf('\n', i + 1)) {
      line++;
      start = i + 1;
    }
    return { line, col: index - start + 1 };
  }

  fail(at: Pos, message: string): never {
    throw new TemplateError(`${this.file}:${at.line}:${at.col}: ${message}`);
  }
}

/** The end of a tag opened before `from`: the first `close` outside quotes (and, for `}}`, outside braces). */
function tagEnd(src: Source, from: number, close: string, openedAt: number): number {
  const s = src.text;
  let quote = '';
  let depth = 0;
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '{') depth++;
    else if (depth > 0 && c === '}') depth--;
    else if (s.startsWith(close, i)) return i;
  }
  return src.fail(src.pos(openedAt), `${s.slice(openedAt, openedAt + 2)} is never closed with ${close}`);
}

const WS_AFTER = /^[ \t\r\n]*/;

/**
 * Text, `{{ }}` and `{% %}` tokens with whitespace control applied: `{{-`/`{%-`/`{#-` strip the
 * whitespace before the tag, `-}}`/`-%}`/`-#}` the whitespace after it, and a block tag or comment
 * eats the one newline that follows it (trim_blocks) unless it ends with `+%}`.
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
    let after = end + 2;
    const marker = body.at(-1);
    if (marker === '-' || (marker === '+' && kind !== '{')) body = body.slice(0, -1);
    if (marker === '-') after += WS_AFTER.exec(s.slice(after))![0].length;
    else if (kind !== '{' && marker !== '+') after += /^\r?\n/.exec(s.slice(after))?.[0].length ?? 0;
    flush();
    if (kind === '{') tokens.push({ kind: 'output', expr: body.trim(), at: src.pos(at) });
    else if (kind === '%') tokens.push({ kind: 'statement', body: body.trim(), at: src.pos(at) });
    pos = after;
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

/**
 * Render a `.j2` template. `file` names the template in errors (`templates/redis.conf.j2:3:7: undefined
 * variable 'port'`); every expression is checked for syntax before anything is evaluated.
 */
export function renderJinja(file: string, text: string, evaluate: Evaluate): string {
  const src = new Source(file, text);
  const tokens = tokenize(src);
  for (const t of tokens) {
    if (t.kind === 'statement') {
      src.fail(t.at, `Jinja statements ({% ${t.body.split(/\s/)[0]} %}) are not supported in rplay templates yet: use {{ }} expressions only`);
    }
    if (t.kind === 'output') atPosition(src, t.at, () => parseExpression(t.expr));
  }
  let out = '';
  for (const t of tokens) {
    if (t.kind === 'text') out += t.text;
    else if (t.kind === 'output') out += atPosition(src, t.at, () => toText(evaluate(t.expr, {})));
  }
  return out;
}
