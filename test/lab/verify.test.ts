// verify.yml on a converged three-host lab cluster holding user keys: the runbook's tests run
// against rplay's own namespace only. User keys (patient:12345, session:test, …) are byte-identical
// afterwards (DUMP and absolute expiry), no rplay:verify:* key is left, the probe user is refused
// everything outside its namespace, --check sends no write command to any instance, and a hand-made
// change to app_user's rights still fails verification.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Cluster, Redis } from 'ioredis';
import type { Connection } from '../../runner/connection/connection.js';
import { connectSsh } from '../../runner/connection/ssh.js';
import { readLabVault } from '../../lab/lab-vault.js';
import { openCluster, openRedis, type RedisLogin } from '../../modules/redis/open-redis.js';
import { startLab, type Lab } from '../lab-fixture.js';
import { rplayJson, tasksWith, totalChanged } from '../support/rplay-cli.js';
import { apply, checkPlan } from '../support/converge.js';
import { moduleContext } from './redis/redis-lab.js';
import { redisProbe, type ProbeOp } from '../../modules/redis-probe.js';

const test = suite('verify.yml never touches user data');
let lab: Lab;
let via: Connection;
let secrets: Record<string, string>;
const PORTS = [6379, 6380];
const env = (): Record<string, string> => ({ RPLAY_STATE_DIR: join(lab.dir, 'controller-state') });
const play = (name: string, ...extra: string[]) => rplayJson([`playbooks/${name}.yml`, '-i', lab.inventoryPath, ...extra], { env: env() });
const instances = (): { host: string; port: number }[] => lab.hosts.flatMap((h) => PORTS.map((port) => ({ host: h.address, port })));

function login(user: string, password: string): RedisLogin {
  const pki = (f: string): string => readFileSync(join(lab.dir, 'pki', f), 'utf8');
  return { user, password, tls: { ca: pki('ca.crt'), cert: pki('rplay-admin.crt'), key: pki('rplay-admin.key') } };
}
const admin = (): RedisLogin => login('admin_user', secrets.vault_redis_admin_password!);
// The probe user's password as the shipped vars derive it: HMAC-SHA256 keyed with the admin password.
const probe = (): RedisLogin => login('rplay_probe', createHmac('sha256', secrets.vault_redis_admin_password!).update('rplay verify probe').digest('hex'));

function cluster(who: RedisLogin): Cluster {
  const c = openCluster(via, instances(), who, { enableReadyCheck: false });
  c.on('error', () => {});
  return c;
}

async function onEach<T>(who: RedisLogin, fn: (c: Redis, where: string) => Promise<T>): Promise<Record<string, T>> {
  const out: Record<string, T> = {};
  for (const i of instances()) {
    const c = await openRedis(via, { ...who, host: i.host, port: i.port });
    try {
      out[`${i.host}:${i.port}`] = await fn(c, `${i.host}:${i.port}`);
    } finally {
      c.disconnect();
    }
  }
  return out;
}

const USER_KEYS = ['patient:12345', 'session:test', 'patient:record', 'session:cart', 'patient:99'];

/** Each user key's DUMP (its exact bytes and type) and absolute expiry in ms, read through the cluster. */
async function userKeys(): Promise<Record<string, [string, number]>> {
  const c = cluster(admin());
  try {
    const out: Record<string, [string, number]> = {};
    for (const k of USER_KEYS) out[k] = [((await c.callBuffer('DUMP', k)) as Buffer).toString('hex'), Number(await c.call('PEXPIRETIME', k))];
    return out;
  } finally {
    c.disconnect();
  }
}

async function probeKeysLeft(): Promise<string[]> {
  const found = await onEach(admin(), async (c) => {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = (await c.call('SCAN', cursor, 'MATCH', 'rplay:verify:*', 'COUNT', '1000')) as [string, string[]];
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return keys;
  });
  return Object.values(found).flat();
}

/** INFO commandstats of every instance: command → calls. */
async function commandStats(): Promise<Record<string, Record<string, number>>> {
  return onEach(admin(), async (c) => {
    const text = (await c.call('INFO', 'commandstats')) as string;
    return Object.fromEntries([...text.matchAll(/^cmdstat_(\S+?):calls=(\d+),/gm)].map((m) => [m[1]!, Number(m[2])]));
  });
}

function increased(before: Record<string, number>, after: Record<string, number>): string[] {
  return Object.keys(after).filter((k) => after[k]! > (before[k] ?? 0));
}

const refusal = (p: Promise<unknown>): Promise<string> => p.then((v) => `allowed: ${String(v)}`, (e: Error) => e.message);

