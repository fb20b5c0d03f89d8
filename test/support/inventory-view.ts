import { inventoryView, type InventoryView } from '../../runner/inventory/inventory-view.js';
import type { Vars } from '../../runner/types.js';

/** The inventory view a task has when these variables hold `groups` and `hostvars` as plain data. */
export function inventoryOf(vars: Vars): InventoryView {
  const groups = (vars.groups ?? {}) as Record<string, string[]>;
  const hostvars = (vars.hostvars ?? {}) as Record<string, Vars>;
  return inventoryView(groups, (h) => (Object.hasOwn(hostvars, h) ? hostvars[h] : undefined));
}
