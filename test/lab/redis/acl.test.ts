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
import { redisAcl, type AclOp } from '../../../modules/redis-acl.js';
import { redisCommand } from '../../../modules/redis-command.js';
import { redisConfig } from '../../../modules/redis-config.js';
import { NotYetThere } from '../../../runner/types.js';
import { service } from '../../../modules/service.js';
import type { Connection } from '../../../runner/connection/connection.js';
import { openRedis } from '../../../modules/redis/open-redis.js';
import { startLab, type Lab, type LabHost } from '../../lab-fixture.js';
import { failsWith } from '../modules/module-host.js';
import { apply, changedThenNot, checkPlan } from '../../support/converge.js';
import type { Plan } from '../../../runner/types.js';
import { asRoot, connectHost, makePki, moduleContext, newPassword, prepareHost, renderUnit, shippedUsers, startRedis, type Pki } from './redis-lab.js';

const test = suite('redis_acl, redis_config and redis_command on a lab host');
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

const descriptions = (p: Plan): string[] => p.changes.map((c) => c.description);

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
  const first = (await changedThenNot(redisAcl, ctx, args())).planned;
  assert.equal(descriptions(first), ['create /etc/redis/users.acl (mode 0640, owner redis, group redis)']);
  assert.is(first.changes[0]?.op?.kind, 'acl-file');
  assert.match((await checkPlan(redisAcl, ctx, args())).msg ?? '', /^\/etc\/redis\/users\.acl as wanted$/);
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
  const p = await checkPlan(redisAcl, moduleContext(conn), args());
  assert.equal(p.changes, []);
  assert.is(p.msg, '/etc/redis/users.acl as wanted; live on :6379, :6380');
});

test('live drift (ACL SETUSER) is reported per user and instance, and put back by ACL LOAD', async () => {
  await asAdmin(6379, (c) => c.call('ACL', 'SETUSER', 'dev_user', '+keys'));
  await asAdmin(6380, (c) => c.call('ACL', 'SETUSER', 'intruder', 'on', `>${newPassword()}`, '~*', '+@all'));
  const ctx = moduleContext(conn);
  const first = (await changedThenNot(redisAcl, ctx, args())).planned;
  assert.equal(descriptions(first), ['user dev_user differs live on :6379; ACL LOAD on :6379', 'user intruder exists live on :6380 but not in the file; ACL LOAD on :6380']);
  assert.equal(first.changes.map((c) => (c.op as AclOp).kind === 'acl-load' && (c.op as AclOp & { port: number }).port), [6379, 6380]);
  const users = await asAdmin(6380, (c) => c.call('ACL', 'USERS'));
  assert.equal(users, ['admin_user', 'app_user', 'default', 'dev_user', 'replication_user', 'rplay_probe']);
  const dev = await asAdmin(6379, (c) => c.call('ACL', 'DRYRUN', 'dev_user', 'KEYS', '*'));
  assert.match(String(dev), /no permissions to run the 'keys' command/);
});

