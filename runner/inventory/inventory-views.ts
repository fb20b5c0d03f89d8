// What `rplay inventory` prints, shaped exactly like ansible-inventory's --list, --graph and --host
// so tools written for Ansible read it unchanged.
import { InputError } from '../yaml/load.js';
import { hostVarsFromInventory, type Inventory } from './inventory.js';

/**
 * ansible-inventory --list: each group with its direct `hosts` and `children` (empty lists and
 * empty groups left out, `all` never lists hosts), `_meta.hostvars` with every host's merged vars
 * (hosts without vars left out), keys sorted, 4-space indent.
 */
export function inventoryList(inv: Inventory): string {
  const out: Record<string, unknown> = {};
  const hostvars: Record<string, unknown> = {};
  const all = inv.groups.get('all')!;
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const g = inv.groups.get(name)!;
    const entry: Record<string, string[]> = {};
    if (name !== 'all' && g.hosts.length > 0) entry.hosts = g.hosts;
    if (g.children.length > 0) entry.children = g.children;
    if (Object.keys(entry).length > 0) out[name] = entry;
    g.children.forEach(visit);
  };
  visit(all.name);
  for (const h of listedHosts(inv)) {
    const vars = hostVarsFromInventory(inv, h);
    if (Object.keys(vars).length > 0) hostvars[h] = vars;
  }
  out._meta = { hostvars };
  return sortedJson(out);
}

/** ansible-inventory --graph [GROUP]: `@group:` lines, child groups then hosts, each sorted by name. */
export function inventoryGraph(inv: Inventory, group = 'all'): string {
  if (!inv.groups.has(group)) throw new InputError(`group '${group}' is not in the inventory`);
  const lines: string[] = [];
  const draw = (name: string, depth: number): void => {
    lines.push(indent(`@${name}:`, depth));
    const g = inv.groups.get(name)!;
    for (const c of [...g.children].sort()) draw(c, depth + 1);
    if (name !== 'all') for (const h of [...g.hosts].sort()) lines.push(indent(h, depth + 1));
  };
  draw(group, 0);
  return lines.join('\n');
}

/** ansible-inventory --host NAME: that host's merged inventory vars. */
export function inventoryHost(inv: Inventory, host: string): string {
  if (!inv.hosts.has(host)) throw new InputError(`host '${host}' is not in the inventory`);
  return sortedJson(hostVarsFromInventory(inv, host));
}

/** Every inventory host, without the implicit localhost (which belongs to no group). */
function listedHosts(inv: Inventory): string[] {
  const listed = new Set<string>();
  for (const g of inv.groups.values()) g.hosts.forEach((h) => listed.add(h));
  return [...inv.hosts.keys()].filter((h) => listed.has(h));
}

function indent(name: string, depth: number): string {
  return depth === 0 ? name : '  |'.repeat(depth) + '--' + name;
}

/** Python's json.dumps(sort_keys=True, indent=4), which ansible-inventory uses. */
function sortedJson(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 4);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  // Only plain mappings: a Secret must reach JSON.stringify intact so its toJSON() masks it.
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const src = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(src)
        .sort()
        .map((k) => [k, sortKeys(src[k])]),
    );
  }
  return value;
}
