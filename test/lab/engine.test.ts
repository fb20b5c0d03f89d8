// The engine end to end on three real lab hosts: the demo playbook converges, a re-run is changed=0,
// --check touches nothing, drift is reported exactly and put back, exit codes say what happened.
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startLab, type Lab } from '../lab-fixture.js';
import { snapshot } from '../support/host-snapshot.js';
import { onHost } from '../support/on-host.js';
import { rplay, rplayJson, tasksWith, totalChanged } from '../support/rplay-cli.js';

const test = suite('engine on the lab');
let lab: Lab;
let stateDir: string;
const env = (): Record<string, string> => ({ RPLAY_STATE_DIR: stateDir });
const root = (host: string): string => join(lab.dir, 'hosts', host, 'root');
const demo = (...extra: string[]): string[] => ['playbooks/demo.yml', '-i', lab.inventoryPath, ...extra];

test.before(async () => {
  lab = await startLab({ hosts: 3, prefix: '127.0.2' });
  stateDir = join(lab.dir, 'controller-state');
});
test.after(async () => {
  await lab?.down();
});

test('--check on fresh hosts reports what would change and changes nothing', async () => {
  const before = lab.hosts.map((h) => snapshot(root(h.name)));
  const r = await rplayJson(demo('--check'), { env: env() });
  assert.is(r.code, 0, r.stderr);
  assert.ok(totalChanged(r.json) > 0, 'check mode on fresh hosts must report changes');
  assert.ok(tasksWith(r.json, 'node-1', 'changed').includes('Config is rendered'));
  const after = lab.hosts.map((h) => snapshot(root(h.name)));
  assert.equal(after, before);
});

test('first run converges; the second run is changed=0', async () => {
  const first = await rplayJson(demo(), { env: env() });
  assert.is(first.code, 0, first.stdout + first.stderr);
  for (const h of lab.hosts) assert.ok(first.json.stats[h.name]!.changed > 0);
  assert.match(readFileSync(join(root('node-2'), 'srv/demo/redis.conf'), 'utf8'), /unixsocket \/run\/demo\/redis.sock/);
  const second = await rplayJson(demo(), { env: env() });
  assert.is(second.code, 0);
  assert.is(totalChanged(second.json), 0, JSON.stringify(second.json.stats));
  for (const h of lab.hosts) assert.is(second.json.stats[h.name]!.failed, 0);
});

test('drift: --check --diff names exactly the drifted tasks, a run fixes them, the next is changed=0', async () => {
  const conf = join(root('node-1'), 'srv/demo/redis.conf');
  writeFileSync(conf, readFileSync(conf, 'utf8').replace('maxmemory 32mb', 'maxmemory 999mb'));
  chmodSync(join(root('node-2'), 'srv/demo/redis.conf'), 0o644);
  const killed = await onHost(lab, 'node-3', 'kill "$(cat /run/rplay-svc/rplay-demo.pid)"');
  assert.is(killed.rc, 0, killed.stderr);

  const check = await rplayJson(demo('--check', '--diff', '--detailed-exitcode'), { env: env() });
  assert.is(check.code, 3, check.stderr);
  assert.equal(tasksWith(check.json, 'node-1', 'changed'), ['Config is rendered', 'Restart demo']);
  assert.equal(tasksWith(check.json, 'node-2', 'changed'), ['Config is rendered', 'Restart demo']);
  const d1 = check.json.plays[0]!.tasks.find((t) => t.name === 'Config is rendered')!.results['node-1']!;
  assert.match(d1.diff ?? '', /-maxmemory 999mb\n\+maxmemory 32mb/);
  assert.match(check.json.plays[0]!.tasks.find((t) => t.name === 'Config is rendered')!.results['node-2']!.msg ?? '', /0644.*0640/);
  assert.equal(readFileSync(conf, 'utf8').includes('999mb'), true, 'check mode must not fix anything');

  const fix = await rplayJson(demo(), { env: env() });
  assert.is(fix.code, 0);
  assert.not.match(readFileSync(conf, 'utf8'), /999mb/);
  assert.equal(tasksWith(check.json, 'node-3', 'changed'), ['Demo service is enabled and running']);
  const again = await rplayJson(demo('--detailed-exitcode'), { env: env() });
  assert.is(again.code, 0);
  assert.is(totalChanged(again.json), 0);
});

test('drift: a package removed by hand is reported by --check and installed again by a run', async () => {
  const pkg = (...extra: string[]) => rplayJson(['test/fixtures/playbooks/package.yml', '-i', lab.inventoryPath, '--limit', 'node-1', ...extra], { env: env() });
  const first = await pkg();
  assert.is(first.code, 0, first.stdout);
  const removed = await onHost(lab, 'node-1', 'DEBIAN_FRONTEND=noninteractive apt-get remove -y -o DPkg::Lock::Timeout=120 hello');
  assert.is(removed.rc, 0, removed.stderr);
  const check = await pkg('--check', '--detailed-exitcode');
  assert.is(check.code, 3);
  assert.match(check.json.plays[0]!.tasks[0]!.results['node-1']!.msg ?? '', /install hello/);
  assert.is((await onHost(lab, 'node-1', 'dpkg-query -W -f=\'${Status}\' hello')).stdout.includes('install ok installed'), false);
  const fix = await pkg();
  assert.is(fix.json.plays[0]!.tasks[0]!.results['node-1']!.status, 'changed');
  assert.match((await onHost(lab, 'node-1', 'dpkg-query -W -f=\'${Status}\' hello')).stdout, /install ok installed/);
  const again = await pkg('--detailed-exitcode');
  assert.is(again.code, 0);
});

test.run();
