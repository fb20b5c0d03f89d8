// redis_acl on a real lab host with two real Redis instances: the file is written (hashes only,
// 0640 redis), then nothing to do; with Redis running, the shipped roles load and compare equal
// live; a user changed or added with ACL SETUSER is reported and put back; a file change is loaded
// live on every instance; a rule Redis rejects fails before anything is written. The shipped roles
// then do what they promise: app_user writes session keys and is refused FLUSHALL, dev_user reads
// but may not KEYS or write, default is off.
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Redis } from 'ioredis';
import { redisAcl } from '../../../modules/redis-acl.js';
import { service } from '../../../modules/service.js';
import type { Connection } from '../../../runner/connection/connection.js';
import { openRedis } from '../../../modules/redis/open-redis.js';
import { startLab, type Lab, type LabHost } from '../../lab-fixture.js';
import { changedThenNot } from '../../support/converge.js';
import { converge, descriptions, failsWith, planOn } from '../modules/module-host.js';
import { asRoot, connectHost, makePki, moduleContext, newPassword, prepareHost, renderUnit, shippedUsers, startRedis, type Pki } from './redis-lab.js';

const test = suite('redis_acl on a lab host');
const PORTS = [6379, 6380];
const passwords = { redis_app_password: newPassword(), redis_dev_password: newPassword(), redis_admin_password: newPassword(), redis_replication_password: newPassword() };
let lab: Lab;
let host: LabHost;
let conn: Connection;
let pki: Pki;
type Args = Parameters<typeof redisAcl.plan>[0];

const args = (over: Partial<Args> = {}): Args => ({
  users: shippedUsers(passwords),
  address: host.address,
  ports: PORTS,
  login_user: 'admin_user',
  login_password: passwords.redis_admin_password,
  tls: pki.admin,
  ...over,
});

function login(user: string, password: string, port = 6379): Promise<Redis> {
  return openRedis(conn, { host: host.address, port, user, password, tls: { ca: pki.read('ca.crt'), cert: pki.read('rplay-admin.crt'), key: pki.read('rplay-admin.key') } });
}

async function asAdmin<T>(port: number, fn: (c: Redis) => Promise<T>): Promise<T> {
  const c = await login('admin_user', passwords.redis_admin_password, port);
  try {
    return await fn(c);
  } finally {
    c.disconnect();
  }
}

test.before(async () => {
  lab = await startLab({ hosts: 1, prefix: '127.0.5' });
  host = lab.hosts[0] as LabHost;
  conn = await connectHost(lab, host);
  pki = makePki(lab.hosts);
  await prepareHost(conn, host, pki, PORTS, { user: 'replication_user', password: passwords.redis_replication_password });
});
test.after(async () => {
  await conn?.close();
  await lab?.down();
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
});

