// Ansible host patterns: `all` / `*`, a group, a host, globs (`node-*`), `~regex`, combined with
// `:` or `,` — plain terms are a union, `&term` intersects, `!term` excludes (applied in that order,
// wherever they are written). The result keeps inventory order; --limit uses the same syntax.
import { RE2JS } from 're2js';
import { foundIn, pythonRegex } from '../vars/expression/regex.js';
import { InputError } from '../yaml/load.js';
import type { Inventory } from './inventory.js';

/** Hosts matching pattern (and limit, when given), in inventory order; [] when nothing matches. */
export function matchHosts(inv: Inventory, pattern: string, limit?: string): string[] {
  let chosen = select(inv, pattern);
  if (limit !== undefined) {
    const allowed = select(inv, limit);
    chosen = new Set([...chosen].filter((h) => allowed.has(h)));
  }
  return [...inv.hosts.keys()].filter((h) => chosen.has(h));
}

/** The terms of a pattern, split on `,` and `:`. */
export function splitPattern(pattern: string): string[] {
  return pattern
    .split(/[,:]/)
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

function select(inv: Inventory, pattern: string): Set<string> {
  const terms = splitPattern(pattern);
  const plain = terms.filter((t) => !t.startsWith('&') && !t.startsWith('!'));
  // Only restrictions (`!web`) mean "everything but": as in Ansible, start from all.
  const out = new Set(plain.length === 0 && terms.length > 0 ? term(inv, 'all') : []);
  for (const t of plain) term(inv, t).forEach((h) => out.add(h));
  for (const t of terms.filter((x) => x.startsWith('&'))) {
    const keep = new Set(term(inv, t.slice(1)));
    for (const h of out) if (!keep.has(h)) out.delete(h);
  }
  for (const t of terms.filter((x) => x.startsWith('!'))) term(inv, t.slice(1)).forEach((h) => out.delete(h));
  return out;
}

/** Hosts named by one term: a group (with its descendants' hosts), a host, a glob or a ~regex. */
function term(inv: Inventory, t: string): string[] {
  if (t === 'all' || t === '*') return groupHosts(inv, 'all');
  if (inv.groups.has(t)) return groupHosts(inv, t);
  if (inv.hosts.has(t)) return [t];
  const re = t.startsWith('~') ? regex(t) : /[*?]/.test(t) ? glob(t) : undefined;
  if (!re) return [];
  const out: string[] = [];
  for (const g of inv.groups.keys()) if (foundIn(re, g)) out.push(...groupHosts(inv, g));
  for (const h of inv.hosts.keys()) if (foundIn(re, h) && isListed(inv, h)) out.push(h);
  return out;
}

function groupHosts(inv: Inventory, name: string, seen = new Set<string>()): string[] {
  const g = inv.groups.get(name);
  if (!g || seen.has(name)) return [];
  seen.add(name);
  return [...g.hosts, ...g.children.flatMap((c) => groupHosts(inv, c, seen))];
}

/** The implicit localhost is matched only by its own name, never by `all` or a glob. */
function isListed(inv: Inventory, host: string): boolean {
  return host !== 'localhost' || groupHosts(inv, 'all').includes(host);
}

// Patterns come from playbooks and the command line: RE2, linear in the name's length, as for every playbook regex.
function glob(t: string): RE2JS {
  const re = t
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&')))
    .join('');
  return RE2JS.compile(`^${re}$`);
}

function regex(t: string): RE2JS {
  try {
    return pythonRegex(t.slice(1));
  } catch (e) {
    throw new InputError(`host pattern '${t}' is not a valid regular expression: ${(e as Error).message}`);
  }
}
