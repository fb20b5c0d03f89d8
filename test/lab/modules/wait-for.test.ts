import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../../../modules/wait-for.js';
import { failsWith, moduleHost, planOn, type ModuleHost } from './module-host.js';

const t = suite<{ h: ModuleHost }>('wait_for on a lab host');
t.before(async (c) => {
  c.h = await moduleHost();
});
t.after(async (c) => {
  await c.h?.close();
});

/** gather → plan → apply, as the engine runs a task. */
async function run(h: ModuleHost, args: Parameters<typeof waitFor.plan>[0]) {
  const actual = await waitFor.gather(h.ctx(), args);
  const plan = waitFor.plan(args, actual);
  return { plan, applied: plan.changes.length ? await waitFor.apply?.(h.ctx(), args, plan, actual) : undefined };
}

t('waits, from the host, for a port that opens a second later; reports the time and no change', async ({ h }) => {
  // SIGHUP ignored before the fork: the session hangs up what a command leaves behind.
  await h.check(`trap '' HUP; (sleep 1; exec redis-server --port 7002 --bind "$1" --save '' --appendonly no) > /dev/null 2>&1 &`, [h.address]);
  const { plan, applied } = await run(h, { host: h.address, port: 7002, timeout: 20 });
  assert.equal(plan.changes, [{ description: `wait up to 20 s for ${h.address}:7002 to be started` }]);
  assert.ok(applied);
  assert.is(applied.changed, false);
  const elapsed = applied.result?.elapsed as number;
  assert.ok(elapsed >= 0.5 && elapsed < 10, `elapsed ${elapsed}`);
  assert.is(applied.msg, `${h.address}:7002 started after ${elapsed} s`);
  assert.is((await planOn(waitFor, h.ctx(), { host: h.address, port: 7002 })).msg, `${h.address}:7002 is started`);
});

t('state stopped: waits until the listener is gone', async ({ h }) => {
  await h.check(`trap '' HUP; (sleep 1; redis-cli -h "$1" -p 7002 shutdown nosave) > /dev/null 2>&1 &`, [h.address]);
  const { applied } = await run(h, { host: h.address, port: 7002, state: 'stopped', timeout: 20 });
  assert.match(String(applied?.msg), new RegExp(`^${h.address.replace(/\./g, '\\.')}:7002 stopped after \\d+(\\.\\d)? s$`));
  assert.is((await h.check('redis-cli -h "$1" -p 7002 ping 2>&1 || true', [h.address])).stdout.includes('PONG'), false);
});

t('a port that never opens: a timeout failure after about the timeout', async ({ h }) => {
  const t0 = Date.now();
  await failsWith(run(h, { host: h.address, port: 7003, timeout: 1 }), new RegExp(`^timeout: ${h.address.replace(/\./g, '\\.')}:7003 still not started after 1(\\.\\d)? s$`));
  assert.ok(Date.now() - t0 < 5000);
});

t.run();
