// What a user sees when something is wrong: bad input exits 1 before any host is touched; a failed
// task exits 2, an unreachable host 4; host keys are checked; a handler owed by a failed run is not
// lost; a vault secret reaches the host's file and nothing else.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { encryptVault } from '../../runner/vault/vault.js';
import { startLab, type Lab } from '../lab-fixture.js';
import { snapshot } from '../support/host-snapshot.js';
import { rplay, rplayJson, tasksWith } from '../support/rplay-cli.js';

const test = suite('engine errors on the lab');
let lab: Lab;
const fx = (name: string): string => `test/fixtures/playbooks/${name}`;
const root = (host: string): string => join(lab.dir, 'hosts', host, 'root');
const env = (): Record<string, string> => ({ RPLAY_STATE_DIR: join(lab.dir, 'controller-state') });

test.before(async () => {
  lab = await startLab({ hosts: 3, prefix: '127.0.12' });
});
test.after(async () => {
  await lab?.down();
});

test('an unknown module is refused with file:line:col and a suggestion; no host is touched', async () => {
  const before = snapshot(root('node-1'));
  const r = await rplay([fx('typo.yml'), '-i', lab.inventoryPath], { env: env() });
  assert.is(r.code, 1);
  assert.match(r.stderr, /typo\.yml:8:7: task "Install redis": module 'aptt' unknown \(did you mean 'apt'\?\)/);
  assert.is(r.stdout, '');
  assert.equal(snapshot(root('node-1')), before);
});

test('a decimal file mode is refused as ambiguous', async () => {
  const r = await rplay([fx('mode-decimal.yml'), '-i', lab.inventoryPath], { env: env() });
  assert.is(r.code, 1);
  assert.match(r.stderr, /mode-decimal\.yml:6:\d+: .*640.*0640/);
});

test('an undefined variable fails the task, naming the variable, the task and where it is', async () => {
  const r = await rplayJson([fx('undefined-var.yml'), '-i', lab.inventoryPath], { env: env() });
  assert.is(r.code, 2);
  const msg = r.json.plays[0]!.tasks[0]!.results['node-1']!.msg ?? '';
  assert.match(msg, /undefined-var\.yml:5:\d+: task "Say something": undefined variable 'redis_prot'/);
});

test('become to a missing user is a clear failure (exit 2)', async () => {
  const r = await rplayJson([fx('become-user.yml'), '-i', lab.inventoryPath, '--limit', 'node-1'], { env: env() });
  assert.is(r.code, 2);
  assert.match(r.json.plays[0]!.tasks[0]!.results['node-1']!.msg ?? '', /become failed on node-1: .*nosuchuser/);
});

test('a handler notified in a failed run still runs on the next run, once', async () => {
  const first = await rplayJson([fx('handler-after-failure.yml'), '-i', lab.inventoryPath, '-e', 'fail_later=true'], { env: env() });
  assert.is(first.code, 2);
  assert.ok(!existsSync(join(root('node-1'), 'srv/restarts')), 'the handler must not run after a failure');
  const second = await rplayJson([fx('handler-after-failure.yml'), '-i', lab.inventoryPath, '-e', 'fail_later=false'], { env: env() });
  assert.is(second.code, 0);
  assert.equal(tasksWith(second.json, 'node-1', 'ok'), ['Config']);
  assert.equal(tasksWith(second.json, 'node-1', 'changed'), ['Restart app']);
  assert.is(readFileSync(join(root('node-1'), 'srv/restarts'), 'utf8'), 'restarted\n');
  const third = await rplayJson([fx('handler-after-failure.yml'), '-i', lab.inventoryPath, '-e', 'fail_later=false'], { env: env() });
  assert.is(third.code, 0);
  assert.equal(tasksWith(third.json, 'node-1', 'changed'), []);
  assert.is(readFileSync(join(root('node-1'), 'srv/restarts'), 'utf8'), 'restarted\n');
});

