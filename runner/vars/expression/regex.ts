// Playbook regexes run on RE2 (re2js): matching time is linear in the input, so no pattern meeting
// host output can stall a run (a backtracking engine took minutes on `(a+)+$` and 33 characters).
// The syntax users write is Python's `re`, as in Ansible; what RE2 lacks is refused, never guessed.
import { RE2JS, type Matcher } from 're2js';
import { Secret } from '../../secret.js';
import { ExpressionError } from '../errors.js';
import { expectString } from './values.js';

export interface RegexOptions {
  ignorecase?: boolean;
  multiline?: boolean;
}

function refuse(shown: string, what: string, instead: string): never {
  throw new ExpressionError(
    `regular expression ${shown} uses ${what}, which RE2 cannot run (rplay matches playbook regexes with RE2, ` +
      `in time linear in the input, so no pattern can stall a run); instead, ${instead}`,
  );
}

/**
 * Python `re` syntax as RE2 syntax: `\Z` is RE2's `\z` (named groups `(?P<n>…)`, `\A`, inline flags are
 * the same). Look-arounds and back-references are refused with what to write instead.
 */
function toRe2(pattern: string, shown: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if (!inClass && /[1-9]/.test(next)) {
        refuse(shown, `a back-reference (\\${next})`, 'capture the parts with groups and compare them in the expression (regex_search(re, "\\\\1", "\\\\2") returns them)');
      }
      out += !inClass && next === 'Z' ? '\\z' : c + next;
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
      out += c;
    } else if (c === '[') {
      inClass = true;
      out += c;
      // `[]a]` and `[^]a]`: a leading ] is a member, not the end of the class.
      for (const lead of ['^', ']']) if (pattern[i + 1] === lead) out += pattern[++i];
    } else if (c === '(' && pattern[i + 1] === '?') {
      const ext = pattern.slice(i + 2, i + 5);
      if (/^(=|!|<=|<!)/.test(ext)) {
        const kind = ext.startsWith('<') ? 'behind' : 'ahead';
        refuse(shown, `a look-${kind} ((?${/^<?[=!]/.exec(ext)![0]}…))`, 'match the surrounding text too and pick out the part you need with a group, or split the check, e.g. x is search("a") and x is not search("ab")');
      }
      if (ext.startsWith('P=')) refuse(shown, 'a named back-reference ((?P=name))', 'capture the parts with groups and compare them in the expression');
      out += c;
    } else out += c;
  }
  return out;
}

const cache = new Map<string, RE2JS>();

/**
 * A compiled playbook regex; the same pattern on every host is compiled once. Errors show the pattern
 * as `shown` (quoted by default; a secret pattern is given as the mask, and RE2's detail, which
 * quotes the pattern, is left out).
 */
export function pythonRegex(pattern: string, options: RegexOptions = {}, shown = `'${pattern}'`): RE2JS {
  const flags = (options.ignorecase ? RE2JS.CASE_INSENSITIVE : 0) | (options.multiline ? RE2JS.MULTILINE : 0);
  const key = `${flags}:${pattern}`;
  let re = cache.get(key);
  if (!re) {
    const re2 = toRe2(pattern, shown);
    try {
      re = RE2JS.compile(re2, flags);
    } catch (e) {
      const detail = shown.includes(pattern) ? `: ${(e as Error).message.replace(/^error parsing regexp: /, '')}` : '';
      throw new ExpressionError(`invalid regular expression ${shown}${detail}`);
    }
    // Patterns built from data (a loop over host output) would grow the cache without end.
    if (cache.size >= 1000) cache.clear();
    cache.set(key, re);
  }
  return re;
}

/** The pattern argument of a filter or test (`what`), which may be a secret: never quoted then. */
export function playbookRegex(pattern: unknown, what: string, options: RegexOptions): RE2JS {
  return pythonRegex(expectString(pattern, what), options, pattern instanceof Secret ? `${pattern}` : undefined);
}

/** Every match, left to right, as Python's finditer yields them (empty matches included). */
export function* matches(re: RE2JS, text: string): Generator<Matcher> {
  const m = re.matcher(text);
  let from = 0;
  while (from <= text.length && m.find(from)) {
    yield m;
    // After an empty match, the next one starts one character further on (a surrogate pair is one).
    from = m.end() > m.start() ? m.end() : m.end() + (/[\ud800-\udbff]/.test(text[m.end()] ?? '') ? 2 : 1);
  }
}

