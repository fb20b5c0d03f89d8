// The seam between the vault and the vars loaders (runner/vars/vars-file.ts setVaultDecrypter): a
// decrypter the loader calls on any file that starts with $ANSIBLE_VAULT;, giving back the file's
// variables with every scalar leaf a Secret, so whatever came out of a vault is masked in output.
import { Secret } from '../secret.js';
import { parseYaml } from '../yaml/load.js';
import { decryptVault, VaultError } from './vault.js';

/** Vault text of `file` in, its variables out (the shape setVaultDecrypter takes). */
export type VaultVarsDecrypter = (text: string, file: string) => Promise<unknown>;

export function vaultDecrypter(password: Secret | undefined): VaultVarsDecrypter {
  return async (text, file) => {
    if (!password) {
      throw new VaultError(
        `vault: ${file} is encrypted; give --vault-password-file, --ask-vault-pass or RPLAY_VAULT_PASSWORD_FILE`,
      );
    }
    return secretLeaves(parseYaml(decryptVault(text, password.reveal(), file), file));
  };
}

/**
 * Every scalar leaf (string, number, boolean) becomes a Secret: a PIN is as secret as a password.
 * null stays null. Containers are changed in place, so what the YAML loader attached to them
 * (source positions) survives.
 */
export function secretLeaves(value: unknown): unknown {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return new Secret(value);
  if (Array.isArray(value)) {
    value.forEach((v, i) => (value[i] = secretLeaves(v)));
  } else if (value && typeof value === 'object' && !(value instanceof Secret)) {
    const obj = value as Record<string, unknown>;
    for (const k of Object.keys(obj)) obj[k] = secretLeaves(obj[k]);
  }
  return value;
}
