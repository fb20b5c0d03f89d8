// A vars file (`vars_files:`, `-e @file`, group_vars/host_vars): a YAML mapping of variable names.
import { readFile } from 'node:fs/promises';
import { InputError, parseYaml, positionOf } from '../yaml/load.js';

/** Turns an ansible-vault file's text into its variables (the vault module installs it). */
export type VaultDecrypter = (text: string, file: string) => Promise<unknown>;

let decryptVault: VaultDecrypter | undefined;

export function setVaultDecrypter(fn: VaultDecrypter | undefined): void {
  decryptVault = fn;
}

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Check that parsed data is a mapping of valid variable names; positions come from the YAML. */
export function expectVarsMapping(data: unknown, file: string): Record<string, unknown> {
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    const pos = typeof data === 'object' ? positionOf(data) : undefined;
    throw new InputError('a vars file must be a mapping of variable names to values', pos ?? file);
  }
  for (const key of Object.keys(data)) {
    if (!VAR_NAME.test(key)) {
      throw new InputError(`'${key}' is not a valid variable name (letters, digits and _, not starting with a digit)`, positionOf(data, key) ?? file);
    }
  }
  return data as Record<string, unknown>;
}

export async function loadVarsFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read vars file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, path);
  }
  if (text.startsWith('$ANSIBLE_VAULT;')) {
    if (!decryptVault) throw new InputError('file is ansible-vault encrypted, but no vault support is loaded', path);
    return expectVarsMapping(await decryptVault(text, path), path);
  }
  return expectVarsMapping(parseYaml(text, path), path);
}
