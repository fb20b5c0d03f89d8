// redis_cluster on three real lab hosts, six real TLS Redis instances (a master and a replica of
// another host's master on each): check mode lists the formation, a run forms it, the next plan is
// empty; redis-cli --cluster check agrees; an ioredis Cluster client through the SSH tunnels works
// as app_user within its ACL; a node that holds keys in another cluster stops the module, named;
// losing a whole host keeps the cluster serving, and when the host is back the swapped roles are ok.
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Redis } from 'ioredis';
import { redisCluster } from '../../../modules/redis-cluster.js';
import { redisFailover } from '../../../modules/redis-failover.js';
import { parseClusterNodes } from '../../../modules/redis/cluster-state.js';
import type { Connection } from '../../../runner/connection/connection.js';
import { renderAclFile } from '../../../modules/redis/acl-file.js';
import { localForward } from '../../../modules/redis/local-forward.js';
import { openCluster, openRedis, type RedisLogin } from '../../../modules/redis/open-redis.js';
import { computeTopology, type RedisInstance } from '../../../modules/redis/topology.js';
import { startLab, type Lab, type LabHost } from '../../lab-fixture.js';
import { descriptions, failsWith } from '../modules/module-host.js';
import { apply, changedThenNot, checkPlan } from '../../support/converge.js';
import { asRoot, connectHost, makePki, moduleContext, newPassword, prepareHost, shippedUsers, startRedis, type Pki } from './redis-lab.js';

const test = suite('redis_cluster on three lab hosts');
const PORTS = [6379, 6380];
const passwords = { redis_app_password: newPassword(), redis_dev_password: newPassword(), redis_admin_password: newPassword(), redis_replication_password: newPassword() };
let lab: Lab;
let conns: Map<string, Connection>;
let pki: Pki;
let instances: RedisInstance[];
type Args = Parameters<typeof redisCluster.plan>[0];

const conn = (host: string): Connection => conns.get(host) as Connection;
const args = (extra: RedisInstance[] = []): Args => ({
  instances: [...instances, ...extra].map((i) => ({ host: i.host, address: i.address, ...(i.az ? { az: i.az } : {}), port: i.port, role: i.role, ...(i.replicaOf ? { replica_of: i.replicaOf } : {}) })),
  login_user: 'admin_user',
  login_password: passwords.redis_admin_password,
  tls: pki.admin,
  timeout: 30,
});
const ctx = () => moduleContext(conn('node-1'));
const login = (user: string, password: string): RedisLogin => ({ user, password, tls: { ca: pki.read('ca.crt'), cert: pki.read('rplay-admin.crt'), key: pki.read('rplay-admin.key') } });
const admin = (): RedisLogin => login('admin_user', passwords.redis_admin_password);

async function onInstance<T>(i: { address: string; port: number }, fn: (c: Redis) => Promise<T>): Promise<T> {
  const c = await openRedis(conn('node-1'), { ...admin(), host: i.address, port: i.port });
  try {
    return await fn(c);
  } finally {
    c.disconnect();
  }
}

