import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { registerSecret, Secret } from '../../../runner/secret.js';
import { runScenario } from './capture.js';

// One Secret object and one registered plain string; the second holds characters JSON escapes, so
// a reporter that masked only its serialised text would miss it.
const vaultValue = new Secret('Vault-Only-Passw0rd-xyz');
const registered = 'reg"istered\\pass-1234567';
registerSecret(registered);

const results = {
  install: [
    ['node-1', { status: 'changed', msg: `set password ${registered}`, registered: { password: vaultValue, echo: registered } }],
    ['node-10', { status: 'failed', msg: `auth failed for ${vaultValue.reveal()}` }],
  ],
  configure: [
    [
      'node-1',
      {
        status: 'changed',
        msg: 'rendered',
        diff: `--- before: /etc/redis/users.acl\n+++ after: /etc/redis/users.acl\n-user app on >${vaultValue.reveal()}\n+user app on >${registered}\n`,
      },
    ],
  ],
  restart: [['node-10', { status: 'unreachable', msg: `ssh refused: ${registered}` }]],
} as const satisfies Parameters<typeof runScenario>[1];

const modes = {
  plain: { verbosity: 2, diff: true },
  json: { json: true, verbosity: 2, diff: true },
  tty: { tty: true, verbosity: 2, diff: true },
} as const;

for (const [name, opts] of Object.entries(modes)) {
  test(`${name}: neither a Secret nor a registered secret string reaches stdout or stderr`, async () => {
    const { out, err } = await runScenario(opts, results);
    for (const text of [out, err]) {
      assert.not.match(text, 'Vault-Only-Passw0rd');
      assert.not.match(text, 'istered');
      assert.not.match(text, 'pass-1234567');
    }
    assert.match(out, '********');
    // The run was reported (the recap is there), so the absence above means something.
    assert.match(out, /node-10.*failed"?[=:]1/);
  });
}

test.run();
