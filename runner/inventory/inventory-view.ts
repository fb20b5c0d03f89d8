import type { Vars } from '../types.js';

/** The inventory as a module reads it: another host's variables, a group's hosts; no expression strings. */
export interface InventoryView {
  /** The group's hosts in inventory order, children's included (as `groups[group]`); [] for a group the inventory lacks. */
  groupHosts(group: string): readonly string[];
  /** The host's variables as `hostvars[host]` gives them (inventory, then what it set); an error for a host not in the inventory. */
  hostVars(host: string): Readonly<Vars>;
}

/** The view over the run's groups and a lookup of a host's variables (undefined: not in the inventory). */
export function inventoryView(groups: Readonly<Record<string, readonly string[]>>, hostVars: (host: string) => Readonly<Vars> | undefined): InventoryView {
  return {
    groupHosts: (group) => (Object.hasOwn(groups, group) ? [...groups[group]!] : []),
    hostVars: (host) => {
      const v = hostVars(host);
      if (v === undefined) throw new Error(`host '${host}' is not in the inventory`);
      return v;
    },
  };
}
