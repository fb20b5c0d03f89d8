import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MASK, redact, Secret } from '../../../runner/secret.js';
import { encryptVault, VaultError } from '../../../runner/vault/vault.js';
import { secretLeaves, vaultDecrypter } from '../../../runner/vault/vars.js';
import { parseYaml, positionOf } from '../../../runner/yaml/load.js';

test('the decrypter gives the variables of the vault, every scalar a Secret', async () => {
  const text = encryptVault('vault_admin_password: Zq8-long-random-admin\nvault_port: 46379\n', 'pw-is-long');
  const vars = (await vaultDecrypter(new Secret('pw-is-long'))(text, 'f.yml')) as { vault_admin_password: Secret; vault_port: Secret<number> };
  assert.instance(vars.vault_admin_password, Secret);
  assert.is(vars.vault_admin_password.reveal(), 'Zq8-long-random-admin');
  assert.instance(vars.vault_port, Secret);
  assert.is(vars.vault_port.reveal(), 46379);
  assert.is(redact('password=Zq8-long-random-admin'), `password=${MASK}`);
  try {
    await vaultDecrypter(new Secret('nope'))(text, 'group_vars/all/vault.yml');
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).message, 'vault: wrong password or corrupted file group_vars/all/vault.yml');
  }
});

test('without a password, an encrypted file says how to give one', async () => {
  try {
    await vaultDecrypter(undefined)(encryptVault('a: 1\n', 'x'), 'vault.yml');
    assert.unreachable();
  } catch (e) {
    assert.instance(e, VaultError);
    assert.is((e as Error).message, 'vault: vault.yml is encrypted; give --vault-password-file, --ask-vault-pass or RPLAY_VAULT_PASSWORD_FILE');
  }
});

test('every scalar leaf loaded from a vault (string, number, boolean) becomes a Secret that output masks', () => {
  const v = secretLeaves({ passwords: { app: 'N7c-random-app-password', dev: ['K2v-random-dev-password'] }, port: 46379, on: true, none: null }) as {
    passwords: { app: Secret; dev: Secret[] };
    port: Secret<number>;
    on: Secret<boolean>;
    none: null;
  };
  assert.instance(v.passwords.app, Secret);
  assert.is(v.passwords.app.reveal(), 'N7c-random-app-password');
  assert.is(v.passwords.dev[0].reveal(), 'K2v-random-dev-password');
  assert.is(v.port.reveal(), 46379);
  assert.is(v.on.reveal(), true);
  assert.is(v.none, null);
  assert.is(JSON.stringify(v), `{"passwords":{"app":"${MASK}","dev":["${MASK}"]},"port":"${MASK}","on":"${MASK}","none":null}`);
  // A secret boolean's text is not registered: every JSON `true` would be masked.
  assert.is(redact('"changed": true'), '"changed": true');
  assert.is(redact('AUTH app_user N7c-random-app-password'), `AUTH app_user ${MASK}`);
});

test('source positions the YAML loader attached survive', () => {
  const doc = secretLeaves(parseYaml('a: 1\nusers:\n  - x: Jq5-random-x-password\n', 'vault.yml')) as { users: object[] };
  assert.equal(positionOf(doc.users[0], 'x'), { file: 'vault.yml', line: 3, col: 5 });
});

test.run();