async function until(what: string, ms: number, ok: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok().catch(() => false))) {
    if (Date.now() > end) assert.unreachable(`${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function redisCli(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      'redis-cli',
      ['--tls', '--cacert', pki.admin.ca, '--cert', pki.admin.cert, '--key', pki.admin.key, '--user', 'admin_user', ...args],
      { env: { ...process.env, REDISCLI_AUTH: passwords.redis_admin_password } },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

test.before(async () => {
  lab = await startLab({ hosts: 3, prefix: '127.0.6' });
  pki = makePki(lab.hosts);
  conns = new Map(await Promise.all(lab.hosts.map(async (h) => [h.name, await connectHost(lab, h)] as const)));
  instances = computeTopology(
    lab.hosts.map((h, i) => ({ name: h.name, address: h.address, az: `lab-${'abc'[i]}` })),
    { port: 6379, replicasPerMaster: 1 },
  );
  const acl = renderAclFile(shippedUsers(passwords));
  await Promise.all(
    lab.hosts.map(async (h) => {
      await prepareHost(conn(h.name), h, pki, PORTS, { user: 'replication_user', password: passwords.redis_replication_password });
      await conn(h.name).writeFile('/etc/redis/users.acl', acl, { mode: '0640', owner: 'redis', group: 'redis', become: true });
      await startRedis(conn(h.name), PORTS);
    }),
  );
});
test.after(async () => {
  await Promise.allSettled([...(conns?.values() ?? [])].map((c) => c.close()));
  await lab?.down();
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
});

test('check mode on six fresh instances lists the whole formation', async () => {
  assert.equal(descriptions(await checkPlan(redisCluster, ctx(), args())), [
    'assign slots 0-5460 to 127.0.6.1:6379 (node-1)',
    'assign slots 5461-10922 to 127.0.6.2:6379 (node-2)',
    'assign slots 10923-16383 to 127.0.6.3:6379 (node-3)',
    'meet 127.0.6.2:6379 (node-2) into the cluster (via 127.0.6.1:6379)',
    'meet 127.0.6.3:6379 (node-3) into the cluster (via 127.0.6.1:6379)',
    'meet 127.0.6.2:6380 (node-2) into the cluster (via 127.0.6.1:6379)',
    'meet 127.0.6.3:6380 (node-3) into the cluster (via 127.0.6.1:6379)',
    'meet 127.0.6.1:6380 (node-1) into the cluster (via 127.0.6.1:6379)',
    'wait until every node knows every other (the meetings have gossiped)',
    '127.0.6.2:6380 (node-2) replicates 127.0.6.1:6379 (node-1)',
    '127.0.6.3:6380 (node-3) replicates 127.0.6.2:6379 (node-2)',
    '127.0.6.1:6380 (node-1) replicates 127.0.6.3:6379 (node-3)',
    'wait until every node agrees (cluster_state:ok everywhere, one slot map, replicas in sync)',
  ]);
  // Check mode touched nothing: every instance still knows only itself.
  for (const i of instances) assert.match(String(await onInstance(i, (c) => c.call('CLUSTER', 'INFO'))), /cluster_known_nodes:1\r\n/);
});

test('a run forms the cluster (3 masters, 3 replicas on other hosts), applying exactly its encoded operations; the next plan is empty', async () => {
  const c = ctx();
  const a = args();
  const run = await changedThenNot(redisCluster, c, a);
  assert.is(run.result?.msg, '3 master(s), 3 replica(s), all 16384 slots served, cluster_state:ok on every node');
  // One round: the last wait saw the cluster agree, and the re-plan found nothing left.
  assert.equal(run.applied.map((ch) => ch.description), descriptions(run.planned));
  const again = await checkPlan(redisCluster, c, a);
  assert.equal(again.changes, []);
  const nodes = again.result?.nodes as { address: string; port: number; role: string; master?: string; slots: string }[];
  assert.equal(
    nodes.map((n) => `${n.address}:${n.port} ${n.role} ${n.master ?? n.slots}`),
    [
      '127.0.6.1:6379 master 0-5460',
      '127.0.6.2:6379 master 5461-10922',
      '127.0.6.3:6379 master 10923-16383',
      '127.0.6.2:6380 replica 127.0.6.1:6379',
      '127.0.6.3:6380 replica 127.0.6.2:6379',
      '127.0.6.1:6380 replica 127.0.6.3:6379',
    ],
  );
});

test('redis-cli --cluster check (TLS, admin_user) reports every slot covered and every node agreeing', async () => {
  const r = await redisCli(['--cluster', 'check', '127.0.6.1:6379']);
  r.out = r.out.replace(/\x1b\[[0-9;]*m/g, '');
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /\[OK\] All nodes agree about slots configuration\./);
  assert.match(r.out, /\[OK\] All 16384 slots covered\./);
  assert.is(r.out.match(/^M: /gm)?.length, 3, r.out);
  assert.is(r.out.match(/^S: /gm)?.length, 3, r.out);
});

test('redis-cli through a local forward over the SSH tunnel reaches another host instance', async () => {
  const fwd = await localForward(conn('node-1'), '127.0.6.2', 6380);
  try {
    const r = await redisCli(['-h', '127.0.0.1', '-p', String(fwd.port), 'CLUSTER', 'MYID']);
    assert.is(r.code, 0, r.out);
    const id = String(await onInstance({ address: '127.0.6.2', port: 6380 }, (c) => c.call('CLUSTER', 'MYID')));
    assert.is(r.out.trim(), id);
  } finally {
    await fwd.close();
  }
});

test('an ioredis Cluster client as app_user, through the tunnels: session keys yes, others and FLUSHALL no', async () => {
  const cluster = openCluster(conn('node-1'), [{ host: instances[0]!.address, port: 6379 }], login('app_user', passwords.redis_app_password));
  try {
    for (let n = 0; n < 20; n++) await cluster.set(`session:${n}`, `v${n}`);
    assert.is(await cluster.get('session:17'), 'v17');
    await failsWith(cluster.set('other:1', 'x'), /NOPERM/);
    await failsWith(cluster.call('FLUSHALL'), /NOPERM/);
  } finally {
    cluster.disconnect();
  }
  // The keys landed on all three masters (the slot map is used, not one node).
  const counts = await Promise.all(instances.filter((i) => i.role === 'master').map((i) => onInstance(i, (c) => c.call('DBSIZE'))));
  assert.ok(counts.every((n) => Number(n) > 0), `keys per master: ${counts.join(', ')}`);
});

test('a node that holds keys in another cluster stops the module, named, and is left alone', async () => {
  const h3 = lab.hosts[2] as LabHost;
  const stray: RedisInstance = { host: h3.name, address: h3.address, port: 6381, role: 'replica', replicaOf: `${h3.address}:6379` };
  await prepareHost(conn(h3.name), h3, pki, [6381], { user: 'replication_user', password: passwords.redis_replication_password });
  // A short node timeout: a lone master waits that long (at most 5 s) before it serves its slots.
  await startRedis(conn(h3.name), [6381], '--cluster-node-timeout 500');
  await onInstance(stray, async (c) => {
    await c.call('CLUSTER', 'ADDSLOTSRANGE', 0, 16383);
    await until('the stray node serving its slots', 5000, async () => /cluster_state:ok/.test(String(await c.call('CLUSTER', 'INFO'))));
    await c.call('SET', 'stray', 'data');
  });
  await failsWith(
    redisCluster.gather(ctx(), args([stray])).then((s) => redisCluster.plan(args([stray]), s)),
    /^redis_cluster: 127\.0\.6\.3:6381 \(node-3\) holds 1 key\(s\) and belongs to another cluster \(it serves slots 0-16383\); rplay never resets or reassigns such a node/,
  );
  assert.is(await onInstance(stray, (c) => c.call('GET', 'stray')), 'data');
  await asRoot(conn(h3.name), 'kill "$(cat /run/redis/redis-6381.pid)"');
});

test('losing a whole host keeps the cluster serving; back again, the swapped roles are ok', async () => {
  const seeds = instances.filter((i) => i.host !== 'node-2').map((i) => ({ host: i.address, port: i.port }));
  await lab.stop('node-2');
  await conns.get('node-2')?.close().catch(() => undefined);
  // node-2's master fails over to its replica on node-3 after cluster-node-timeout (5 s).
  await until('slots 5461-10922 served by node-3 and cluster_state:ok', 20_000, async () =>
    onInstance(instances[0]!, async (c) => {
      const nodes = String(await c.call('CLUSTER', 'NODES'));
      const owner = nodes.split('\n').find((l) => / 5461-10922$/.test(l));
      return /cluster_state:ok/.test(String(await c.call('CLUSTER', 'INFO'))) && owner !== undefined && owner.includes('127.0.6.3:6380');
    }),
  );
  const cluster = openCluster(conn('node-1'), seeds, login('app_user', passwords.redis_app_password));
  try {
    for (let n = 0; n < 20; n++) await cluster.set(`session:${n}`, `after-${n}`);
    assert.is(await cluster.get('session:5'), 'after-5');
  } finally {
    cluster.disconnect();
  }
  await lab.start('node-2');
  const h2 = lab.hosts[1] as LabHost;
  conns.set('node-2', await connectHost(lab, h2));
  await asRoot(conn('node-2'), 'mkdir -p /run/redis && chown redis:redis /run/redis');
  await startRedis(conn('node-2'), PORTS);
  // A run waits for the returning node to settle as a replica; then nothing is left to do.
  const c = ctx();
  const a = args();
  const run = await apply(redisCluster, c, a);
  if (run.planned.changes.length) assert.equal(descriptions(run.planned).map((d) => d.replace(/:.*$/, '')), ['wait until every node agrees (cluster_state']);
  const after = await checkPlan(redisCluster, c, a);
  assert.equal(after.changes, []);
  const nodes = after.result?.nodes as { address: string; port: number; role: string; master?: string }[];
  assert.equal(
    nodes.filter((n) => n.address === h2.address || n.port === 6380).map((n) => `${n.address}:${n.port} ${n.role} ${n.master ?? ''}`),
    ['127.0.6.2:6379 replica 127.0.6.3:6380', '127.0.6.2:6380 replica 127.0.6.1:6379', '127.0.6.3:6380 master ', '127.0.6.1:6380 replica 127.0.6.3:6379'],
  );
});

/** "address:port role" of every node with slots (masters) as node-1:6379 sees them. */
async function masters(): Promise<string[]> {
  const view = parseClusterNodes(String(await onInstance(instances[0]!, (c) => c.call('CLUSTER', 'NODES'))));
  return view.filter((e) => e.role === 'master' && e.slots.length > 0).map((e) => `${e.address}:${e.port}`).sort();
}

test('redis_failover through its encoded operations: restored hands the slots back (offset gate, then CLUSTER FAILOVER), drained empties a host, restored again; each then plans nothing', async () => {
  const failoverArgs = (state: 'drained' | 'restored', host?: string): Parameters<typeof redisFailover.plan>[0] => {
    const { instances: list, login_user, login_password, tls } = args();
    return { instances: list, state, ...(host ? { host } : {}), login_user, login_password, tls, timeout: 60 };
  };
  const layoutMasters = ['127.0.6.1:6379', '127.0.6.2:6379', '127.0.6.3:6379'];
  // The previous test left node-3:6380 serving node-2's slots, node-2:6379 its replica.
  assert.equal(await masters(), ['127.0.6.1:6379', '127.0.6.3:6379', '127.0.6.3:6380']);
  const key = await onInstance({ address: '127.0.6.3', port: 6380 }, async (c) => {
    for (let n = 0; ; n++) {
      const slot = Number(await c.call('CLUSTER', 'KEYSLOT', `handback:${n}`));
      if (slot >= 5461 && slot <= 10922) return `handback:${n}`;
    }
  });
  await onInstance({ address: '127.0.6.3', port: 6380 }, (c) => c.call('SET', key, 'written-to-the-promoted-master'));

  const check = await checkPlan(redisFailover, ctx(), failoverArgs('restored'));
  assert.equal(descriptions(check), ['CLUSTER FAILOVER on 127.0.6.2:6379 (node-2): it takes over slots 5461-10922 from 127.0.6.3:6380 (node-3)']);
  assert.equal(await masters(), ['127.0.6.1:6379', '127.0.6.3:6379', '127.0.6.3:6380'], 'check mode moved nothing');

  const back = await changedThenNot(redisFailover, ctx(), failoverArgs('restored'));
  assert.match(String(back.result?.msg), /^127\.0\.6\.2:6379 \(node-2\) took over from 127\.0\.6\.3:6380 \(node-3\) \(caught up to replication offset \d+ first\); masters: /);
  assert.equal(await masters(), layoutMasters);
  assert.is(await onInstance({ address: '127.0.6.2', port: 6379 }, (c) => c.call('GET', key)), 'written-to-the-promoted-master');

  const drained = await changedThenNot(redisFailover, ctx(), failoverArgs('drained', 'node-1'));
  assert.equal(descriptions(drained.planned), ['CLUSTER FAILOVER on 127.0.6.2:6380 (node-2): it takes over slots 0-5460 from 127.0.6.1:6379 (node-1)']);
  assert.equal(await masters(), ['127.0.6.2:6379', '127.0.6.2:6380', '127.0.6.3:6379']);
  // node-2 now holds two of the three masters: the result says what losing it would cost.
  assert.ok((drained.result?.result?.host_loss_risks as string[]).some((r) => r.startsWith('node-2 holds 2 of the 3 masters')), JSON.stringify(drained.result));

  await changedThenNot(redisFailover, ctx(), failoverArgs('restored'));
  assert.equal(await masters(), layoutMasters);
});

test.run();
