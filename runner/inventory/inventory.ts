// The inventory model every other part of rplay reads: hosts in inventory order, groups with their
// direct members, and the variables each carries (inventory file first, then group_vars/host_vars).
import { buildInventory } from './build-inventory.js';
import type { InventoryPlugins } from './inventory-plugins.js';
import { readInventorySource } from './inventory-sources.js';

export interface InventoryHost {
  name: string;
  /** Every group the host is in, directly or through children: 'all' first, most specific last. */
  groups: string[];
  /** The host's own variables: its inventory entry, then host_vars/ (later wins). */
  vars: Record<string, unknown>;
}

export interface InventoryGroup {
  name: string;
  /** Hosts listed directly in this group, in inventory order. */
  hosts: string[];
  /** Direct child groups, in inventory order. */
  children: string[];
  /** The group's variables: the inventory's `vars:`, then group_vars/ (later wins). */
  vars: Record<string, unknown>;
}

export interface Inventory {
  /** Every host in inventory order, plus the implicit `localhost` (which is in no group's hosts). */
  hosts: Map<string, InventoryHost>;
  /** Every group, 'all' and 'ungrouped' included. */
  groups: Map<string, InventoryGroup>;
}

/**
 * The host's inventory variables, lowest precedence first: group vars from 'all' down to the most
 * specific group (host.groups is already in that order), then the host's own.
 */
export function hostVarsFromInventory(inv: Inventory, host: string): Record<string, unknown> {
  const h = inv.hosts.get(host);
  if (!h) throw new Error(`host '${host}' is not in the inventory`);
  const out: Record<string, unknown> = {};
  for (const g of h.groups) Object.assign(out, inv.groups.get(g)?.vars);
  return Object.assign(out, h.vars);
}

export interface LoadInventoryOptions {
  /** The plugins a `plugin: NAME` file may name; without them such a file is refused. */
  plugins?: InventoryPlugins;
}

/** Reads and merges every `-i` source (file, folder or plugin file), validated; InputError if bad. */
export async function loadInventory(paths: string[], opts: LoadInventoryOptions = {}): Promise<Inventory> {
  const plugins = opts.plugins ?? {};
  return buildInventory(await Promise.all(paths.map((p) => readInventorySource(p, plugins))));
}
