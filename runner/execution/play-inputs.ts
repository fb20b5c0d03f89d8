// What a play's inputs are read relative to, shared by the checks before the run (load-inputs.ts)
// and the run itself, in a file of its own so the checks do not import the engine.
import { dirname, resolve } from 'node:path';
import type { Inventory } from '../inventory/inventory.js';
import type { Play } from '../playbook/types.js';

const groupsCache = new WeakMap<Inventory, Record<string, string[]>>();

/** Every group's hosts, by group name (computed once per inventory). */
export function groupsOf(inv: Inventory): Record<string, string[]> {
  let g = groupsCache.get(inv);
  if (!g) {
    g = {};
    for (const name of inv.groups.keys()) g[name] = [];
    for (const h of inv.hosts.values()) for (const name of h.groups) (g[name] ??= []).push(h.name);
    groupsCache.set(inv, g);
  }
  return g;
}

/** vars_files are relative to the folder of the playbook that holds the play (an imported one's own), as in Ansible. */
export function varsFilesDir(play: Play): string {
  return dirname(resolve(play.pos.file));
}