test('a vault secret lands in the host file and in no output, even with -vv --diff', async () => {
  const password = 'Zq8-vault-secret-7Kp2mX';
  const vaultPass = join(lab.dir, 'vault-pass');
  writeFileSync(vaultPass, 'correct horse battery staple\n');
  const vaultFile = join(lab.dir, 'secret.vault.yml');
  writeFileSync(vaultFile, encryptVault(`app_password: ${password}\n`, 'correct horse battery staple'));
  const args = [fx('secret.yml'), '-i', lab.inventoryPath, '-e', `secret_vars_file=${vaultFile}`, '--vault-password-file', vaultPass, '-vv', '--diff'];
  for (const extra of [[], ['--json'], ['--check']]) {
    const r = await rplay([...args, ...extra], { env: env() });
    assert.is(r.code, 0, r.stderr);
    assert.not.ok(r.stdout.includes(password) || r.stderr.includes(password), `secret printed with ${extra.join(' ')}`);
  }
  assert.is(readFileSync(join(root('node-2'), 'srv/secret.conf'), 'utf8'), `password ${password}\n`);
  const noPass = await rplay([fx('secret.yml'), '-i', lab.inventoryPath, '-e', `secret_vars_file=${vaultFile}`], { env: { ...env(), RPLAY_VAULT_PASSWORD_FILE: '' } });
  assert.is(noPass.code, 1);
  assert.match(noPass.stderr, /secret\.vault\.yml is encrypted/);
});

test('an unknown or changed host key is refused, naming the host and the file; other hosts carry on', async () => {
  const kh = readFileSync(lab.knownHostsFile, 'utf8').split('\n').filter(Boolean);
  const node1 = lab.hosts[0]!.address;
  const node2 = lab.hosts[1]!.address;
  const forged = kh.find((l) => l.startsWith(`${node2} `))!.replace(/^\S+/, node1);
  const badKh = join(lab.dir, 'known_hosts.bad');
  writeFileSync(badKh, [forged, ...kh.filter((l) => !l.startsWith(`${node1} `) && !l.startsWith(`${node2} `))].join('\n') + '\n');
  const inv = join(lab.dir, 'bad-keys.yml');
  writeFileSync(inv, `plugin: rplay_lab\nlab_dir: ${JSON.stringify(lab.dir)}\n`);
  const r = await rplayJson(['playbooks/demo.yml', '-i', inv, '-e', `rplay_known_hosts_file=${badKh}`, '--check'], { env: env() });
  assert.is(r.code, 4);
  const first = r.json.plays[0]!.tasks[0]!.results;
  assert.is(first['node-1']!.status, 'unreachable');
  assert.match(first['node-1']!.msg ?? '', /host key for node-1 .* CHANGED .*known_hosts\.bad:1/);
  assert.is(first['node-2']!.status, 'unreachable');
  assert.match(first['node-2']!.msg ?? '', /host key for node-2 .* unknown .*known_hosts\.bad/);
  assert.is(first['node-3']!.status, 'ok');
});

test('serial: 1 with the first node failing leaves the other nodes byte for byte untouched and starts no later play (exit 2)', async () => {
  const before = ['node-2', 'node-3'].map((h) => snapshot(root(h)));
  const r = await rplayJson([fx('serial-stop.yml'), '-i', lab.inventoryPath, '-e', 'fail_on=node-1'], { env: env() });
  assert.is(r.code, 2);
  assert.equal(['node-2', 'node-3'].map((h) => snapshot(root(h))), before);
  assert.not.ok(existsSync(join(root('node-1'), 'srv/stopped')));
  assert.equal(r.json.plays.map((p) => p.name), ['Roll']);
  assert.equal(r.json.stats['node-2'], { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0 });
  assert.match(r.stderr, /play "Roll", batch 1 of 3: every host of the batch failed: the run stops here/);
});

test('an unreachable host is reported (exit 4) and the others carry on', async () => {
  await lab.stop('node-3');
  try {
    const r = await rplayJson([fx('handler-after-failure.yml'), '-i', lab.inventoryPath, '-e', 'fail_later=false'], { env: env() });
    assert.is(r.code, 4);
    assert.is(r.json.stats['node-3']!.unreachable, 1);
    assert.is(r.json.stats['node-1']!.failed, 0);
    assert.match(r.json.plays[0]!.tasks[0]!.results['node-3']!.msg ?? '', /cannot reach node-3|refused/i);
  } finally {
    await lab.start('node-3');
  }
});

test.run();
