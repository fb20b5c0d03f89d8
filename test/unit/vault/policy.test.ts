import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Secret } from '../../../runner/secret.js';
import { checkPasswordPolicy, PasswordPolicyError } from '../../../runner/vault/policy.js';

function refusal(name: string, value: string | Secret): string {
  try {
    checkPasswordPolicy(name, value);
  } catch (e) {
    assert.instance(e, PasswordPolicyError);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
}

test("the runbook's sample passwords are refused, naming the variable only", () => {
  for (const pw of ['AppPassword123!', 'DevPassword123!', 'AdminPassword123!']) {
    const msg = refusal('redis_users.app_user.password', pw);
    assert.is(msg, "password policy: redis_users.app_user.password is one of the runbook's sample passwords; set a random one in the vault");
    assert.not.ok(msg.includes(pw));
  }
  assert.ok(refusal('p', new Secret('AdminPassword123!')).includes('sample passwords'));
});

test('passwords shorter than 16 characters are refused', () => {
  const msg = refusal('vault_admin_password', 'fifteen-chars-x');
  assert.is(msg, 'password policy: vault_admin_password is shorter than 16 characters');
  assert.not.ok(msg.includes('fifteen'));
  // Counted in characters, not bytes.
  assert.ok(refusal('p', 'ääääääääääääääá').includes('shorter'));
});

test('16 characters or more pass', () => {
  checkPasswordPolicy('p', 'sixteen-chars-ok');
  checkPasswordPolicy('p', new Secret('a much longer random password value'));
});

test.run();
