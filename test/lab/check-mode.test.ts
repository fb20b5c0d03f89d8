// Check mode is exact in failure cases too, on three lab hosts with redis.yml: on fresh hosts and
// with one Redis instance stopped by hand, --check exits 3 with nothing FAILED, and what it reports
// changed is what the following run changes; a wrong admin password is a failure in --check (exit 2,
// Redis's refusal), never "would change".
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startLab, type Lab } from '../lab-fixture.js';
import { snapshot } from '../support/host-snapshot.js';
import { onHost } from '../support/on-host.js';
import { rplayJson, tasksWith, type JsonRun } from '../support/rplay-cli.js';

const test = suite('check mode on redis.yml: would change, or failed');
let lab: Lab;
const env = (): Record<string, string> => ({ RPLAY_STATE_DIR: join(lab.dir, 'controller-state') });
const redis = (...extra: string[]) => rplayJson(['playbooks/redis.yml', '-i', lab.inventoryPath, ...extra], { env: env() });
const root = (host: string): string => join(lab.dir, 'hosts', host, 'root');

/** Per host, the tasks reported changed (handlers included), in order. */
function changedOn(run: JsonRun): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const h of lab.hosts) {
    const names = tasksWith(run, h.name, 'changed');
    if (names.length) out[h.name] = names;
  }
  return out;
}

function failedTasks(run: JsonRun): string[] {
  return lab.hosts.flatMap((h) => tasksWith(run, h.name, 'failed').map((t) => `${h.name}: ${t}`));
}

test.before(async () => {
  lab = await startLab({ hosts: 3, prefix: '127.0.31' });
});
test.after(async () => {
  await lab?.down();
});

test('fresh hosts: --check exits 3 with nothing FAILED, touches nothing, and the run changes what it said', async () => {
  const before = lab.hosts.map((h) => snapshot(root(h.name)));
  const check = await redis('--check', '--detailed-exitcode');
  assert.equal(failedTasks(check.json), [], check.stdout.slice(-3000));
  assert.is(check.code, 3, check.stderr);
  assert.not.match(check.stdout, /"status":"failed"|may change/);
  assert.equal(lab.hosts.map((h) => snapshot(root(h.name))), before, 'a check changes nothing');

  const run = await redis('--detailed-exitcode');
  assert.is(run.code, 3, run.stdout.slice(-3000) + run.stderr);
  console.log('    fresh: check', JSON.stringify(changedOn(check.json)), '\n    run', JSON.stringify(changedOn(run.json)));
  assert.equal(changedOn(check.json), changedOn(run.json));
  const again = await redis('--detailed-exitcode');
  assert.is(again.code, 0, JSON.stringify(changedOn(again.json)));
});

test('one instance stopped by hand: --check exits 3 with nothing FAILED; the run changes exactly those tasks; the re-run is changed=0', async () => {
  const killed = await onHost(lab, 'node-2', 'kill "$(cat /run/rplay-svc/redis-6380.pid)"');
  assert.is(killed.rc, 0, killed.stderr);
  const check = await redis('--check', '--detailed-exitcode');
  assert.equal(failedTasks(check.json), [], check.stdout.slice(-3000));
  assert.is(check.code, 3, check.stderr);
  const run = await redis('--detailed-exitcode');
  console.log('    down: check', JSON.stringify(changedOn(check.json)), '\n    run', JSON.stringify(changedOn(run.json)));
  assert.is(run.code, 3, run.stdout.slice(-3000) + run.stderr);
  assert.equal(changedOn(check.json), changedOn(run.json));
  const again = await redis('--detailed-exitcode');
  assert.is(again.code, 0, JSON.stringify(changedOn(again.json)));
});

test('a wrong admin password: --check exits 2 with Redis\'s refusal on every host, not "would change"', async () => {
  const check = await redis('--check', '--detailed-exitcode', '-e', 'redis_admin_password=not-the-admin-password-1234');
  assert.is(check.code, 2, check.stdout.slice(-3000));
  // The first task that logs in to Redis (a play in which every host failed ends the run there).
  const failed = check.json.plays.flatMap((p) => p.tasks).filter((t) => Object.values(t.results).some((r) => r.status === 'failed'));
  assert.ok(failed.length > 0, check.stdout.slice(-2000));
  for (const h of lab.hosts) {
    const r = failed[0]!.results[h.name];
    assert.is(r?.status, 'failed', JSON.stringify(r));
    assert.match(r?.msg ?? '', /^redis_\w+: cannot log in to 127\.0\.31\.\d+:63(79|80) as admin_user: WRONGPASS/, JSON.stringify(r));
  }
  assert.not.match(check.stdout, /would change \(/);
});

test.run();
