// group_vars/ and host_vars/ beside an inventory: `<name>.yml`, `<name>.yaml`, or a folder
// `<name>/` whose *.yml/*.yaml files are merged in alphabetical order.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadVarsFile } from '../vars/vars-file.js';

/** Variables per group (or host) name, read from one group_vars/ (or host_vars/) folder. */
export type VarsByName = Map<string, Record<string, unknown>>;

const YAML_FILE = /\.ya?ml$/;

/** Reads only the entries whose name is wanted: a folder may hold files for other inventories. */
export async function readVarsDir(dir: string, wanted: ReadonlySet<string>): Promise<VarsByName> {
  const out: VarsByName = new Map();
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw e;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const name = e.isDirectory() ? e.name : e.name.replace(YAML_FILE, '');
    if (!wanted.has(name) || (e.isFile() && name === e.name)) continue;
    const files = e.isDirectory()
      ? (await readdir(join(dir, e.name))).filter((f) => YAML_FILE.test(f)).sort().map((f) => join(dir, e.name, f))
      : [join(dir, e.name)];
    const merged = out.get(name) ?? {};
    // loadVarsFile also opens ansible-vault files, as anywhere vars files may be.
    for (const f of files) Object.assign(merged, await loadVarsFile(f));
    out.set(name, merged);
  }
  return out;
}
