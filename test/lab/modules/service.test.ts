import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { service } from '../../../modules/service.js';
import { converge, descriptions, failsWith, moduleHost, planOn, type ModuleHost } from './module-host.js';

const t = suite<{ h: ModuleHost }>('service (pidfile fallback) on a lab host');

const unit = (address: string) => `[Unit]
Description=test redis
[Service]
Type=simple
User=ubuntu
Group=ubuntu
WorkingDirectory=/tmp
Environment="GREETING=hello there"
ExecStart=-/usr/bin/redis-server --port 7001 --bind ${address} --save "" --appendonly no
ExecReload=/bin/sh -c 'echo "reload $MAINPID $GREETING" > /tmp/reloaded'
[Install]
WantedBy=multi-user.target
`;

t.before(async (c) => {
  c.h = await moduleHost();
  await c.h.check(`printf '%s' "$1" > /etc/systemd/system/rtest.service`, [unit(c.h.address)]);
});
t.after(async (c) => {
  await c.h?.close();
});

/** pid, user and whether redis answers, as seen on the host. */
async function daemon(h: ModuleHost): Promise<string> {
  const r = await h.check(
    `pid=$(cat /run/rplay-svc/rtest.pid 2>/dev/null) && [ -d /proc/$pid ] && ps -o user= -o comm= -p "$pid" && redis-cli -h "$1" -p 7001 ping || echo down`,
    [h.address],
  );
  return r.stdout.replace(/ +/g, ' ').trim();
}

t('no systemd here: the fallback is used, and a unit not written yet is "not there yet", named', async ({ h }) => {
  await failsWith(planOn(service, h.ctx(), { name: 'nosuch', state: 'started' }), /^service nosuch: unit nosuch\.service is not installed$/);
  assert.equal((await service.gather(h.ctx(), { name: 'rtest', state: 'started' })).init, 'fallback');
});

t('started + enabled: enable then start, as the unit says (user, env); then ok', async ({ h }) => {
  const { first, second } = await converge(service, h.ctx(), { name: 'rtest', state: 'started', enabled: true });
  assert.equal(descriptions(first), ['enable rtest', 'start rtest']);
  assert.is(second.msg, 'rtest running, enabled');
  assert.is(await daemon(h), 'ubuntu redis-server\nPONG');
  assert.is((await h.check('readlink /etc/systemd/system/multi-user.target.wants/rtest.service')).stdout, '/etc/systemd/system/rtest.service\n');
});

t('killed by hand: the next run starts it again', async ({ h }) => {
  await h.check('kill -9 "$(cat /run/rplay-svc/rtest.pid)"; sleep 0.2');
  assert.is(await daemon(h), 'down');
  const { first } = await converge(service, h.ctx(), { name: 'rtest', state: 'started' });
  assert.equal(descriptions(first), ['start rtest']);
  assert.is(await daemon(h), 'ubuntu redis-server\nPONG');
});

t('restarted always changes and gives a new process; reloaded runs ExecReload with MAINPID', async ({ h }) => {
  const before = (await h.check('cat /run/rplay-svc/rtest.pid')).stdout;
  const args = { name: 'rtest', state: 'restarted' as const };
  const actual = await service.gather(h.ctx(), args);
  const p = service.plan(args, actual);
  assert.equal(descriptions(p), ['restart rtest']);
  await service.legacyApply?.(h.ctx(), args, p, actual);
  const after = (await h.check('cat /run/rplay-svc/rtest.pid')).stdout;
  assert.is.not(after, before);
  assert.is(await daemon(h), 'ubuntu redis-server\nPONG');
  assert.equal(descriptions(await planOn(service, h.ctx(), args)), ['restart rtest']);

  const reload = { name: 'rtest', state: 'reloaded' as const };
  const ra = await service.gather(h.ctx(), reload);
  await service.legacyApply?.(h.ctx(), reload, service.plan(reload, ra), ra);
  assert.is((await h.check('cat /tmp/reloaded')).stdout, `reload ${after.trim()} hello there\n`);
});

t('the host powered off and on: the enabled service comes back with it', async ({ h }) => {
  await h.powerCycle();
  assert.is(await daemon(h), 'ubuntu redis-server\nPONG');
  assert.equal((await planOn(service, h.ctx(), { name: 'rtest', state: 'started', enabled: true })).changes, []);
});

t('stopped + disabled: process gone, link gone, then ok', async ({ h }) => {
  const { first } = await converge(service, h.ctx(), { name: 'rtest', state: 'stopped', enabled: false });
  assert.equal(descriptions(first), ['disable rtest', 'stop rtest']);
  assert.is(await daemon(h), 'down');
  assert.is((await h.check('ls -A /etc/systemd/system/multi-user.target.wants')).stdout, '');
});

t('Type=forking: tracked through its PIDFile=, started and stopped', async ({ h }) => {
  await h.check(`printf '%s' "$1" > /etc/systemd/system/rfork.service`, [
    `[Service]\nType=forking\nUser=ubuntu\nPIDFile=/tmp/rfork.pid\nExecStart=/usr/bin/redis-server --port 7004 --bind ${h.address} --daemonize yes --pidfile /tmp/rfork.pid --save ""\n`,
  ]);
  await converge(service, h.ctx(), { name: 'rfork', state: 'started' });
  const ping = () => h.check('redis-cli -h "$1" -p 7004 ping 2>&1; cmp -s /tmp/rfork.pid /run/rplay-svc/rfork.pid && echo tracked', [h.address]);
  assert.is((await ping()).stdout, 'PONG\ntracked\n');
  await converge(service, h.ctx(), { name: 'rfork', state: 'stopped' });
  assert.match((await ping()).stdout, /Connection refused/);
});

t('a daemon that dies at once and a missing unit are clear failures', async ({ h }) => {
  await h.check(`printf '[Service]\\nExecStart=/usr/bin/redis-server --port 7001 --bind 192.0.2.1\\n' > /etc/systemd/system/bad.service`);
  const bad = { name: 'bad', state: 'started' as const };
  const a = await service.gather(h.ctx(), bad);
  await failsWith(Promise.resolve(service.legacyApply?.(h.ctx(), bad, service.plan(bad, a), a)), /^service bad: start failed: svc: bad exited right after starting; last lines of \/var\/log\/rplay-svc\/bad\.log:\n[^]*Cannot assign requested address/);
  // A unit that vanishes between gather and apply: the fallback says where it looked.
  await h.check(`printf '[Service]\\nExecStart=/bin/true\\n' > /etc/systemd/system/gone.service`);
  const gone = { name: 'gone', state: 'started' as const };
  const g = await service.gather(h.ctx(), gone);
  const p = service.plan(gone, g);
  await h.check('rm /etc/systemd/system/gone.service');
  await failsWith(Promise.resolve(service.legacyApply?.(h.ctx(), gone, p, g)), /^service gone: start failed: svc: unit gone\.service not found in \/etc\/systemd\/system, \/lib\/systemd\/system or \/usr\/lib\/systemd\/system$/);
});

t.run();