test.before(async () => {
  lab = await startLab({ hosts: 3, prefix: '127.0.21' });
  secrets = Object.fromEntries(Object.entries(readLabVault(lab.dir)).map(([k, v]) => [k, v.reveal()]));
  const built = await play('redis');
  assert.is(built.code, 0, built.stdout.slice(-3000) + built.stderr);
  const h = lab.hosts[0]!;
  via = await connectSsh({ host: h.name, address: h.address, port: 22, user: 'ubuntu', privateKeyFile: lab.keyFile, knownHostsFile: lab.knownHostsFile });
  // User data, some with an expiry: what verify.yml must never change.
  const c = cluster(admin());
  try {
    await c.set('patient:12345', 'the real patient record');
    await c.set('session:test', 'a live session', 'PX', 3_600_000);
    await c.hset('patient:record', { name: 'Ada', dob: '1815-12-10' });
    await c.rpush('session:cart', 'a', 'b', 'c');
    await c.set('patient:99', Buffer.from([0, 255, 10, 13]));
    await c.pexpire('patient:99', 86_400_000);
  } finally {
    c.disconnect();
  }
});
test.after(async () => {
  await via?.close();
  await lab?.down();
});

test('verify.yml and redis.yml: user keys byte-identical, their expiries unchanged, no rplay:verify:* key left', async () => {
  const before = await userKeys();
  assert.ok(Object.values(before).every(([dump]) => dump.length > 0));
  const stats = await commandStats();

  const v = await play('verify', '-vv');
  assert.is(v.code, 0, v.stdout.slice(-3000) + v.stderr);
  for (const [name, value] of Object.entries({ ...secrets, probe_password: probe().password })) {
    assert.not.ok(v.stdout.includes(value) || v.stderr.includes(value), `${name} printed`);
  }
  assert.ok(tasksWith(v.json, 'node-1', 'ok').includes("The runbook's tests hold"));
  const t2 = v.json.plays.flatMap((p) => p.tasks).find((t) => t.name.startsWith('Test 2'))!;
  const msg = t2.results['node-1']!.msg ?? '';
  const m = /^(rplay:verify:[0-9a-f]{24}) \(slot \d+\) on ([\d.]+:\d+): set "OK", read back true, deleted 1$/.exec(msg);
  assert.ok(m, msg);
  // The probe really wrote, once, on the master that owns the key's slot; no SET reached a user key.
  const after = await commandStats();
  const owner = m![2]!;
  assert.is((after[owner]!.set ?? 0) - (stats[owner]!.set ?? 0), 1, `SET calls on ${owner}`);

  const r = await play('redis');
  assert.is(r.code, 0, r.stdout.slice(-3000) + r.stderr);
  assert.is(totalChanged(r.json), 0, 'a converged redis.yml (acl.yml with the probe user included) is changed=0');

  assert.equal(await userKeys(), before);
  assert.equal(await probeKeysLeft(), []);
});

test('the probe user reaches rplay:verify:* only: NOPERM on user keys and FLUSHALL', async () => {
  const before = await userKeys();
  const c = cluster(probe());
  try {
    assert.match(await refusal(c.set('patient:12345', 'overwritten')), /NOPERM/);
    assert.match(await refusal(c.get('session:test')), /NOPERM/);
    assert.match(await refusal(c.del('patient:record')), /NOPERM/);
    assert.match(await refusal(c.call('EXPIRE', 'rplay:verify:x', '1')), /NOPERM/);
    const one = await openRedis(via, { ...probe(), host: lab.hosts[0]!.address, port: 6379 });
    try {
      assert.match(await refusal(one.flushall()), /NOPERM/);
      assert.match(await refusal(one.call('KEYS', '*')), /NOPERM/);
    } finally {
      one.disconnect();
    }
    assert.is(await c.call('SET', 'rplay:verify:by-test', '1', 'NX', 'PX', '5000'), 'OK');
    assert.is(await c.del('rplay:verify:by-test'), 1);
  } finally {
    c.disconnect();
  }
  assert.equal(await userKeys(), before);
});

test('--check of verify.yml sends no write command to any instance', async () => {
  const before = await commandStats();
  const r = await play('verify', '--check');
  assert.is(r.code, 0, r.stdout.slice(-3000) + r.stderr);
  const after = await commandStats();
  const writes = new Set<string>(
    await (async () => {
      const c = await openRedis(via, { ...admin(), host: lab.hosts[0]!.address, port: 6379 });
      try {
        return (await c.call('COMMAND', 'LIST', 'FILTERBY', 'ACLCAT', 'write')) as string[];
      } finally {
        c.disconnect();
      }
    })(),
  );
  // Not @write, yet they change an instance.
  for (const cmd of ['acl|load', 'acl|setuser', 'acl|deluser', 'acl|save', 'config|set', 'config|rewrite', 'config|resetstat', 'failover', 'replicaof', 'save', 'bgsave', 'bgrewriteaof']) {
    writes.add(cmd);
  }
  let talked = 0;
  for (const [where, stats] of Object.entries(after)) {
    // Reading the stats is itself an INFO call: everything else that moved is the check's.
    const moved = increased(before[where]!, stats).filter((c) => c !== 'info');
    talked += moved.length;
    assert.equal(moved.filter((c) => writes.has(c) || c.startsWith('cluster|') && !['cluster|info', 'cluster|nodes', 'cluster|slots', 'cluster|shards', 'cluster|myid'].includes(c)), [], `${where} got ${moved.join(', ')}`);
    assert.is(stats.set, before[where]!.set, `SET calls on ${where}`);
  }
  assert.ok(talked > 0, 'the check read the cluster');
  // The reads were done and judged; the probe's write would run, and was not.
  const status = (name: string): string | undefined => r.json.plays.flatMap((p) => p.tasks).find((t) => t.name === name)?.results['node-1']?.status;
  for (const name of ['Test 3: app_user may SET session keys, on every instance', 'Test 3: app_user is refused FLUSHALL, on every instance', "The runbook's tests hold", 'Test 1: cluster_state:ok, 16384 slots assigned, every node known — on every instance']) {
    assert.is(status(name), 'ok', name);
  }
  assert.is(status('Test 2: a key written through a cluster client is on the master that owns its slot'), 'skipped');
  assert.is(status('Test 2: the key was written, read back on its owner and deleted'), 'skipped');
  const dry = r.json.plays.flatMap((p) => p.tasks).find((t) => t.name.startsWith('Test 3: may app_user SET'))!.results['node-1']!;
  assert.is(dry.status, 'ok');
});

