// `rplay inventory -i INV [-i INV2] --list | --graph [GROUP] | --host NAME`: the merged inventory as
// ansible-inventory prints it. Exit 0, or 1 on bad input (with the file:line:col of the problem).
import { parseArgs } from 'node:util';
import { loadInventory } from '../inventory/inventory.js';
import { inventoryPlugins } from './inventory-plugins.js';
import { inventoryGraph, inventoryHost, inventoryList } from '../inventory/inventory-views.js';
import { redactingWriter } from '../reporters/writer.js';
import { setVaultDecrypter } from '../vars/vars-file.js';
import { resolveVaultPassword } from '../vault/password.js';
import { vaultDecrypter } from '../vault/vars.js';
import { VaultError } from '../vault/vault.js';
import { InputError } from '../yaml/load.js';

const USAGE = `usage: rplay inventory -i INVENTORY [-i INVENTORY2] --list | --graph [GROUP] | --host NAME
  [--vault-password-file F | --ask-vault-pass]   for ansible-vault encrypted group_vars/host_vars`;

export interface CommandIo {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/** argv: the arguments after `inventory`. */
export async function inventoryCommand(
  argv: string[],
  io: CommandIo = { out: process.stdout, err: process.stderr },
): Promise<number> {
  const out = redactingWriter(io.out);
  const err = redactingWriter(io.err);
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        inventory: { type: 'string', short: 'i', multiple: true },
        list: { type: 'boolean' },
        graph: { type: 'boolean' },
        host: { type: 'string' },
        'vault-password-file': { type: 'string' },
        'ask-vault-pass': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    err.line(`rplay inventory: ${(e as Error).message}\n${USAGE}`);
    return 1;
  }
  const { values, positionals } = args;
  if (values.help) {
    out.line(USAGE);
    return 0;
  }
  const modes = [values.list, values.graph, values.host !== undefined].filter(Boolean).length;
  const problem =
    !values.inventory?.length
      ? 'give an inventory with -i'
      : modes !== 1
        ? 'give exactly one of --list, --graph, --host'
        : positionals.length > (values.graph ? 1 : 0)
          ? `unexpected argument ${positionals.at(-1)}`
          : undefined;
  if (problem) {
    err.line(`rplay inventory: ${problem}\n${USAGE}`);
    return 1;
  }
  try {
    const password = await resolveVaultPassword({
      passwordFile: values['vault-password-file'],
      askPass: values['ask-vault-pass'],
    });
    setVaultDecrypter(vaultDecrypter(password));
    const inv = await loadInventory(values.inventory!, { plugins: inventoryPlugins });
    if (values.list) out.line(inventoryList(inv));
    else if (values.graph) out.line(inventoryGraph(inv, positionals[0]));
    else out.line(inventoryHost(inv, values.host!));
    return 0;
  } catch (e) {
    if (e instanceof InputError || e instanceof VaultError) {
      err.line(`rplay inventory: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
