import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { service, type ServiceOp } from '../../../modules/service.js';
import { withBecome } from '../../../runner/connection/become.js';
import type { Connection } from '../../../runner/connection/connection.js';
import { apply, changedThenNot, checkPlan, overTheWire } from '../../support/converge.js';
import { descriptions, failsWith, moduleHost, type ModuleHost } from './module-host.js';

// Lab hosts have no systemd: the lab installs its systemctl stand-in (lab/systemctl.ts) in each
// host's /usr/local/sbin; the module runs systemctl as it would on any host.
const t = suite<{ h: ModuleHost }>('service on a lab host (the lab\'s systemctl)');

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

t('the lab\'s systemctl is what the login user and sudo find; a unit not written yet is "not there yet", named', async ({ h }) => {
  await failsWith(checkPlan(service, h.ctx(), { name: 'nosuch', state: 'started' }), /^service nosuch: unit nosuch\.service is not installed$/);
  assert.is((await h.conn.sh('command -v systemctl', [])).stdout, '/usr/local/sbin/systemctl\n');
  assert.is((await h.check('command -v systemctl')).stdout, '/usr/local/sbin/systemctl\n');
  assert.equal((await service.gather(h.ctx({ become: false }), { name: 'rtest', state: 'started' })).exists, true);
});

t('a host without systemctl is refused, named, before anything runs', async ({ h }) => {
  // The same host, its sessions' PATH holding no systemctl (as a host without systemd has none).
  const c = h.conn;
  const bare: Connection = {
    host: c.host,
    run: (argv, o) => c.run(argv, o),
    sh: (script, args, o) => c.sh(`PATH=/nonexistent\n${script}`, args, o),
    writeFile: (path, data, o) => c.writeFile(path, data, o),
    readFile: (path, o) => c.readFile(path, o),
    forwardOut: (host, port) => c.forwardOut(host, port),
    close: () => c.close(),
  };
  const ctx = { ...h.ctx(), conn: bare };
  await failsWith(apply(service, ctx, { name: 'rtest', state: 'started' }), new RegExp(`^no systemd \\(systemctl\\) on ${h.name}: the service module manages systemd units$`));
  assert.is(await daemon(h), 'down');
});

t('started + enabled: enable then start, as the unit says (user, env); then ok', async ({ h }) => {
  const args = { name: 'rtest', state: 'started' as const, enabled: true };
  const { planned: first } = await changedThenNot(service, h.ctx(), args);
  assert.equal(descriptions(first), ['enable rtest', 'start rtest']);
  assert.is((await checkPlan(service, h.ctx(), args)).msg, 'rtest running, enabled');
  assert.is(await daemon(h), 'ubuntu redis-server\nPONG');
  assert.is((await h.check('readlink /etc/systemd/system/multi-user.target.wants/rtest.service')).stdout, '/etc/systemd/system/rtest.service\n');
});

t('killed by hand: the next run starts it again', async ({ h }) => {
  await h.check('kill -9 "$(cat /run/rplay-svc/rtest.pid)"; sleep 0.2');
  assert.is(await daemon(h), 'down');
  // What the module sends is systemctl and nothing of the lab's stand-in (no init emulator travels).
  const sent: string[] = [];
  const c = h.conn;
  const recording: Connection = {
    host: c.host,
    run: (argv, o) => c.run(argv, o),
    sh: (script, args, o) => (sent.push(script, ...(args ?? [])), c.sh(script, args, o)),
    writeFile: (path, data, o) => c.writeFile(path, data, o),
    readFile: (path, o) => c.readFile(path, o),
    forwardOut: (host, port) => c.forwardOut(host, port),
    close: () => c.close(),
  };
  const { planned: first } = await changedThenNot(service, { ...h.ctx(), conn: withBecome(recording, { become: true, becomeUser: 'root' }) }, { name: 'rtest', state: 'started' });
  assert.equal(descriptions(first), ['start rtest']);
  assert.ok(sent.length >= 3);
  for (const text of sent) assert.not.match(text, /start-stop-daemon|rplay-svc|pidfile/, `sent to the host: ${text}`);
  assert.ok(sent.some((x) => x.includes('systemctl start -- "$1.service"')));
  assert.is(await daemon(h), 'ubuntu redis-server\nPONG');
});

