import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../../../modules/wait-for.js';
import { apply, changedThenNot, checkPlan } from '../../support/converge.js';
import { rplayJson } from '../../support/rplay-cli.js';
import { failsWith, moduleHost, type ModuleHost } from './module-host.js';

const t = suite<{ h: ModuleHost }>('wait_for on a lab host');
t.before(async (c) => {
  c.h = await moduleHost();
});
t.after(async (c) => {
  await c.h?.close();
});

t('waits, from the host, for a port that opens a second later; reports the time and no change', async ({ h }) => {
  // SIGHUP ignored before the fork: the session hangs up what a command leaves behind.
  await h.check(`trap '' HUP; (sleep 1; exec redis-server --port 7002 --bind "$1" --save '' --appendonly no) > /dev/null 2>&1 &`, [h.address]);
  const { planned, result: applied } = await changedThenNot(waitFor, h.ctx(), { host: h.address, port: 7002, timeout: 20 });
  assert.equal(planned.changes, [
    {
      description: `wait up to 20 s for ${h.address}:7002 to be started`,
      waitOnly: true,
      op: { kind: 'wait', host: h.address, port: 7002, state: 'started', timeoutMs: 20000, delaySeconds: 0 },
    },
  ]);
  assert.ok(applied);
  const elapsed = applied.result?.elapsed as number;
  assert.ok(elapsed >= 0.5 && elapsed < 10, `elapsed ${elapsed}`);
  assert.is(applied.msg, `${h.address}:7002 started after ${elapsed} s`);
  assert.is((await checkPlan(waitFor, h.ctx(), { host: h.address, port: 7002 })).msg, `${h.address}:7002 is started`);
});

t('state stopped: waits until the listener is gone', async ({ h }) => {
  await h.check(`trap '' HUP; (sleep 1; redis-cli -h "$1" -p 7002 shutdown nosave) > /dev/null 2>&1 &`, [h.address]);
  const { result: applied } = await changedThenNot(waitFor, h.ctx(), { host: h.address, port: 7002, state: 'stopped', timeout: 20 });
  assert.match(String(applied?.msg), new RegExp(`^${h.address.replace(/\./g, '\\.')}:7002 stopped after \\d+(\\.\\d)? s$`));
  assert.is((await h.check('redis-cli -h "$1" -p 7002 ping 2>&1 || true', [h.address])).stdout.includes('PONG'), false);
});

t('a port that never opens: a timeout failure after about the timeout', async ({ h }) => {
  const t0 = Date.now();
  await failsWith(apply(waitFor, h.ctx(), { host: h.address, port: 7003, timeout: 1 }), new RegExp(`^timeout: ${h.address.replace(/\./g, '\\.')}:7003 still not started after 1(\\.\\d)? s$`));
  assert.ok(Date.now() - t0 < 5000);
});

t('through the engine: a task that waited is ok, not changed; --check of a closed port would only wait: ok', async ({ h }) => {
  const waits = join(h.lab.dir, 'wait.yml');
  const task = `    - name: Port is open\n      wait_for: { host: "${h.address}", port: 7004, timeout: 20 }\n`;
  writeFileSync(waits, `- hosts: all\n  gather_facts: false\n  tasks:\n${task}`);
  const env = { RPLAY_STATE_DIR: join(h.lab.dir, 'controller-state') };
  const check = await rplayJson([waits, '-i', h.lab.inventoryPath, '--check', '--detailed-exitcode'], { env });
  assert.is(check.code, 0, check.stdout + check.stderr);
  assert.equal(check.json.plays[0]!.tasks[0]!.results[h.name], { status: 'ok', msg: `wait up to 20 s for ${h.address}:7004 to be started` });
  // The task before starts the listener a second later, so the wait really waits.
  const starts = join(h.lab.dir, 'start-and-wait.yml');
  const start = `    - name: Start a listener soon\n      shell: trap '' HUP; (sleep 1; exec redis-server --port 7004 --bind ${h.address} --save '' --appendonly no) > /dev/null 2>&1 &\n`;
  writeFileSync(starts, `- hosts: all\n  gather_facts: false\n  become: true\n  tasks:\n${start}${task}`);
  const run = await rplayJson([starts, '-i', h.lab.inventoryPath], { env });
  assert.is(run.code, 0, run.stdout + run.stderr);
  const waited = run.json.plays[0]!.tasks[1]!.results[h.name]!;
  assert.is(waited.status, 'ok');
  assert.match(waited.msg ?? '', new RegExp(`^${h.address.replace(/\./g, '\\.')}:7004 started after \\d+(\\.\\d)? s$`), waited.msg);
  // ok counts every task that did not fail; changed only the shell task.
  assert.equal(run.json.stats[h.name], { ok: 2, changed: 1, failed: 0, skipped: 0, unreachable: 0 });
  await h.check('redis-cli -h "$1" -p 7004 shutdown nosave || true', [h.address]);
});

t.run();
