// The lab's secrets: random passwords for the Redis users and the backups' encryption key, made at
// `lab up` into the lab's own ansible-vault file (encrypted with a random vault password kept beside
// it, mode 0600). Production keeps the same variables in inventories/prod/group_vars/all/vault.yml,
// given with --vault-password-file; the lab needs no password typed.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Secret } from '../runner/secret.js';
import { decryptVault, encryptVault } from '../runner/vault/vault.js';
import { secretLeaves } from '../runner/vault/vars.js';
import { parseYaml } from '../runner/yaml/load.js';

/** The vault variables the playbooks read (the Redis passwords; the key backup.yml encrypts with). */
export const LAB_VAULT_VARIABLES = [
  'vault_redis_admin_password',
  'vault_redis_app_password',
  'vault_redis_dev_password',
  'vault_redis_replication_password',
  'vault_backup_key',
] as const;

const generated = (name: string): string => `${name}: ${randomBytes(32).toString('base64url')}\n`;

export function labVaultFiles(labDir: string): { vault: string; password: string } {
  return { vault: join(labDir, 'vault.yml'), password: join(labDir, 'vault-password') };
}

/**
 * Creates the vault once; later `lab up`s keep its values (a running cluster uses the passwords,
 * existing backups need their key) and add a variable a newer rplay reads.
 */
export function ensureLabVault(labDir: string): void {
  const f = labVaultFiles(labDir);
  if (existsSync(f.vault) && existsSync(f.password)) {
    const password = readFileSync(f.password, 'utf8').trim();
    const text = decryptVault(readFileSync(f.vault, 'utf8'), password, f.vault);
    const have = Object.keys(parseYaml(text, f.vault) as Record<string, unknown>);
    const missing = LAB_VAULT_VARIABLES.filter((name) => !have.includes(name));
    if (missing.length > 0) writeFileSync(f.vault, encryptVault(`${text.replace(/\n?$/, '\n')}${missing.map(generated).join('')}`, password), { mode: 0o600 });
    return;
  }
  const vaultPassword = randomBytes(32).toString('base64url');
  const body = LAB_VAULT_VARIABLES.map(generated).join('');
  writeFileSync(f.password, `${vaultPassword}\n`, { mode: 0o600 });
  writeFileSync(f.vault, encryptVault(body, vaultPassword), { mode: 0o600 });
}

/** The lab's vault variables, every value a Secret; {} when the lab has none yet. */
export function readLabVault(labDir: string): Record<string, Secret> {
  const f = labVaultFiles(labDir);
  if (!existsSync(f.vault)) return {};
  const text = decryptVault(readFileSync(f.vault, 'utf8'), readFileSync(f.password, 'utf8').trim(), f.vault);
  return secretLeaves(parseYaml(text, f.vault)) as Record<string, Secret>;
}