/** Python's re.search: a match anywhere in `text`. */
export function foundIn(re: RE2JS, text: string): boolean {
  return re.matcher(text).find();
}

/** Python's re.match: a match at the start of `text`. */
export function matchesAtStart(re: RE2JS, text: string): boolean {
  return re.matcher(text).lookingAt();
}

/** A group reference in a Python replacement template or a regex_search argument: `\1`, `\g<1>`, `\g<name>`. */
export type GroupRef = string | number;

function group(m: Matcher, ref: GroupRef): string {
  const count = m.groupCount();
  if (typeof ref === 'number' ? ref > count : !Object.hasOwn(m.getNamedGroups(), ref)) {
    throw new ExpressionError(`the regular expression has no group ${typeof ref === 'number' ? ref : `'${ref}'`} (it has ${count})`);
  }
  return m.group(ref) ?? ''; // a group that took no part in the match is empty, as in Python
}

const TEMPLATE_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', a: '\x07', b: '\b', '\\': '\\' };

/** A Python replacement template (`\1`, `\g<name>`, `\n`, `\\`) as literal text and group references. */
function parseReplacement(replacement: string): Array<string | { ref: GroupRef }> {
  const parts: Array<string | { ref: GroupRef }> = [];
  let text = '';
  for (let i = 0; i < replacement.length; i++) {
    const c = replacement[i]!;
    if (c !== '\\' || i + 1 === replacement.length) {
      text += c;
      continue;
    }
    const rest = replacement.slice(i + 1);
    const g = /^g<([^>]*)>/.exec(rest);
    const n = /^\d{1,2}/.exec(rest);
    let ref: GroupRef | undefined;
    if (g) {
      if (!/^(\d+|[A-Za-z_]\w*)$/.test(g[1]!)) throw new ExpressionError(`regex_replace: bad group name in the replacement: \\g<…> takes a number or a name`);
      ref = /^\d+$/.test(g[1]!) ? Number(g[1]) : g[1]!;
      i += g[0].length;
    } else if (n) {
      ref = Number(n[0]);
      i += n[0].length;
    } else if (Object.hasOwn(TEMPLATE_ESCAPES, rest[0]!)) {
      text += TEMPLATE_ESCAPES[rest[0]!];
      i++;
      continue;
    } else if (/^[A-Za-z]/.test(rest)) {
      throw new ExpressionError(`regex_replace: unknown escape '\\${rest[0]}' in the replacement (write '\\\\${rest[0]}' for a backslash)`);
    } else {
      text += c; // `\.` stays `\.`, as in Python
      continue;
    }
    if (text) parts.push(text);
    text = '';
    parts.push({ ref });
  }
  if (text) parts.push(text);
  return parts;
}

/** Python's re.sub: every match (or the first `count`) replaced by the expanded template. */
export function replace(re: RE2JS, text: string, replacement: string, count = 0): string {
  const parts = parseReplacement(replacement);
  let out = '';
  let pos = 0;
  let n = 0;
  for (const m of matches(re, text)) {
    out += text.slice(pos, m.start());
    for (const p of parts) out += typeof p === 'string' ? p : group(m, p.ref);
    pos = m.end();
    if (++n === count) break;
  }
  return out + text.slice(pos);
}

/** `\1`, `\g<1>` or `\g<name>` as the group it names; anything else is an error naming `what`. */
export function groupRef(spec: string, what: string): GroupRef {
  const m = /^\\(?:(\d+)|g<(\d+|[A-Za-z_]\w*)>)$/.exec(spec);
  if (!m) throw new ExpressionError(`${what}: '${spec}' is not a group reference; write '\\\\1' or '\\\\g<name>'`);
  return m[1] !== undefined ? Number(m[1]) : /^\d+$/.test(m[2]!) ? Number(m[2]) : m[2]!;
}

/** The groups of the current match named by `refs`. */
export function groups(m: Matcher, refs: readonly GroupRef[]): string[] {
  return refs.map((r) => group(m, r));
}

/** Python's re.findall: whole matches without groups, the group with one, a list of groups with several. */
export function findAll(re: RE2JS, text: string): unknown[] {
  const out: unknown[] = [];
  for (const m of matches(re, text)) {
    const count = m.groupCount();
    if (count === 0) out.push(m.group());
    else if (count === 1) out.push(m.group(1) ?? '');
    else out.push(Array.from({ length: count }, (_v, i) => m.group(i + 1) ?? ''));
  }
  return out;
}
