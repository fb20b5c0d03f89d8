import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { shJoin } from '../../../runner/connection/quote.js';
import { MASK, redact, registerSecret, Secret } from '../../../runner/secret.js';
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

test('the text net knows the forms a secret takes on the way out', () => {
  const pw = new Secret(`Wy6'Lp "q\\&%Zz 8`).reveal();
  const b64 = (t: string): string => Buffer.from(t).toString('base64');
  const forms = {
    'shell-quoted in a command': shJoin(['redis-cli', '-a', pw, 'ping']),
    'JSON-escaped': JSON.stringify({ pw }),
    'JSON inside JSON': JSON.stringify(JSON.stringify({ pw })),
    'URL-encoded': `redis://u:${encodeURIComponent(pw)}@h`,
    'form-encoded': new URLSearchParams({ pw }).toString(),
    base64: b64(pw),
    // Inside a longer text that was encoded whole, at each of the three byte alignments.
    'base64 at offset 0': b64(`${pw} and the rest of a file`),
    'base64 at offset 1': b64(`x${pw} and the rest of a file`),
    'base64 at offset 2': b64(`xy${pw} and the rest of a file`),
    'base64 at offset 3': b64(`xyz${pw} and the rest of a file`),
  };
  for (const [name, text] of Object.entries(forms)) {
    const out = redact(text);
    assert.match(out, MASK, `${name}: ${out}`);
    for (let i = 0; i + 6 <= pw.length; i++) assert.not.ok(out.includes(pw.slice(i, i + 6)), `${name}: ${out}`);
  }
  // The base64 characters that encode the password's bytes (4 characters of margin each side) are gone.
  for (const prefix of ['', 'x', 'xy', 'xyz']) {
    const text = b64(`${prefix}${pw} and the rest of a file`);
    const from = Math.ceil((prefix.length * 4) / 3) + 4;
    const to = Math.floor(((prefix.length + Buffer.byteLength(pw)) * 4) / 3) - 4;
    assert.not.ok(redact(text).includes(text.slice(from, to)), `base64 after ${prefix.length} bytes: ${redact(text)}`);
  }
});

test('the text of a secret boolean, and very short secrets, are not in the text net (they would mask ordinary words)', () => {
  new Secret(true);
  new Secret('ab');
  assert.is(redact('"changed": true, "ab": 1'), '"changed": true, "ab": 1');
  // Structural masking covers them wherever the value itself is shown.
  assert.is(JSON.stringify({ on: new Secret(true), c: new Secret('a') }), `{"on":"${MASK}","c":"${MASK}"}`);
  assert.is(`${new Secret(7)}`, MASK);
});

test.run();
