import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decryptVault, decryptVaultBytes, encryptVault, encryptVaultBytes, isVaultText, VaultError } from '../../../runner/vault/vault.js';

// Made by ansible-vault itself: ansible-core's test/units/parsing/vault/decrypt_test_data/aes256/
// (password "IAmAVaultPassword", plaintexts "I Am Plaintext\n" and "").
const ANSIBLE_PASSWORD = 'IAmAVaultPassword';
const ANSIBLE_DATA1 = `$ANSIBLE_VAULT;1.1;AES256
33666630323037663964386137383330333138363062616261393264316537333762333663646331
6264306633323738663535663132666235386438326636340a323034336466373566623132653136
30616462303866303631623037643931343535653934303831303462393935313064623731653861
6335333230646339630a373866353065666238313630643332316333646532313861643830613766
6336
`;
const ANSIBLE_EMPTY = `$ANSIBLE_VAULT;1.1;AES256
35333839353434666233613033343832356632323637356335316532636337303961646562313831
3537353130646561333661336561666434653934396233320a386262393239396331396130306332
36663233303963383839373237376335343331623431353530643030333031376330333633383038
3838623536303236360a653836613963633133386565323536633734313736326532386565323338
3431
`;

function innerParts(vault: string): Buffer[] {
  const hex = vault.split('\n').slice(1).join('');
  return Buffer.from(hex, 'hex').toString('ascii').split('\n').map((h) => Buffer.from(h, 'hex'));
}

test('decrypts files written by ansible-vault', () => {
  assert.is(decryptVault(ANSIBLE_DATA1, ANSIBLE_PASSWORD, 'data1'), 'I Am Plaintext\n');
  assert.is(decryptVault(ANSIBLE_EMPTY, ANSIBLE_PASSWORD, 'empty'), '');
});

test('encrypting with the same salt reproduces ansible-vault output byte for byte', () => {
  const [salt] = innerParts(ANSIBLE_DATA1);
  assert.is(encryptVaultBytes(Buffer.from('I Am Plaintext\n'), ANSIBLE_PASSWORD, salt), ANSIBLE_DATA1);
  const [emptySalt] = innerParts(ANSIBLE_EMPTY);
  assert.is(encryptVaultBytes(Buffer.alloc(0), ANSIBLE_PASSWORD, emptySalt), ANSIBLE_EMPTY);
});

test('layout: header, 80-column hex lines, final newline, 32-byte salt and hmac, padded ciphertext', () => {
  const v = encryptVault('redis_admin_password: x\n'.repeat(20), 'pw-0123456789abcdef');
  const lines = v.split('\n');
  assert.is(lines[0], '$ANSIBLE_VAULT;1.1;AES256');
  assert.is(lines[lines.length - 1], '');
  const body = lines.slice(1, -1);
  for (const l of body.slice(0, -1)) assert.is(l.length, 80);
  assert.ok(body[body.length - 1].length <= 80);
  assert.ok(body.every((l) => /^[0-9a-f]+$/.test(l)));
  const [salt, mac, ct] = innerParts(v);
  assert.is(salt.length, 32);
  assert.is(mac.length, 32);
  assert.is(ct.length % 16, 0);
  assert.ok(ct.length >= 20 * 24);
});

test('round trip keeps text and bytes exactly; a fresh salt each time', () => {
  const text = 'pässwörd: "ünïcode ✓"\nempty:\n';
  const a = encryptVault(text, 'secret');
  assert.is.not(a, encryptVault(text, 'secret'));
  assert.is(decryptVault(a, 'secret', 'f'), text);
  const bin = Buffer.from([0, 255, 16, 16, 1, 2, 3]);
  assert.ok(decryptVaultBytes(encryptVaultBytes(bin, 'p'), 'p', 'f').equals(bin));
  for (let n = 0; n <= 33; n++) assert.is(decryptVault(encryptVault('x'.repeat(n), 'p'), 'p', 'f'), 'x'.repeat(n));
});

function vaultError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.instance(e, VaultError);
    return (e as Error).message;
  }
  throw new Error('expected a VaultError');
}

test('a wrong password or altered ciphertext is one clear error naming the file', () => {
  assert.is(vaultError(() => decryptVault(ANSIBLE_DATA1, 'wrong', 'group_vars/all/vault.yml')), 'vault: wrong password or corrupted file group_vars/all/vault.yml');
  // Flip one ciphertext bit, keeping the file well-formed.
  const [salt, mac, ct] = innerParts(encryptVault('a: b\n', 'p'));
  ct[0] ^= 1;
  const inner = [salt, mac, ct].map((b) => b.toString('hex')).join('\n');
  const tampered = `$ANSIBLE_VAULT;1.1;AES256\n${Buffer.from(inner).toString('hex')}\n`;
  assert.is(vaultError(() => decryptVault(tampered, 'p', 'v.yml')), 'vault: wrong password or corrupted file v.yml');
});

test('malformed input is refused with the reason', () => {
  assert.is(vaultError(() => decryptVault('a: b\n', 'p', 'f.yml')), 'vault: f.yml is not a vault file (no $ANSIBLE_VAULT header)');
  assert.is(vaultError(() => decryptVault('$ANSIBLE_VAULT;1.1;AES256\nzz\n', 'p', 'f.yml')), 'vault: corrupted file f.yml: the body is not hexadecimal');
  assert.is(vaultError(() => decryptVault('$ANSIBLE_VAULT;1.0;AES\n00\n', 'p', 'f.yml')), 'vault: f.yml uses vault format 1.0; rplay reads 1.1 and 1.2');
  assert.is(vaultError(() => decryptVault('$ANSIBLE_VAULT;1.1;AES256\n6161\n', 'p', 'f.yml')), 'vault: corrupted file f.yml: expected salt, hmac and ciphertext');
});

test('reads the 1.2 header (vault id) and indented inline bodies', () => {
  const v12 = ANSIBLE_DATA1.replace('$ANSIBLE_VAULT;1.1;AES256', '$ANSIBLE_VAULT;1.2;AES256;prod');
  assert.is(decryptVault(v12, ANSIBLE_PASSWORD, 'f'), 'I Am Plaintext\n');
  const inline = ANSIBLE_DATA1.split('\n').map((l) => (l ? `          ${l}` : l)).join('\n').trimStart();
  assert.is(decryptVault(inline, ANSIBLE_PASSWORD, 'f'), 'I Am Plaintext\n');
});

test('isVaultText', () => {
  assert.ok(isVaultText(ANSIBLE_DATA1));
  assert.not.ok(isVaultText('---\nx: $ANSIBLE_VAULT;\n'));
});

test.run();
