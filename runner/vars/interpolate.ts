// `{{ expr }}` in any string of any structure. A string that is exactly one `{{ expr }}` keeps the
// expression's native type (a number stays a number, a list a list, a Secret a Secret); in a larger
// string each value is rendered as its real text, and the whole string is a Secret when any part is.
import { ExpressionError } from './errors.js';
import { evaluateExpression } from './expression/evaluate.js';
import { parseExpression } from './expression/parse.js';
import { isPlainObject, joinText, setOwn, type VarSource } from './expression/values.js';

type Segment = { text: string } | { expr: string };

const cache = new Map<string, Segment[]>();

export function hasTemplate(s: string): boolean {
  return s.includes('{{') || s.includes('{%');
}

/** Split a template into literal text and expressions, respecting quotes and braces inside `{{ }}`. */
export function parseTemplate(s: string): Segment[] {
  const hit = cache.get(s);
  if (hit) return hit;
  if (s.includes('{%')) {
    throw new ExpressionError(`Jinja statements ({% … %}) are not supported in '${s}': use when:, loop: or a template file`);
  }
  const out: Segment[] = [];
  let pos = 0;
  for (let open = s.indexOf('{{'); open !== -1; open = s.indexOf('{{', pos)) {
    if (open > pos) out.push({ text: s.slice(pos, open) });
    const close = findClose(s, open + 2);
    out.push({ expr: s.slice(open + 2, close).trim() });
    pos = close + 2;
  }
  if (pos < s.length) out.push({ text: s.slice(pos) });
  cache.set(s, out);
  return out;
}

function findClose(s: string, from: number): number {
  const at = closingTag(s, from, '}}');
  if (at === -1) throw new ExpressionError(`unterminated {{ in '${s}'`);
  return at;
}

/**
 * Where a tag opened before `from` closes: the first `close` outside quotes and outside `{ }` (dict
 * literals), or -1. Shared by `{{ }}` in YAML strings and by Jinja template files.
 */
export function closingTag(s: string, from: number, close: string): number {
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
  return -1;
}

export function renderString(s: string, vars: VarSource): unknown {
  if (!hasTemplate(s)) return s;
  const segments = parseTemplate(s);
  const [only] = segments;
  if (segments.length === 1 && only && 'expr' in only) return evaluateExpression(only.expr, vars);
  return joinText(segments.map((seg) => ('text' in seg ? seg.text : evaluateExpression(seg.expr, vars))));
}

/** Render every string in a value tree; unchanged subtrees are returned as they are. */
export function interpolate(value: unknown, vars: VarSource): unknown {
  if (typeof value === 'string') return renderString(value, vars);
  if (Array.isArray(value)) {
    const out = value.map((v) => interpolate(v, vars));
    return out.every((v, i) => v === value[i]) ? value : out;
  }
  if (isPlainObject(value)) {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = interpolate(v, vars);
      setOwn(out, k, r);
      if (r !== v) changed = true;
    }
    return changed ? out : value;
  }
  return value;
}

/**
 * Syntax check of every template in a value tree before anything runs: calls `onError` with the path
 * to the offending string and the ExpressionError.
 */
export function checkTemplates(
  value: unknown,
  onError: (path: (string | number)[], error: ExpressionError) => void,
  path: (string | number)[] = [],
): void {
  if (typeof value === 'string') {
    if (!hasTemplate(value)) return;
    try {
      for (const seg of parseTemplate(value)) if ('expr' in seg) parseExpression(seg.expr);
    } catch (e) {
      if (e instanceof ExpressionError) onError(path, e);
      else throw e;
    }
  } else if (Array.isArray(value)) value.forEach((v, i) => checkTemplates(v, onError, [...path, i]));
  else if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) checkTemplates(v, onError, [...path, k]);
}
