import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { clusterMembers, describeFormationOp, planFormation, type NodeObservation } from '../../../modules/redis/cluster-plan.js';
import { evenSlotRanges, parseClusterNodes } from '../../../modules/redis/cluster-state.js';
import { computeTopology, instanceId, type RedisInstance } from '../../../modules/redis/topology.js';
import { redisCluster } from '../../../modules/redis-cluster.js';
import { decodeOperations, encodeOperations } from '../../../runner/execution/operations.js';

const HOSTS = [1, 2, 3].map((n) => ({ name: `redis-${n}`, address: `10.0.${n}.10`, az: `az-${n}` }));
const six = computeTopology(HOSTS, { port: 6379, replicasPerMaster: 1 });
const three = computeTopology(HOSTS, { port: 6379, replicasPerMaster: 0 });

/** What one node is in the cluster, as every node that knows it would print it. */
interface NodeFact {
  inst: RedisInstance;
  id: string;
  role: 'master' | 'replica';
  master?: string;
  slots?: string[];
  epoch?: number;
}

const idOf = (i: RedisInstance): string => `${i.address.replace(/\./g, '')}${i.port}`.padEnd(40, '0');

function line(f: NodeFact, myself: boolean, extraFlags: string[] = []): string {
  const flags = [...(myself ? ['myself'] : []), f.role === 'master' ? 'master' : 'slave', ...extraFlags].join(',');
  return [f.id, `${f.inst.address}:${f.inst.port}@${f.inst.port + 10000},`, flags, f.master ?? '-', '0', '1700000000000', String(f.epoch ?? 0), 'connected', ...(f.slots ?? [])].join(' ');
}

const INFO_OK = 'cluster_enabled:1\r\ncluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_my_epoch:1\r\n';
const INFO_FRESH = 'cluster_enabled:1\r\ncluster_state:fail\r\ncluster_slots_assigned:0\r\ncluster_known_nodes:1\r\ncluster_my_epoch:0\r\n';

/** Every node of `facts` knowing every other one, agreeing, serving. */
function formed(facts: NodeFact[], over: Partial<Record<string, Partial<NodeObservation>>> = {}): NodeObservation[] {
  return facts.map((me) => ({
    instance: me.inst,
    nodesText: facts.map((f) => line(f, f === me)).join('\n') + '\n',
    infoText: INFO_OK,
    replicationText: me.role === 'replica' ? 'role:slave\r\nmaster_link_status:up\r\n' : 'role:master\r\n',
    keys: 0,
    ...over[me.id],
  }));
}

function fresh(inst: RedisInstance, keys = 0): NodeObservation {
  return { instance: inst, nodesText: `${line({ inst, id: idOf(inst), role: 'master' }, true)}\n`, infoText: INFO_FRESH, replicationText: 'role:master\r\n', keys };
}

const [m1, m2, m3, r1, r2, r3] = six as [RedisInstance, RedisInstance, RedisInstance, RedisInstance, RedisInstance, RedisInstance];
const [a, b, c] = evenSlotRanges(3).map(([x, y]) => `${x}-${y}`) as [string, string, string];

function sixFacts(): NodeFact[] {
  return [
    { inst: m1, id: idOf(m1), role: 'master', slots: [a], epoch: 1 },
    { inst: m2, id: idOf(m2), role: 'master', slots: [b], epoch: 2 },
    { inst: m3, id: idOf(m3), role: 'master', slots: [c], epoch: 3 },
    { inst: r1, id: idOf(r1), role: 'replica', master: idOf(m1), epoch: 1 },
    { inst: r2, id: idOf(r2), role: 'replica', master: idOf(m2), epoch: 2 },
    { inst: r3, id: idOf(r3), role: 'replica', master: idOf(m3), epoch: 3 },
  ];
}

const describe = (obs: NodeObservation[]): string[] => planFormation(obs).map(describeFormationOp);

test('parseClusterNodes reads ids, addresses, roles, masters and slots (migrating markers left out)', () => {
  const [e] = parseClusterNodes('07c37dfeb235213a872192d90877d0cd55635b91 10.0.1.10:6379@16379,host-1 myself,master - 0 1426238316232 2 connected 0-10 12 [13->-e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca]\n');
  assert.equal(e, {
    id: '07c37dfeb235213a872192d90877d0cd55635b91',
    address: '10.0.1.10',
    port: 6379,
    busPort: 16379,
    flags: ['myself', 'master'],
    myself: true,
    role: 'master',
    configEpoch: 2,
    linkState: 'connected',
    slots: [
      [0, 10],
      [12, 12],
    ],
  });
});

