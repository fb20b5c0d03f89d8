// Merges inventory files (several -i, or the files of a folder) into one model, as Ansible does:
// a group or host named twice is one group or host, vars merged with the later file winning.
import { join } from 'node:path';
import { InputError } from '../yaml/load.js';
import { expandHostRange } from './host-ranges.js';
import type { Inventory, InventoryGroup, InventoryHost } from './inventory.js';
import type { GroupDocument } from './inventory-document.js';
import type { InventorySource } from './inventory-sources.js';
import { readVarsDir } from './vars-dirs.js';

interface Draft {
  hosts: Map<string, Record<string, unknown>>;
  groups: Map<string, InventoryGroup>;
  parents: Map<string, Set<string>>;
}

export async function buildInventory(sources: InventorySource[]): Promise<Inventory> {
  const d: Draft = { hosts: new Map(), groups: new Map(), parents: new Map() };
  group(d, 'all');
  group(d, 'ungrouped', 'all');
  for (const src of sources) {
    for (const f of src.files) {
      for (const [name, doc] of Object.entries(f.groups)) {
        addGroup(d, f.file, name, doc, name === 'all' ? undefined : 'all');
      }
    }
  }
  fillUngrouped(d);
  const depth = groupDepths(d, sources.at(-1)?.files.at(-1)?.file ?? '');
  // Ansible's implicit localhost: reachable by name, in no group's host list (so not in `all`
  // patterns), yet it takes the vars of 'all' and host_vars/localhost, and runs on the controller.
  if (!d.hosts.has('localhost')) d.hosts.set('localhost', { ansible_connection: 'local' });
  await applyVarsDirs(d, sources.map((s) => s.varsDir));

  const hosts = new Map<string, InventoryHost>();
  const memberOf = directGroups(d);
  for (const [name, vars] of d.hosts) {
    const all = new Set<string>(['all']);
    const visit = (g: string): void => {
      if (all.has(g)) return;
      all.add(g);
      d.parents.get(g)?.forEach(visit);
    };
    memberOf.get(name)?.forEach(visit);
    const groups = [...all].sort((a, b) => depth.get(a)! - depth.get(b)! || (a < b ? -1 : a > b ? 1 : 0));
    hosts.set(name, { name, groups, vars });
  }
  return { hosts, groups: d.groups };
}

/** As in Ansible: 'ungrouped' holds exactly the hosts that are in no group but 'all'. */
function fillUngrouped(d: Draft): void {
  const inGroup = new Set<string>();
  for (const g of d.groups.values()) if (g.name !== 'all' && g.name !== 'ungrouped') g.hosts.forEach((h) => inGroup.add(h));
  d.groups.get('ungrouped')!.hosts = [...d.hosts.keys()].filter((h) => !inGroup.has(h));
}

function group(d: Draft, name: string, parent?: string): InventoryGroup {
  let g = d.groups.get(name);
  if (!g) {
    g = { name, hosts: [], children: [], vars: {} };
    d.groups.set(name, g);
    d.parents.set(name, new Set());
  }
  if (parent !== undefined) {
    const p = d.groups.get(parent)!;
    if (!p.children.includes(name)) p.children.push(name);
    d.parents.get(name)!.add(parent);
  }
  return g;
}

function addGroup(d: Draft, file: string, name: string, doc: GroupDocument | null, parent?: string): void {
  if (name === 'all' && parent !== undefined) throw new InputError(`group 'all' cannot be a child of '${parent}'`, file);
  const g = group(d, name, parent);
  Object.assign(g.vars, doc?.vars);
  for (const [pattern, vars] of Object.entries(doc?.hosts ?? {})) {
    let names: string[];
    try {
      names = expandHostRange(pattern);
    } catch (e) {
      throw new InputError((e as Error).message, file);
    }
    for (const h of names) {
      const own = d.hosts.get(h) ?? {};
      d.hosts.set(h, Object.assign(own, vars));
      if (!g.hosts.includes(h)) g.hosts.push(h);
    }
  }
  for (const [child, childDoc] of Object.entries(doc?.children ?? {})) addGroup(d, file, child, childDoc, name);
}

/** Longest path from 'all' to each group: Ansible's order for merging group vars. */
function groupDepths(d: Draft, file: string): Map<string, number> {
  const depth = new Map<string, number>();
  const onPath: string[] = [];
  const walk = (g: string): number => {
    const known = depth.get(g);
    if (known !== undefined) return known;
    if (onPath.includes(g)) {
      throw new InputError(`groups form a cycle: ${[...onPath.slice(onPath.indexOf(g)), g].join(' → ')}`, file);
    }
    onPath.push(g);
    const parents = [...d.parents.get(g)!];
    const dep = parents.length === 0 ? 0 : Math.max(...parents.map(walk)) + 1;
    onPath.pop();
    depth.set(g, dep);
    return dep;
  };
  for (const g of d.groups.keys()) walk(g);
  return depth;
}

function directGroups(d: Draft): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const g of d.groups.values()) {
    for (const h of g.hosts) {
      const list = out.get(h) ?? [];
      list.push(g.name);
      out.set(h, list);
    }
  }
  return out;
}

/** group_vars/ and host_vars/ from each inventory's folder, after that inventory's own vars. */
async function applyVarsDirs(d: Draft, dirs: string[]): Promise<void> {
  const groupNames = new Set(d.groups.keys());
  const hostNames = new Set(d.hosts.keys());
  for (const dir of [...new Set(dirs)]) {
    const [groupVars, hostVars] = await Promise.all([
      readVarsDir(join(dir, 'group_vars'), groupNames),
      readVarsDir(join(dir, 'host_vars'), hostNames),
    ]);
    for (const [name, vars] of groupVars) Object.assign(d.groups.get(name)!.vars, vars);
    for (const [name, vars] of hostVars) Object.assign(d.hosts.get(name)!, vars);
  }
}