test('a changed file is written and loaded live on every instance; the diff shows hashes, never passwords', async () => {
  const users = shippedUsers(passwords).map((u) => (u.name === 'app_user' ? { ...u, rules: `${u.rules} +del` } : u));
  const ctx = moduleContext(conn);
  const first = (await changedThenNot(redisAcl, ctx, args({ users }))).planned;
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
  await changedThenNot(redisAcl, ctx, args());
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

const adminLogin = () => ({ login_user: 'admin_user', login_password: passwords.redis_admin_password, tls: pki.admin });
const configArgs = (settings: Record<string, string>) => ({ settings, address: host.address, port: 6379, service: 'redis-6379', certificate: false, ...adminLogin() });
const configGet = (name: string): Promise<string> => asAdmin(6379, async (c) => ((await c.call('CONFIG', 'GET', name)) as string[])[1] as string);
const pid = (): Promise<unknown> => asAdmin(6379, async (c) => /process_id:(\d+)/.exec(String(await c.call('INFO', 'server')))?.[1]);

test('redis_config: a setting changed live by hand is one CONFIG SET op, applied as encoded, same process; then ok', async () => {
  await asAdmin(6379, (c) => c.call('CONFIG', 'SET', 'appendfsync', 'always'));
  const before = await pid();
  const ctx = moduleContext(conn);
  const run = await changedThenNot(redisConfig, ctx, configArgs({ appendfsync: 'everysec' }));
  assert.equal(descriptions(run.planned), [`appendfsync: live always, wanted everysec; CONFIG SET appendfsync on ${host.address}:6379`]);
  const op = run.planned.changes[0]?.op as { kind: string; settings: unknown };
  assert.equal([op.kind, op.settings], ['config-set', [{ name: 'appendfsync', value: 'everysec' }]]);
  assert.is(await configGet('appendfsync'), 'everysec');
  assert.is(await pid(), before, 'put back live, not restarted');
});

test('redis_config: a value Redis refuses fails with Redis\'s message and leaves the setting as it was', async () => {
  await failsWith(apply(redisConfig, moduleContext(conn), configArgs({ appendfsync: 'sometimes' })), /^redis_config: CONFIG SET appendfsync on [\d.]+:6379: ERR CONFIG SET failed .*appendfsync/);
  assert.is(await configGet('appendfsync'), 'everysec');
});

const command = (cmd: string[], over: Record<string, unknown> = {}) => ({ command: cmd, instances: [{ address: host.address, port: 6379 }], ...adminLogin(), ...over });

test('redis_command: a read is answered when gathering (check mode too), no change; a key read too, as Redis flags it', async () => {
  const ctx = moduleContext(conn);
  const dry = await checkPlan(redisCommand, ctx, command(['ACL', 'DRYRUN', 'app_user', 'SET', 'session:1', 'x']));
  assert.equal([dry.changes, dry.result?.reply, dry.result?.error], [[], 'OK', null]);
  // Not on the static list: Redis's COMMAND INFO flags them readonly.
  const size = await checkPlan(redisCommand, ctx, command(['DBSIZE']));
  assert.equal([size.changes, size.result?.reply, size.msg], [[], 0, 'DBSIZE: 0']);
  // No slot is served on this lone cluster node: the refusal is the read's result, not a failure.
  const get = await checkPlan(redisCommand, ctx, command(['GET', 'session:cmd']));
  assert.equal([get.changes, get.result?.reply, get.msg], [[], null, 'GET refused: CLUSTERDOWN Hash slot not served']);
  const refused = await checkPlan(redisCommand, ctx, command(['ACL', 'DRYRUN', 'app_user', 'FLUSHALL']));
  assert.match(String(refused.result?.reply), /no permissions to run the 'flushall' command/);
});

test('redis_command: a write is the plan\'s op, not run by gathering; applying the encoded op runs it', async () => {
  const ctx = moduleContext(conn);
  const args = command(['CONFIG', 'SET', 'appendfsync', 'always']);
  const p = await checkPlan(redisCommand, ctx, args);
  assert.equal(descriptions(p), [`run CONFIG on ${host.address}:6379 as admin_user`]);
  assert.is(await configGet('appendfsync'), 'everysec', 'gathering ran the write');
  const run = await apply(redisCommand, ctx, args);
  assert.equal(run.result?.result, { reply: 'OK', error: null, node: `${host.address}:6379` });
  assert.is(await configGet('appendfsync'), 'always');
  await asAdmin(6379, (c) => c.call('CONFIG', 'SET', 'appendfsync', 'everysec'));
});

test('redis_command: a blocking read, and a command the user may not look up, are ops: gathering never waits nor guesses', async () => {
  const ctx = moduleContext(conn);
  const t0 = performance.now();
  const blocking = await checkPlan(redisCommand, ctx, command(['XREAD', 'BLOCK', '3000', 'STREAMS', 'session:stream', '$']));
  assert.ok(performance.now() - t0 < 2500, 'gathering waited on XREAD BLOCK');
  assert.is(blocking.changes.length, 1);
  const asApp = await checkPlan(redisCommand, ctx, command(['GET', 'session:cmd'], { login_user: 'app_user', login_password: passwords.redis_app_password }));
  assert.is(asApp.changes.length, 1, 'app_user may not run COMMAND INFO: GET is not known to be a read');
});

test('redis_command: nothing listening: not there yet, a read "unchanged" once it is, a write not', async () => {
  const ctx = moduleContext(conn);
  const at = [{ address: host.address, port: 6390, host: 'node-x' }];
  const read = await failsWith(checkPlan(redisCommand, ctx, command(['PING'], { instances: at })), /^redis_command: nothing accepts connections on [\d.]+:6390/);
  assert.ok(read instanceof NotYetThere && read.unchanged === true && read.on === 'node-x', JSON.stringify(read));
  const plain = await failsWith(checkPlan(redisCommand, ctx, command(["PING"], { instances: at, transport: "plain" })), /nothing accepts connections/);
  assert.ok(plain instanceof NotYetThere && plain.unchanged === true);
  const set = await failsWith(checkPlan(redisCommand, ctx, command(['CONFIG', 'SET', 'appendfsync', 'no'], { instances: at })), /nothing accepts connections/);
  assert.ok(set instanceof NotYetThere && !set.unchanged && set.would === `run CONFIG on ${host.address}:6390`, JSON.stringify(set));
});

test.run();