test('a formed, agreeing cluster with the wanted replicas: nothing to do', () => {
  assert.equal(planFormation(formed(sixFacts())), []);
  const members = clusterMembers(formed(sixFacts()));
  assert.equal(members[0], { host: 'redis-1', address: '10.0.1.10', port: 6379, az: 'az-1', id: idOf(m1), role: 'master', slots: a });
  assert.equal(members[3], { host: 'redis-2', address: '10.0.2.10', port: 6380, az: 'az-2', id: idOf(r1), role: 'replica', master: '10.0.1.10:6379', slots: '' });
});

test('fresh nodes: meet, slots (even split, config epochs), replicas, then wait', () => {
  assert.equal(describe(six.map((i) => fresh(i))), [
    'assign slots 0-5460 to 10.0.1.10:6379 (redis-1)',
    'assign slots 5461-10922 to 10.0.2.10:6379 (redis-2)',
    'assign slots 10923-16383 to 10.0.3.10:6379 (redis-3)',
    'meet 10.0.2.10:6379 (redis-2) into the cluster (via 10.0.1.10:6379)',
    'meet 10.0.3.10:6379 (redis-3) into the cluster (via 10.0.1.10:6379)',
    'meet 10.0.2.10:6380 (redis-2) into the cluster (via 10.0.1.10:6379)',
    'meet 10.0.3.10:6380 (redis-3) into the cluster (via 10.0.1.10:6379)',
    'meet 10.0.1.10:6380 (redis-1) into the cluster (via 10.0.1.10:6379)',
    'wait until every node knows every other (the meetings have gossiped)',
    '10.0.2.10:6380 (redis-2) replicates 10.0.1.10:6379 (redis-1)',
    '10.0.3.10:6380 (redis-3) replicates 10.0.2.10:6379 (redis-2)',
    '10.0.1.10:6380 (redis-1) replicates 10.0.3.10:6379 (redis-3)',
    'wait until every node agrees (cluster_state:ok everywhere, one slot map, replicas in sync)',
  ]);
  const steps = planFormation(six.map((i) => fresh(i)));
  assert.equal(
    steps.flatMap((s) => (s.kind === 'add-slots' ? [s.configEpoch] : [])),
    [1, 2, 3],
  );
  const rep = steps.find((s) => s.kind === 'replicate');
  assert.ok(rep && rep.kind === 'replicate' && rep.masterId === idOf(m1));
});

test('replicas_per_master 0: three masters, no replicas (the runbook layout)', () => {
  assert.equal(describe(three.map((i) => fresh(i))), [
    'assign slots 0-5460 to 10.0.1.10:6379 (redis-1)',
    'assign slots 5461-10922 to 10.0.2.10:6379 (redis-2)',
    'assign slots 10923-16383 to 10.0.3.10:6379 (redis-3)',
    'meet 10.0.2.10:6379 (redis-2) into the cluster (via 10.0.1.10:6379)',
    'meet 10.0.3.10:6379 (redis-3) into the cluster (via 10.0.1.10:6379)',
    'wait until every node knows every other (the meetings have gossiped)',
    'wait until every node agrees (cluster_state:ok everywhere, one slot map, replicas in sync)',
  ]);
});

test('resuming an interrupted formation: all met, no slots yet → slots and replicas only, no epochs', () => {
  const facts: NodeFact[] = six.map((i) => ({ inst: i, id: idOf(i), role: 'master' }));
  const obs = formed(facts).map((o) => ({ ...o, infoText: 'cluster_state:fail\ncluster_slots_assigned:0\ncluster_my_epoch:0\n' }));
  const steps = planFormation(obs);
  assert.equal(steps.map((s) => s.kind), ['add-slots', 'add-slots', 'add-slots', 'replicate', 'replicate', 'replicate', 'wait']);
  assert.ok(steps.every((s) => s.kind !== 'add-slots' || s.configEpoch === undefined));
  // Slots partly assigned: only the rest of each share.
  const part = facts.map((f) => (f.inst === m1 ? { ...f, slots: ['0-100'] } : f));
  assert.equal(describe(formed(part)).slice(0, 3), [
    'assign slots 101-5460 to 10.0.1.10:6379 (redis-1)',
    'assign slots 5461-10922 to 10.0.2.10:6379 (redis-2)',
    'assign slots 10923-16383 to 10.0.3.10:6379 (redis-3)',
  ]);
});