test('Redis not running: users.acl is written with hashes, 0640 redis, then nothing to do', async () => {
  const ctx = moduleContext(conn);
  const { first, second } = await converge(redisAcl, ctx, args());
  assert.equal(descriptions(first), ['create /etc/redis/users.acl (mode 0640, owner redis, group redis)']);
  assert.match(second.msg ?? '', /^\/etc\/redis\/users\.acl as wanted$/);
  const [stat, text] = (await asRoot(conn, 'stat -c "%a %U %G" /etc/redis/users.acl; cat /etc/redis/users.acl')).split(/\n(.*)/s) as [string, string];
  assert.is(stat, '640 redis redis');
  const hash = createHash('sha256').update(passwords.redis_app_password).digest('hex');
  assert.ok(text.startsWith(`user app_user on #${hash} ~session:* ~patient:* +get +set`), text);
  assert.ok(text.endsWith('user default off\n'), text);
  for (const p of Object.values(passwords)) assert.not.ok(text.includes(p), 'a password is in users.acl');
  assert.not.ok(/^#/m.test(text), 'comment line');
});

test('Redis running with the file: the shipped roles load and equal the file live (ok)', async () => {
  // :6379 started by hand, :6380 through its systemd unit (templates/redis.service.mustache), as user redis.
  await startRedis(conn, [6379]);
  await conn.writeFile('/etc/systemd/system/redis-6380.service', renderUnit(host, 6380), { mode: '0644', become: true });
  await changedThenNot(service, moduleContext(conn), { name: 'redis-6380', state: 'started' });
  assert.is(await asRoot(conn, 'ps -o user= -p "$(cat /run/redis/redis-6380.pid)"'), 'redis\n');
  const p = await planOn(redisAcl, moduleContext(conn), args());
  assert.equal(p.changes, []);
  assert.is(p.msg, '/etc/redis/users.acl as wanted; live on :6379, :6380');
});

test('live drift (ACL SETUSER) is reported per user and instance, and put back by ACL LOAD', async () => {
  await asAdmin(6379, (c) => c.call('ACL', 'SETUSER', 'dev_user', '+keys'));
  await asAdmin(6380, (c) => c.call('ACL', 'SETUSER', 'intruder', 'on', `>${newPassword()}`, '~*', '+@all'));
  const ctx = moduleContext(conn);
  const { first } = await converge(redisAcl, ctx, args());
  assert.equal(descriptions(first), ['user dev_user differs live on :6379', 'ACL LOAD on :6379', 'user intruder exists live on :6380 but not in the file', 'ACL LOAD on :6380']);
  const users = await asAdmin(6380, (c) => c.call('ACL', 'USERS'));
  assert.equal(users, ['admin_user', 'app_user', 'default', 'dev_user', 'replication_user', 'rplay_probe']);
  const dev = await asAdmin(6379, (c) => c.call('ACL', 'DRYRUN', 'dev_user', 'KEYS', '*'));
  assert.match(String(dev), /no permissions to run the 'keys' command/);
});

test('a changed file is written and loaded live on every instance; the diff shows hashes, never passwords', async () => {
  const users = shippedUsers(passwords).map((u) => (u.name === 'app_user' ? { ...u, rules: `${u.rules} +del` } : u));
  const ctx = moduleContext(conn);
  const { first } = await converge(redisAcl, ctx, args({ users }));
  assert.equal(descriptions(first), ['content of /etc/redis/users.acl differs', 'ACL LOAD on :6379', 'ACL LOAD on :6380']);
  const diff = first.changes[0]?.diff;
  // app_user's line ends in +ping: its new +del follows it (rplay_probe's own +del is elsewhere).
  assert.ok(diff && diff.after.includes('+ping +del') && !diff.before.includes('+ping +del'));
  for (const p of Object.values(passwords)) assert.not.ok(diff.before.includes(p) || diff.after.includes(p), 'a password is in the diff');
  for (const port of PORTS) {
    const r = await asAdmin(port, (c) => c.call('ACL', 'DRYRUN', 'app_user', 'DEL', 'session:1'));
    assert.is(r, 'OK', `:${port}`);
  }
  // Back to the shipped roles for the tests that follow.
  await converge(redisAcl, ctx, args());
});

test('a rule Redis rejects fails with Redis own message; nothing is written or loaded', async () => {
  const before = await asRoot(conn, 'sha256sum /etc/redis/users.acl');
  const users = shippedUsers(passwords).map((u) => (u.name === 'dev_user' ? { ...u, rules: '~* +nosuchcommand' } : u));
  await failsWith(
    redisAcl.gather(moduleContext(conn), args({ users })),
    /^redis_acl: Redis would reject \/etc\/redis\/users\.acl: \/etc\/redis\/users\.acl:2: Error in applying operation '\+nosuchcommand': Unknown command or category name in ACL$/,
  );
  assert.is(await asRoot(conn, 'sha256sum /etc/redis/users.acl'), before);
});

test('the shipped roles: app_user, dev_user read-only, replication_user, default off', async () => {
  const app = await login('app_user', passwords.redis_app_password);
  const dev = await login('dev_user', passwords.redis_dev_password);
  try {
    // Cluster clients start with these.
    assert.ok(Array.isArray(await app.call('CLUSTER', 'SLOTS')));
    assert.is(await app.ping(), 'PONG');
    await failsWith(app.call('FLUSHALL'), /NOPERM.*'flushall'/);
    await failsWith(app.call('GET', 'other:1'), /NOPERM.*key/);
    await failsWith(app.call('CONFIG', 'GET', 'aclfile'), /NOPERM/);
    await failsWith(dev.call('KEYS', '*'), /NOPERM.*'keys'/);
    await failsWith(dev.call('SET', 'session:1', 'x'), /NOPERM.*'set'/);
    await failsWith(dev.call('CLUSTER', 'RESET'), /NOPERM.*'cluster\|reset'/);
    assert.ok(Array.isArray(await dev.call('SCAN', '0')));
    assert.match(String(await dev.call('INFO', 'server')), /redis_version:7/);
  } finally {
    app.disconnect();
    dev.disconnect();
  }
  const repl = await asAdmin(6379, (c) => c.call('ACL', 'DRYRUN', 'replication_user', 'GET', 'session:1'));
  assert.match(String(repl), /no permissions to run the 'get' command/);
  await failsWith(login('default', 'anything-at-all-0123'), /WRONGPASS|disabled/);
});

test.run();
