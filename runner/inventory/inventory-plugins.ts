// Dynamic inventories: a file whose top level has `plugin: NAME` is handed to that plugin, which
// returns the same YAML-shaped document a static file holds. The plugins are handed in by the
// caller (the CLI composes aws_ec2 and rplay_lab, each imported only when used).
import { InputError, positionOf } from '../yaml/load.js';
import type { InventoryDocument } from './inventory-document.js';

/** The file's top-level mapping (plugin and its options) and the file's path, for messages. */
export type InventoryPlugin = (config: Record<string, unknown>, file: string) => Promise<InventoryDocument>;

/** Plugin name (`plugin: NAME`) → plugin. */
export type InventoryPlugins = Readonly<Record<string, InventoryPlugin>>;

export function isPluginConfig(data: unknown): data is Record<string, unknown> & { plugin: unknown } {
  return !!data && typeof data === 'object' && !Array.isArray(data) && 'plugin' in data;
}

export async function runInventoryPlugin(config: Record<string, unknown>, file: string, plugins: InventoryPlugins): Promise<InventoryDocument> {
  const name = config.plugin;
  const plugin = typeof name === 'string' && Object.hasOwn(plugins, name) ? plugins[name] : undefined;
  if (!plugin) {
    const known = Object.keys(plugins);
    throw new InputError(
      `plugin: unknown inventory plugin '${String(name)}' (known: ${known.length ? known.join(', ') : 'none'})`,
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

/** Refuses an option a plugin does not know, at its place in the file. */
export function allowOnly(config: Record<string, unknown>, file: string, keys: string[]): void {
  for (const k of Object.keys(config)) {
    if (!keys.includes(k)) {
      throw new InputError(
        `unknown option '${k}' for plugin ${String(config.plugin)} (options: ${keys.join(', ')})`,
        positionOf(config, k) ?? file,
      );
    }
  }
}
