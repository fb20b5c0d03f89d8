// The rplay_lab dynamic inventory: the hosts of a lab made by `rplay lab up`, with its secrets and CA.
import { dirname, resolve } from 'node:path';
import type { InventoryDocument } from '../runner/inventory/inventory-document.js';
import { allowOnly } from '../runner/inventory/inventory-plugins.js';
import { InputError, positionOf } from '../runner/yaml/load.js';
import { labInventory } from './lab-inventory.js';
import { defaultLabDir } from './lab-layout.js';

export async function rplayLabInventory(config: Record<string, unknown>, file: string): Promise<InventoryDocument> {
  allowOnly(config, file, ['plugin', 'lab_dir', 'hosts']);
  const dir = config.lab_dir;
  if (dir !== undefined && typeof dir !== 'string') {
    throw new InputError('lab_dir must be a path', positionOf(config, 'lab_dir') ?? file);
  }
  // hosts: false gives only the lab's secrets and CA folder, for an inventory whose hosts come
  // from elsewhere (inventories/lab-aws: the EC2 emulator's instances).
  if (config.hosts !== undefined && typeof config.hosts !== 'boolean') {
    throw new InputError('hosts must be true or false', positionOf(config, 'hosts') ?? file);
  }
  return labInventory(dir === undefined ? defaultLabDir() : resolve(dirname(file), dir), { hosts: config.hosts !== false });
}