test('redis_probe as a module: the plan names the key and its owner, having written nothing; the op applied as encoded writes once there and deletes', async () => {
  const pkiFile = (f: string): string => join(lab.dir, 'pki', f);
  const args = { instances: instances().map((i) => ({ address: i.host, port: i.port })), login_user: 'rplay_probe', login_password: probe().password, tls: { ca: pkiFile('ca.crt'), cert: pkiFile('rplay-admin.crt'), key: pkiFile('rplay-admin.key') } };
  const ctx = moduleContext(via);
  const before = await commandStats();
  const p = await checkPlan(redisProbe, ctx, args);
  const op = p.changes[0]?.op as ProbeOp;
  assert.is(op.kind, 'probe');
  assert.match(op.key, /^rplay:verify:[0-9a-f]{24}$/);
  assert.is(p.changes[0]?.description, `write, read back and delete ${op.key} (slot ${op.slot}) on ${op.node} as rplay_probe`);
  const planned = await commandStats();
  assert.is(planned[op.node]!.set ?? 0, before[op.node]!.set ?? 0, 'planning wrote');
  const run = await apply(redisProbe, ctx, args);
  const result = run.result?.result as { key: string; node: string; set: unknown; read_back: boolean; deleted: unknown; error: unknown };
  assert.equal([result.set, result.read_back, result.deleted, result.error], ['OK', true, 1, null]);
  const after = await commandStats();
  assert.is((after[result.node]!.set ?? 0) - (planned[result.node]!.set ?? 0), 1, `SET calls on ${result.node}`);
  assert.equal(await probeKeysLeft(), []);
});

test('app_user denied SET on session keys by hand, on one instance: verification fails; acl.yml puts it back', async () => {
  const before = await userKeys();
  const target = { host: lab.hosts[1]!.address, port: 6380 };
  const tamper = async (...rule: string[]): Promise<void> => {
    const c = await openRedis(via, { ...admin(), ...target });
    try {
      assert.is(await c.call('ACL', 'SETUSER', 'app_user', ...rule), 'OK');
    } finally {
      c.disconnect();
    }
  };
  await tamper('resetkeys', '~patient:*', '%R~session:*');
  const denied = await play('verify');
  assert.is.not(denied.code, 0);
  assert.ok(tasksWith(denied.json, 'node-1', 'failed').includes('Test 3: app_user may SET session keys, on every instance'), JSON.stringify(tasksWith(denied.json, 'node-1', 'failed')));

  const fixed = await play('acl');
  assert.is(fixed.code, 0, fixed.stdout.slice(-3000));
  assert.is(totalChanged(fixed.json), 1, 'the tampered instance is put back');
  assert.is((await play('verify')).code, 0);

  await tamper('+flushall');
  const allowed = await play('verify');
  assert.is.not(allowed.code, 0);
  assert.ok(tasksWith(allowed.json, 'node-1', 'failed').includes('Test 3: app_user is refused FLUSHALL, on every instance'));
  assert.is((await play('acl')).code, 0);

  // Verification only asked (ACL DRYRUN): no session key was written, none of the user keys moved.
  assert.equal(await userKeys(), before);
  const c = cluster(admin());
  try {
    assert.is(await c.exists('session:rplay-verify'), 0);
  } finally {
    c.disconnect();
  }
});

test('a cluster without the probe user (built before it existed): Test 2 fails naming acl.yml; redis.yml adds the user', async () => {
  await onEach(admin(), (c) => c.call('ACL', 'DELUSER', 'rplay_probe'));
  const v = await play('verify');
  assert.is.not(v.code, 0);
  const failed = v.json.plays.flatMap((p) => p.tasks).find((t) => t.results['node-1']?.status === 'failed');
  assert.is(failed?.name, 'Test 2: the key was written, read back on its owner and deleted');
  const why = failed!.results['node-1']!.msg ?? '';
  assert.ok(/refused: [\d.]+:\d+: WRONGPASS .*the user rplay_probe comes from acl\.yml/.test(why), why);
  const r = await play('redis');
  assert.is(r.code, 0, r.stdout.slice(-3000));
  assert.ok(tasksWith(r.json, 'node-1', 'changed').includes('Users file and live ACLs'));
  assert.equal(await probeKeysLeft(), []);
});

test.run();
