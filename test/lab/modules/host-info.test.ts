import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assert as assertModule } from '../../../modules/assert.js';
import { ping } from '../../../modules/ping.js';
import { setup } from '../../../modules/setup.js';
import { checkPlan } from '../../support/converge.js';
import { failsWith, moduleHost, type ModuleHost } from './module-host.js';

const t = suite<{ h: ModuleHost }>('ping, setup and assert on a lab host');
t.before(async (c) => {
  c.h = await moduleHost();
});
t.after(async (c) => {
  await c.h?.close();
});

t('ping: pong, with and without become', async ({ h }) => {
  assert.is((await checkPlan(ping, h.ctx(), {})).msg, 'pong');
  assert.is((await checkPlan(ping, h.ctx({ become: false }), {})).msg, 'pong');
});

t('setup: the host own facts in one round trip, nothing changed', async ({ h }) => {
  const p = await checkPlan(setup, h.ctx(), {});
  assert.equal(p.changes, []);
  const os = (await h.check('. /etc/os-release; echo "$VERSION_ID"')).stdout.trim();
  assert.is(p.setVars?.ansible_hostname, h.name);
  assert.is(p.setVars?.ansible_distribution, 'Debian');
  assert.is(p.setVars?.ansible_distribution_version, os);
  assert.is(p.setVars?.has_systemd, false);
  const addrs = p.setVars?.ansible_all_ipv4_addresses as string[];
  assert.ok(Array.isArray(addrs) && addrs.every((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a) && !a.startsWith('127.')));
});

t('assert over gathered facts: passes, or fails naming the expression', async ({ h }) => {
  const facts = (await checkPlan(setup, h.ctx(), {})).setVars ?? {};
  const ctx = h.ctx({ vars: facts });
  assert.is((await checkPlan(assertModule, ctx, { that: ['ansible_distribution == "Debian"', 'not has_systemd'] })).msg, 'all assertions passed');
  await failsWith(checkPlan(assertModule, ctx, { that: 'has_systemd', fail_msg: 'needs systemd' }), /^needs systemd \(assertion failed: has_systemd\)$/);
});

t.run();
