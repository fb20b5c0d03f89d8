import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MASK, Secret } from '../../../runner/secret.js';
import { readHiddenLine, readPasswordFile, resolveVaultPassword } from '../../../runner/vault/password.js';
import { VaultError } from '../../../runner/vault/vault.js';

const dir = mkdtempSync(join(tmpdir(), 'rplay-vaultpw-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string, mode = 0o600): string => {
  const p = join(dir, name);
  writeFileSync(p, text, { mode });
  return p;
};

async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, VaultError);
    return (e as Error).message;
  }
  throw new Error('expected a rejection');
}

test('a password file is trimmed and comes back as a Secret', async () => {
  const s = await readPasswordFile(file('pw', '  correct horse battery\n\n'));
  assert.instance(s, Secret);
  assert.is(s.reveal(), 'correct horse battery');
  assert.is(String(s), MASK);
});

test('an executable password file is run and its stdout used', async () => {
  const s = await readPasswordFile(file('pw.sh', '#!/bin/sh\necho "from-script-$((40+2))"\n', 0o700));
  assert.is(s.reveal(), 'from-script-42');
  const msg = await rejection(readPasswordFile(file('fail.sh', '#!/bin/sh\nexit 3\n', 0o700)));
  assert.is(msg, `vault: password script ${join(dir, 'fail.sh')} failed (exit code 3)`);
});

test('missing or empty password files are clear errors', async () => {
  assert.is(await rejection(readPasswordFile(join(dir, 'nope'))), `vault: password file ${join(dir, 'nope')} not found`);
  assert.is(await rejection(readPasswordFile(file('empty', '\n'))), `vault: password file ${join(dir, 'empty')} gave an empty password`);
});

test('resolveVaultPassword: option, then RPLAY_VAULT_PASSWORD_FILE, else none', async () => {
  const a = file('a', 'password-a');
  const b = file('b', 'password-b');
  assert.is((await resolveVaultPassword({ passwordFile: a, env: { RPLAY_VAULT_PASSWORD_FILE: b } }))?.reveal(), 'password-a');
  assert.is((await resolveVaultPassword({ env: { RPLAY_VAULT_PASSWORD_FILE: b } }))?.reveal(), 'password-b');
  assert.is(await resolveVaultPassword({ env: {} }), undefined);
  assert.is(
    await rejection(resolveVaultPassword({ passwordFile: a, askPass: true, env: {} })),
    'vault: give either --vault-password-file or --ask-vault-pass, not both',
  );
});

test('the prompt never echoes what is typed; backspace edits', async () => {
  const input = new PassThrough();
  const output = new PassThrough();
  let raw: boolean[] = [];
  const tty = Object.assign(input, { setRawMode: (m: boolean) => (raw = [...raw, m]) });
  const line = readHiddenLine(tty, output, 'Vault password: ');
  input.write('hunter2x');
  input.write('\u007fy\r');
  assert.is(await line, 'hunter2y');
  assert.is(output.read()?.toString(), 'Vault password: \n');
  assert.equal(raw, [true, false]);
});

test('Ctrl-C at the prompt aborts', async () => {
  const input = new PassThrough();
  const p = readHiddenLine(input, new PassThrough(), 'pw: ');
  input.write('abc\u0003');
  assert.is(await rejection(p), 'vault: password prompt interrupted');
});

test.run();
