import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inventoryCommand } from '../../../runner/cli/inventory-command.js';
import { registerSecret } from '../../../runner/secret.js';
import { setVaultDecrypter } from '../../../runner/vars/vars-file.js';
import { encryptVault } from '../../../runner/vault/vault.js';
import { removeTrees, writeTree } from './tree.js';

test.after(removeTrees);

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new Capture();
  const err = new Capture();
  const code = await inventoryCommand(argv, { out, err });
  return { code, out: out.text, err: err.text };
}

const inventory = (): string =>
  join(
    writeTree({
      'inv/hosts.yml': `
all:
  vars:
    ansible_user: ubuntu
  hosts:
    bastion:
  children:
    redis:
      hosts:
        node-2:
          ansible_host: 127.0.1.2
        node-1:
          ansible_host: 127.0.1.1
      children:
        primary:
          hosts:
            node-1:
    empty:
`,
      'inv/group_vars/redis.yml': 'redis_port: 6379\n',
    }),
    'inv',
  );

test("--list prints ansible-inventory's JSON: _meta.hostvars, groups' direct hosts and children", async () => {
  const r = await run(['-i', inventory(), '--list']);
  assert.is(r.code, 0);
  assert.is(r.err, '');
  assert.equal(JSON.parse(r.out), {
    _meta: {
      hostvars: {
        bastion: { ansible_user: 'ubuntu' },
        'node-1': { ansible_host: '127.0.1.1', ansible_user: 'ubuntu', redis_port: 6379 },
        'node-2': { ansible_host: '127.0.1.2', ansible_user: 'ubuntu', redis_port: 6379 },
      },
    },
    all: { children: ['ungrouped', 'redis', 'empty'] },
    primary: { hosts: ['node-1'] },
    redis: { children: ['primary'], hosts: ['node-2', 'node-1'] },
    ungrouped: { hosts: ['bastion'] },
  });
  // Keys sorted and 4-space indented, as Python's json.dumps(sort_keys=True, indent=4) prints them.
  assert.ok(r.out.startsWith('{\n    "_meta": {\n        "hostvars": {\n            "bastion": {\n'), r.out);
  assert.ok(r.out.indexOf('"primary": {') < r.out.indexOf('"redis": {'));
});

test('--graph draws the tree like ansible-inventory: child groups, then hosts, sorted', async () => {
  const r = await run(['--graph', '-i', inventory()]);
  assert.is(r.code, 0);
  assert.is(
    r.out,
    [
      '@all:',
      '  |--@empty:',
      '  |--@redis:',
      '  |  |--@primary:',
      '  |  |  |--node-1',
      '  |  |--node-1',
      '  |  |--node-2',
      '  |--@ungrouped:',
      '  |  |--bastion',
      '',
    ].join('\n'),
  );
  const sub = await run(['--graph', 'redis', '-i', inventory()]);
  assert.is(sub.out, '@redis:\n  |--@primary:\n  |  |--node-1\n  |--node-1\n  |--node-2\n');
});

test("--host prints the host's merged vars", async () => {
  const r = await run(['-i', inventory(), '--host', 'node-2']);
  assert.is(r.code, 0);
  assert.equal(JSON.parse(r.out), { ansible_host: '127.0.1.2', ansible_user: 'ubuntu', redis_port: 6379 });
});

test('secret values print masked', async () => {
  registerSecret('s3cret-redis-pass');
  const dir = writeTree({ 'h.yml': 'all:\n  hosts:\n    n1:\n      redis_password: s3cret-redis-pass\n' });
  for (const mode of [['--list'], ['--host', 'n1']]) {
    const r = await run(['-i', join(dir, 'h.yml'), ...mode]);
    assert.is(r.code, 0);
    assert.not.match(r.out, 's3cret');
    assert.match(r.out, '"redis_password": "********"');
  }
});

test('a vault-encrypted group_vars file opens with --vault-password-file; its values print masked', async () => {
  const password = 'inventory-test-vault-password';
  const dir = writeTree({
    'inv/hosts.yml': 'all:\n  hosts:\n    n1:\n',
    'inv/group_vars/all/vault.yml': encryptVault('redis_admin_password: Adm1n-Vaulted-Passw0rd\nport: 46379\n', password),
    'pw': password + '\n',
  });
  try {
    const r = await run(['-i', join(dir, 'inv'), '--host', 'n1', '--vault-password-file', join(dir, 'pw')]);
    assert.is(r.code, 0, r.err);
    // Every vault scalar is a secret, numbers too.
    assert.equal(JSON.parse(r.out), { port: '********', redis_admin_password: '********' });
    const saved = process.env.RPLAY_VAULT_PASSWORD_FILE;
    delete process.env.RPLAY_VAULT_PASSWORD_FILE;
    const without = await run(['-i', join(dir, 'inv'), '--list']);
    if (saved !== undefined) process.env.RPLAY_VAULT_PASSWORD_FILE = saved;
    assert.is(without.code, 1);
    assert.match(without.err, `vault.yml is encrypted; give --vault-password-file`);
  } finally {
    setVaultDecrypter(undefined);
  }
});

test('bad input exits 1 with the reason on stderr and nothing on stdout', async () => {
  const dir = writeTree({ 'bad.yml': 'all:\n  children:\n    redis:\n      vars: [1]\n' });
  const bad = await run(['-i', join(dir, 'bad.yml'), '--list']);
  assert.is(bad.code, 1);
  assert.is(bad.out, '');
  assert.is(bad.err, `rplay inventory: ${join(dir, 'bad.yml')}:4:7: all.children.redis.vars: 'vars' must be a mapping\n`);

  const unknownHost = await run(['-i', inventory(), '--host', 'nope']);
  assert.equal([unknownHost.code, unknownHost.err], [1, "rplay inventory: host 'nope' is not in the inventory\n"]);

  for (const argv of [['--list'], ['-i', 'x', '--list', '--graph'], ['-i', 'x'], ['-i', 'x', '--lst']]) {
    const r = await run(argv);
    assert.is(r.code, 1, argv.join(' '));
    assert.match(r.err, 'usage: rplay inventory -i INVENTORY');
  }
});

test.run();