test('interrupted after the slots, before MEET: lone masters serving their own share are this cluster', () => {
  const lone = (inst: RedisInstance, slots: string): NodeObservation => ({
    instance: inst,
    nodesText: `${line({ inst, id: idOf(inst), role: 'master', slots: [slots], epoch: 1 }, true)}\n`,
    infoText: 'cluster_state:fail\ncluster_slots_assigned:5461\ncluster_my_epoch:1\n',
    replicationText: 'role:master\n',
    keys: 0,
  });
  const obs = [lone(m1, a), lone(m2, b), fresh(m3), ...[r1, r2, r3].map((i) => fresh(i))];
  assert.equal(describe(obs).slice(0, 2), ['assign slots 10923-16383 to 10.0.3.10:6379 (redis-3)', 'meet 10.0.2.10:6379 (redis-2) into the cluster (via 10.0.1.10:6379)']);
  // Slots outside its own share make a lone node another cluster's.
  assert.throws(() => planFormation([lone(m1, a), lone(m2, a.replace('0-', '1-')), fresh(m3)]), /10\.0\.2\.10:6379 \(redis-2\) belongs to another cluster \(it serves slots 1-5460\)/);
});

test('a new fresh node joins a formed cluster as the replica it is meant to be', () => {
  const facts = sixFacts().filter((f) => f.inst !== r3);
  const obs = [...formed(facts), fresh(r3)];
  assert.equal(describe(obs), [
    'meet 10.0.1.10:6380 (redis-1) into the cluster (via 10.0.1.10:6379)',
    'wait until every node knows every other (the meetings have gossiped)',
    '10.0.1.10:6380 (redis-1) replicates 10.0.3.10:6379 (redis-3)',
    'wait until every node agrees (cluster_state:ok everywhere, one slot map, replicas in sync)',
  ]);
});

test('after a failover the swapped roles are accepted: the promoted replica is master, the old master its replica', () => {
  // redis-2 was down: its replica 10.0.3.10:6380 took over 5461-10922; redis-2:6379 came back as its replica.
  const facts = sixFacts().map((f): NodeFact => {
    if (f.inst === m2) return { inst: m2, id: f.id, role: 'replica', master: idOf(r2), epoch: 4 };
    if (f.inst === r2) return { inst: r2, id: f.id, role: 'master', slots: [b], epoch: 4 };
    return f;
  });
  assert.equal(planFormation(formed(facts)), []);
});

test('not yet agreeing (a node still sees cluster_state:fail): only wait, with the reason', () => {
  const facts = sixFacts();
  const obs = formed(facts, { [idOf(m2)]: { infoText: 'cluster_state:fail\ncluster_slots_assigned:16384\n' } });
  assert.equal(describe(obs), ['wait until every node agrees (cluster_state:ok everywhere, one slot map, replicas in sync): 10.0.2.10:6379 (redis-2) reports cluster_state:fail']);
  // One node's view lacks a peer and sees another one failing.
  const partial = formed(facts);
  const first = partial[0] as NodeObservation;
  first.nodesText = facts
    .filter((f) => f.inst !== r3)
    .map((f) => line(f, f.inst === m1, f.inst === m3 ? ['fail?'] : []))
    .join('\n');
  const [wait] = planFormation(partial);
  assert.ok(wait && wait.kind === 'wait' && wait.for === 'agreement');
  assert.equal(wait.reasons.slice(0, 2), ['10.0.1.10:6379 (redis-1) sees 10.0.3.10:6379 (redis-3) as fail?', '10.0.1.10:6379 (redis-1) does not know 10.0.1.10:6380 (redis-1) yet']);
});

test('a replica still syncing (master_link_status:down) is not settled: it could not take over yet', () => {
  const obs = formed(sixFacts(), { [idOf(r2)]: { replicationText: 'role:slave\r\nmaster_link_status:down\r\n' } });
  assert.equal(describe(obs), ['wait until every node agrees (cluster_state:ok everywhere, one slot map, replicas in sync): 10.0.3.10:6380 (redis-3) is not in sync with its master yet (master_link_status:down)']);
});

test('a replica on its master host is moved to a master on another host', () => {
  // 10.0.1.10:6380 replicates 10.0.1.10:6379 (same host); 10.0.3.10:6379 has no replica.
  const facts = sixFacts().map((f): NodeFact => (f.inst === r3 ? { ...f, master: idOf(m1) } : f));
  assert.equal(describe(formed(facts)), [
    '10.0.1.10:6380 (redis-1) replicates 10.0.3.10:6379 (redis-3)',
    'wait until every node agrees (cluster_state:ok everywhere, one slot map, replicas in sync)',
  ]);
});

