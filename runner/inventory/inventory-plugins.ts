// Dynamic inventories: a file whose top level has `plugin: NAME` is handed to that plugin, which
// returns the same YAML-shaped document a static file holds. Plugins are imported only when used
// (the AWS SDK is heavy and most runs never need it).
import { dirname, resolve } from 'node:path';
import { InputError, positionOf } from '../yaml/load.js';
import type { InventoryDocument } from './inventory-document.js';

/** The file's top-level mapping (plugin and its options) and the file's path, for messages. */
export type InventoryPlugin = (config: Record<string, unknown>, file: string) => Promise<InventoryDocument>;

const plugins: Record<string, InventoryPlugin> = {
  aws_ec2: async (config, file) => (await import('../../modules/aws/inventory-plugin.js')).awsEc2Inventory(config, file),
  rplay_lab: async (config, file) => {
    allowOnly(config, file, ['plugin', 'lab_dir', 'hosts']);
    const { defaultLabDir } = await import('../../lab/lab-layout.js');
    const { labInventory } = await import('../../lab/lab-inventory.js');
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
  },
};

export function isPluginConfig(data: unknown): data is Record<string, unknown> & { plugin: unknown } {
  return !!data && typeof data === 'object' && !Array.isArray(data) && 'plugin' in data;
}

export async function runInventoryPlugin(config: Record<string, unknown>, file: string): Promise<InventoryDocument> {
  const name = config.plugin;
  const plugin = typeof name === 'string' && Object.hasOwn(plugins, name) ? plugins[name] : undefined;
  if (!plugin) {
    throw new InputError(
      `plugin: unknown inventory plugin '${String(name)}' (known: ${Object.keys(plugins).join(', ')})`,
      positionOf(config, 'plugin') ?? file,
    );
  }
  try {
    return await plugin(config, file);
  } catch (e) {
    // A plugin's own failure (no lab yet, no credentials) is about this inventory file.
    if (e instanceof InputError) throw e;
    throw new InputError(`plugin ${name}: ${(e as Error).message}`, file);
  }
}

function allowOnly(config: Record<string, unknown>, file: string, keys: string[]): void {
  for (const k of Object.keys(config)) {
    if (!keys.includes(k)) {
      throw new InputError(
        `unknown option '${k}' for plugin ${String(config.plugin)} (options: ${keys.join(', ')})`,
        positionOf(config, k) ?? file,
      );
    }
  }
}