t('restarted always changes and gives a new process; reloaded runs ExecReload with MAINPID', async ({ h }) => {
  const before = (await h.check('cat /run/rplay-svc/rtest.pid')).stdout;
  const args = { name: 'rtest', state: 'restarted' as const };
  assert.equal(descriptions((await apply(service, h.ctx(), args)).planned), ['restart rtest']);
  const after = (await h.check('cat /run/rplay-svc/rtest.pid')).stdout;
  assert.is.not(after, before);
  assert.is(await daemon(h), 'ubuntu redis-server\nPONG');
  assert.equal(descriptions(await checkPlan(service, h.ctx(), args)), ['restart rtest']);

  const reload = { name: 'rtest', state: 'reloaded' as const };
  await apply(service, h.ctx(), reload);
  assert.is((await h.check('cat /tmp/reloaded')).stdout, `reload ${after.trim()} hello there\n`);
});

t('the host powered off and on: the enabled service comes back with it', async ({ h }) => {
  await h.powerCycle();
  assert.is(await daemon(h), 'ubuntu redis-server\nPONG');
  assert.equal((await checkPlan(service, h.ctx(), { name: 'rtest', state: 'started', enabled: true })).changes, []);
});

t('stopped + disabled: process gone, link gone, then ok', async ({ h }) => {
  const { planned: first } = await changedThenNot(service, h.ctx(), { name: 'rtest', state: 'stopped', enabled: false });
  assert.equal(descriptions(first), ['disable rtest', 'stop rtest']);
  assert.is(await daemon(h), 'down');
  assert.is((await h.check('ls -A /etc/systemd/system/multi-user.target.wants')).stdout, '');
});

t('Type=forking: tracked through its PIDFile=, started and stopped', async ({ h }) => {
  await h.check(`printf '%s' "$1" > /etc/systemd/system/rfork.service`, [
    `[Service]\nType=forking\nUser=ubuntu\nPIDFile=/tmp/rfork.pid\nExecStart=/usr/bin/redis-server --port 7004 --bind ${h.address} --daemonize yes --pidfile /tmp/rfork.pid --save ""\n`,
  ]);
  await changedThenNot(service, h.ctx(), { name: 'rfork', state: 'started' });
  const ping = () => h.check('redis-cli -h "$1" -p 7004 ping 2>&1; cmp -s /tmp/rfork.pid /run/rplay-svc/rfork.pid && echo tracked', [h.address]);
  assert.is((await ping()).stdout, 'PONG\ntracked\n');
  await changedThenNot(service, h.ctx(), { name: 'rfork', state: 'stopped' });
  assert.match((await ping()).stdout, /Connection refused/);
});

t('a daemon that dies at once and a missing unit are clear failures', async ({ h }) => {
  await h.check(`printf '[Service]\\nExecStart=/usr/bin/redis-server --port 7001 --bind 192.0.2.1\\n' > /etc/systemd/system/bad.service`);
  const bad = { name: 'bad', state: 'started' as const };
  // What the daemon printed comes from journalctl, as on a systemd host.
  await failsWith(apply(service, h.ctx(), bad), /^service bad: start failed: systemctl: bad exited right after starting; see journalctl -u bad\.service\n[^]*Cannot assign requested address/);
  // A unit that vanishes between plan and apply: systemctl says where it looked.
  await h.check(`printf '[Service]\\nExecStart=/bin/true\\n' > /etc/systemd/system/gone.service`);
  const gone = { name: 'gone', state: 'started' as const };
  const ops = (await checkPlan(service, h.ctx(), gone)).changes.map((c) => c.op as ServiceOp);
  await h.check('rm /etc/systemd/system/gone.service');
  await failsWith(service.apply!(h.ctx(), overTheWire(ops) as ServiceOp[]), /^service gone: start failed: systemctl: unit gone\.service not found in \/etc\/systemd\/system, \/lib\/systemd\/system or \/usr\/lib\/systemd\/system$/);
});

t.run();
