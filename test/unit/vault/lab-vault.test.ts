// The lab's vault: made at `lab up` with every variable the playbooks read (the backup key
// included, 32+ characters); a vault made by an older rplay gains the variables it lacks and keeps
// the values it has (a running cluster uses the passwords, existing backups need their key).
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ensureLabVault, LAB_VAULT_VARIABLES, labVaultFiles, readLabVault } from '../../../lab/lab-vault.js';
import { encryptVault } from '../../../runner/vault/vault.js';

test('a new lab vault holds every variable, vault_backup_key of 32+ characters, mode 0600', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rplay-lab-vault-'));
  try {
    ensureLabVault(dir);
    const v = readLabVault(dir);
    assert.equal(Object.keys(v).sort(), [...LAB_VAULT_VARIABLES].sort());
    assert.ok(v.vault_backup_key!.reveal().length >= 32);
    assert.is(statSync(labVaultFiles(dir).vault).mode & 0o777, 0o600);
    assert.not.ok(readFileSync(labVaultFiles(dir).vault, 'utf8').includes(v.vault_backup_key!.reveal()));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a lab vault made before backups were encrypted gains vault_backup_key and keeps its passwords', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rplay-lab-vault-'));
  try {
    const f = labVaultFiles(dir);
    writeFileSync(f.password, 'old-vault-password\n', { mode: 0o600 });
    writeFileSync(f.vault, encryptVault('vault_redis_admin_password: AdminPasswordFromBefore123\nvault_redis_app_password: AppPasswordFromBefore1234\n', 'old-vault-password'), { mode: 0o600 });
    ensureLabVault(dir);
    const v = readLabVault(dir);
    assert.is(v.vault_redis_admin_password!.reveal(), 'AdminPasswordFromBefore123');
    assert.is(v.vault_redis_app_password!.reveal(), 'AppPasswordFromBefore1234');
    assert.equal(Object.keys(v).sort(), [...LAB_VAULT_VARIABLES].sort());
    const key = v.vault_backup_key!.reveal();
    ensureLabVault(dir);
    assert.is(readLabVault(dir).vault_backup_key!.reveal(), key, 'a later lab up keeps the key');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
