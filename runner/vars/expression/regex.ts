import { ExpressionError } from '../errors.js';

/** Python `re` syntax (what Ansible users write) as a JS RegExp: named groups, \A and \Z. */
export function pythonRegex(pattern: string, flags = ''): RegExp {
  const js = pattern.replace(/\(\?P</g, '(?<').replace(/\\A/g, '^').replace(/\\Z/g, '$');
  try {
    return new RegExp(js, flags);
  } catch (e) {
    throw new ExpressionError(`invalid regular expression '${pattern}': ${(e as Error).message}`);
  }
}

/** Python replacement syntax (`\1`, `\g<name>`) as JS's (`$1`, `$<name>`); a literal `$` stays literal. */
export function pythonReplacement(replacement: string): string {
  return replacement
    .replace(/\$/g, '$$$$')
    .replace(/\\g<(\w+)>/g, (_m, g: string) => (/^\d+$/.test(g) ? `$${g}` : `$<${g}>`))
    .replace(/\\(\d+)/g, '$$$1');
}
