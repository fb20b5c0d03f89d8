// Reads one `-i` argument: a YAML file, a plugin file, or a folder of them (every *.yml/*.yaml,
// alphabetical, merged). The folder holding them is where group_vars/ and host_vars/ live.
import { readdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { InputError, loadYamlFile } from '../yaml/load.js';
import type { GroupDocument } from './inventory-document.js';
import { isPluginConfig, runInventoryPlugin, type InventoryPlugins } from './inventory-plugins.js';
import { checkInventoryDocument } from './inventory-schema.js';

export interface InventoryFile {
  file: string;
  /** Top-level groups: `all` and any other group written beside it (a child of all). */
  groups: Record<string, GroupDocument | null>;
}

export interface InventorySource {
  files: InventoryFile[];
  /** Folder that may hold group_vars/ and host_vars/. */
  varsDir: string;
}

const YAML_FILE = /\.ya?ml$/;

export async function readInventorySource(path: string, plugins: InventoryPlugins): Promise<InventorySource> {
  const full = resolve(path);
  let isDir: boolean;
  try {
    isDir = (await stat(full)).isDirectory();
  } catch {
    throw new InputError('inventory not found', path);
  }
  if (!isDir) return { files: [await readInventoryFile(path, plugins)], varsDir: dirname(full) };
  const entries = await readdir(full, { withFileTypes: true });
  const names = entries.filter((e) => e.isFile() && YAML_FILE.test(e.name)).map((e) => e.name).sort();
  if (names.length === 0) throw new InputError('no inventory files (*.yml, *.yaml) in this folder', path);
  const files = await Promise.all(names.map((n) => readInventoryFile(join(path, n), plugins)));
  return { files, varsDir: full };
}

async function readInventoryFile(file: string, plugins: InventoryPlugins): Promise<InventoryFile> {
  const data = await loadYamlFile(file);
  if (isPluginConfig(data)) {
    const doc = await runInventoryPlugin(data, file, plugins);
    return { file, groups: doc.all ? { all: doc.all } : {} };
  }
  return { file, groups: checkInventoryDocument(data, file) };
}
