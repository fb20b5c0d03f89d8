// The lab's secrets: random passwords for the Redis users, made at `lab up` into the lab's own
// ansible-vault file (encrypted with a random vault password kept beside it, mode 0600). Production
// keeps the same variables in inventories/prod/group_vars/all/vault.yml, given with
// --vault-password-file; the lab needs no password typed.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Secret } from '../secret.js';
import { decryptVault, encryptVault } from '../vault/vault.js';
import { secretLeaves } from '../vault/vars.js';
import { parseYaml } from '../yaml/load.js';

/** The vault variables the Redis playbooks read. */
export const LAB_VAULT_VARIABLES = [
  'vault_redis_admin_password',
  'vault_redis_app_password',
  'vault_redis_dev_password',
  'vault_redis_replication_password',
] as const;

export function labVaultFiles(labDir: string): { vault: string; password: string } {
  return { vault: join(labDir, 'vault.yml'), password: join(labDir, 'vault-password') };
}

/** Creates the vault once; later `lab up`s keep its passwords (a running cluster uses them). */
export function ensureLabVault(labDir: string): void {
  const f = labVaultFiles(labDir);
  if (existsSync(f.vault) && existsSync(f.password)) return;
  const vaultPassword = randomBytes(32).toString('base64url');
  const body = LAB_VAULT_VARIABLES.map((name) => `${name}: ${randomBytes(24).toString('base64url')}\n`).join('');
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