test('a node that holds keys in another cluster is an error naming it; nothing is planned', () => {
  const facts = sixFacts().filter((f) => f.inst !== r3);
  const foreignId = 'f'.repeat(40);
  const other: NodeObservation = {
    instance: r3,
    nodesText: [line({ inst: r3, id: idOf(r3), role: 'master', slots: ['0-16383'] }, true), line({ inst: { ...r3, address: '192.168.9.9' }, id: foreignId, role: 'replica', master: idOf(r3) }, false)].join('\n'),
    infoText: INFO_OK,
    replicationText: 'role:master\r\n',
    keys: 42,
  };
  assert.throws(
    () => planFormation([...formed(facts), other]),
    (e: Error) =>
      /^10\.0\.1\.10:6380 \(redis-1\) holds 42 key\(s\) and belongs to another cluster \(it knows 1 other node\(s\) and serves slots 0-16383\); rplay never resets or reassigns such a node/.test(e.message),
  );
});

test('a lone node with keys is not made part of the cluster', () => {
  const facts = sixFacts().filter((f) => f.inst !== r3);
  assert.throws(() => planFormation([...formed(facts), fresh(r3, 7)]), /10\.0\.1\.10:6380 \(redis-1\) holds 7 key\(s\) outside the cluster; rplay never resets/);
});

const clusterArgs = {
  instances: six.map((i) => ({ host: i.host, address: i.address, port: i.port, role: i.role, ...(i.replicaOf ? { replica_of: i.replicaOf } : {}) })),
  login_user: 'admin_user',
  login_password: 'pw-not-in-any-description',
  tls: { ca: 'pki/ca.crt', cert: 'pki/admin.crt', key: 'pki/admin.key' },
  timeout: 7,
} as Parameters<typeof redisCluster.plan>[0];

test('redis_cluster plan on fresh nodes: every change carries its operation, whole (who sends what to whom), as data; then it re-plans', () => {
  const plan = redisCluster.plan(clusterArgs, { observations: six.map((i) => fresh(i)) });
  assert.is(plan.replan, true);
  const ops = plan.changes.map((c) => c.op!);
  assert.ok(ops.every((o) => o !== undefined));
  // What a saved plan would hold is what runs: encoded and decoded, nothing is lost or changed.
  assert.equal(decodeOperations(encodeOperations(ops)), ops);
  assert.ok(ops.every((o) => o.timeoutMs === 7000 && o.login.login_password === 'pw-not-in-any-description'));
  assert.ok(plan.changes.every((c) => !c.description.includes('pw-not-in-any-description') && !c.waitOnly));
  const meet = ops.find((o) => o.kind === 'meet' && instanceId(o.node) === '10.0.2.10:6379');
  assert.ok(meet?.kind === 'meet');
  // Every other instance meets the newcomer: the full mesh at once.
  assert.equal(meet.from.map(instanceId), ['10.0.1.10:6379', '10.0.3.10:6379', '10.0.2.10:6380', '10.0.3.10:6380', '10.0.1.10:6380']);
  const known = ops.find((o) => o.kind === 'wait' && o.for === 'all-known');
  assert.ok(known?.kind === 'wait' && known.for === 'all-known');
  assert.equal(known.nodes.map((n) => n.id), six.map(idOf));
  // REPLICATE only once the meetings are known; agreement last.
  assert.ok(ops.indexOf(known) < ops.findIndex((o) => o.kind === 'replicate'));
  const last = ops.at(-1);
  assert.ok(last?.kind === 'wait' && last.for === 'agreement');
  const rep = ops.filter((o) => o.kind === 'replicate');
  assert.equal(rep.map((o) => (o.kind === 'replicate' ? `${instanceId(o.node)} ${o.masterId}` : '')), [`10.0.2.10:6380 ${idOf(m1)}`, `10.0.3.10:6380 ${idOf(m2)}`, `10.0.1.10:6380 ${idOf(m3)}`]);
});

test('redis_cluster plan: a node still catching up is a lone wait (ok once done, no change of its own); a formed cluster plans nothing', () => {
  const obs = formed(sixFacts(), { [idOf(r2)]: { replicationText: 'role:slave\r\nmaster_link_status:down\r\n' } });
  const plan = redisCluster.plan(clusterArgs, { observations: obs });
  assert.equal(plan.changes.length, 1);
  const [only] = plan.changes;
  assert.is(only?.waitOnly, true);
  assert.ok(only?.op?.kind === 'wait' && only.op.for === 'agreement' && only.op.instances.length === 6);
  const done = redisCluster.plan(clusterArgs, { observations: formed(sixFacts()) });
  assert.equal(done.changes, []);
  assert.is(done.msg, '3 master(s), 3 replica(s), all 16384 slots served, cluster_state:ok on every node');
});

test.run();
