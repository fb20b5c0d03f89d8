// redis_failover's pure plan, used by ebs-encrypt.yml around each node's stop: from what every instance
// reports (CLUSTER NODES, CLUSTER INFO, INFO replication) to the failovers that empty a host of masters
// (drained) or put masters back where the layout has them (restored), after waiting for a whole cluster.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describeFailoverStep, failoverPlan, FailoverPlanError, redisFailover, type ClusterView } from '../../../modules/redis-failover.js';
import { decodeOperations, encodeOperations } from '../../../runner/execution/operations.js';
import { observe } from '../../../modules/redis/cluster-plan.js';
import { computeTopology, instanceId, type RedisInstance } from '../../../modules/redis/topology.js';

const layout = computeTopology(
  [
    { name: 'node-a', address: '10.0.1.10', az: 'us-east-1a' },
    { name: 'node-b', address: '10.0.2.10', az: 'us-east-1b' },
    { name: 'node-c', address: '10.0.3.10', az: 'us-east-1c' },
  ],
  { port: 6379, replicasPerMaster: 1 },
);
const at = (host: string, port: number): RedisInstance => layout.find((i) => i.host === host && i.port === port)!;
const nodeId = (i: RedisInstance): string => instanceId(i).replace(/[.:]/g, '').padEnd(40, '0');

interface Role {
  instance: RedisInstance;
  /** The instance it replicates; none: a master with `slots`. */
  of?: RedisInstance;
  slots?: string;
  linkUp?: boolean;
}

/** The layout as formed: masters on :6379 (0-5460, 5461-10922, 10923-16383), each replica on the next host. */
function formed(): Role[] {
  const slots = ['0-5460', '5461-10922', '10923-16383'];
  return layout.map((i) => {
    if (i.role === 'master') return { instance: i, slots: slots[layout.indexOf(i)] };
    return { instance: i, of: layout.find((m) => instanceId(m) === i.replicaOf)! };
  });
}

/** Swaps the roles of a master and its replica, as a failover does. */
function swapped(roles: Role[], replica: RedisInstance): Role[] {
  const r = roles.find((x) => x.instance === replica)!;
  const m = roles.find((x) => x.instance === r.of)!;
  return roles.map((x) => (x === r ? { instance: r.instance, slots: m.slots } : x === m ? { instance: m.instance, of: r.instance } : x));
}

/** Each master's replication offset: distinct, so a test sees which one an operation gates on. */
const offsetOf = (i: RedisInstance): number => 1000 * (layout.indexOf(i) + 1) + i.port;

function view(roles: Role[], down: RedisInstance[] = []): ClusterView {
  const up = roles.filter((r) => !down.includes(r.instance));
  const line = (r: Role, me: boolean): string => {
    const flags = [me ? 'myself' : '', r.of ? 'slave' : 'master', down.includes(r.instance) ? 'fail' : ''].filter(Boolean).join(',');
    return `${nodeId(r.instance)} ${instanceId(r.instance)}@${r.instance.port + 10000} ${flags} ${r.of ? nodeId(r.of) : '-'} 0 0 1 connected ${r.slots ?? ''}`.trim();
  };
  return {
    nodes: up.map((r) =>
      observe({
        instance: r.instance,
        nodesText: roles.map((x) => line(x, x === r)).join('\n'),
        infoText: `cluster_state:ok\ncluster_slots_assigned:16384\ncluster_known_nodes:${roles.length}`,
        replicationText: r.of ? `role:slave\nmaster_link_status:${r.linkUp === false ? 'down' : 'up'}\nslave_repl_offset:${offsetOf(r.of)}` : `role:master\nmaster_repl_offset:${offsetOf(r.instance)}`,
        keys: 0,
      }),
    ),
    down: down.map((instance) => ({ instance, why: 'not running' })),
  };
}

const describe = (v: ClusterView, state: 'drained' | 'restored', host = 'node-a', allow = false) => failoverPlan(state, v, host, allow).map(describeFailoverStep);

test('drained: the host\'s master is handed to its replica on another host', () => {
  assert.equal(describe(view(formed()), 'drained'), ['CLUSTER FAILOVER on 10.0.2.10:6380 (node-b): it takes over slots 0-5460 from 10.0.1.10:6379 (node-a)']);
});

test('drained: a host holding no master, in a whole cluster, is ok', () => {
  assert.equal(describe(view(swapped(formed(), at('node-b', 6380))), 'drained'), []);
});

test('drained: a cluster that is not whole is waited for first (the host before has not rejoined)', () => {
  const steps = describe(view(swapped(formed(), at('node-b', 6380)), [at('node-c', 6379), at('node-c', 6380)]), 'drained');
  assert.is(steps.length, 1);
  assert.match(steps[0]!, /^wait until the cluster is whole: 10\.0\.3\.10:6379 \(node-c\) does not answer \(not running\); 10\.0\.3\.10:6380 \(node-c\) does not answer/);
});

test('drained: a master whose only replica is out of sync waits; one with no replica elsewhere is refused unless downtime is allowed', () => {
  const lagging = formed().map((r) => (r.instance === at('node-b', 6380) ? { ...r, linkUp: false } : r));
  assert.equal(describe(view(lagging), 'drained').map((s) => s.split(':')[0]), ['wait until the cluster is whole', 'CLUSTER FAILOVER on a replica of 10.0.1.10']);
  const mastersOnly = formed().filter((r) => r.of === undefined);
  try {
    describe(view(mastersOnly), 'drained');
    assert.unreachable();
  } catch (e) {
    assert.instance(e, FailoverPlanError);
    assert.match((e as Error).message, /10\.0\.1\.10:6379 \(node-a\) serves slots 0-5460 and has no in-sync replica on another host: with node-a down those slots would go unserved/);
  }
  assert.equal(describe(view(mastersOnly), 'drained', 'node-a', true), []);
});

test('restored: a layout master found as a replica takes its slots back; the formed layout is ok', () => {
  assert.equal(describe(view(swapped(formed(), at('node-b', 6380))), 'restored'), ['CLUSTER FAILOVER on 10.0.1.10:6379 (node-a): it takes over slots 0-5460 from 10.0.2.10:6380 (node-b)']);
  assert.equal(describe(view(formed()), 'restored'), []);
});

test('restored: instances still starting are waited for', () => {
  const steps = describe(view(swapped(formed(), at('node-b', 6380)), [at('node-a', 6379), at('node-a', 6380)]), 'restored');
  assert.equal(steps.map((s) => s.split(':')[0]), ['wait until the cluster is whole']);
});

const moduleArgs = (state: 'drained' | 'restored', host?: string) =>
  ({
    instances: layout.map((i) => ({ host: i.host, address: i.address, port: i.port, role: i.role, ...(i.replicaOf ? { replica_of: i.replicaOf } : {}) })),
    state,
    ...(host ? { host } : {}),
    login_user: 'admin_user',
    login_password: 'pw-never-described',
    tls: { ca: 'pki/ca.crt', cert: 'pki/admin.crt', key: 'pki/admin.key' },
    timeout: 9,
  }) as Parameters<typeof redisFailover.plan>[0];

test('redis_failover plan, restored, with two masters on node-b: the operation is CLUSTER FAILOVER on node-a:6379, gated on node-b:6380\'s offset; it survives encoding', () => {
  // node-a was down: its replica node-b:6380 took over 0-5460, so node-b serves two of the three masters.
  const v = view(swapped(formed(), at('node-b', 6380)));
  const plan = redisFailover.plan(moduleArgs('restored'), { ...v, host: 'node-a' });
  assert.is(plan.replan, true);
  assert.equal(plan.changes.map((c) => c.description), ['CLUSTER FAILOVER on 10.0.1.10:6379 (node-a): it takes over slots 0-5460 from 10.0.2.10:6380 (node-b)']);
  const op = plan.changes[0]?.op;
  assert.ok(op?.kind === 'failover');
  assert.equal([instanceId(op.replica.instance), op.replica.id, instanceId(op.master.instance), op.master.id], ['10.0.1.10:6379', nodeId(at('node-a', 6379)), '10.0.2.10:6380', nodeId(at('node-b', 6380))]);
  // The gate: the offset the promoted master (node-b:6380) reported when the plan was made.
  assert.is(op.offset, offsetOf(at('node-b', 6380)));
  assert.is(op.timeoutMs, 9000);
  assert.equal(op.instances.map(instanceId), layout.map(instanceId));
  assert.equal(decodeOperations(encodeOperations([op])), [op]);
  assert.not.match(plan.changes[0]!.description, /pw-never-described/);
});

test('redis_failover plan, drained: one failover operation per master on the host, none for a host holding none', () => {
  const plan = redisFailover.plan(moduleArgs('drained', 'node-c'), { ...view(formed()), host: 'node-c' });
  const op = plan.changes[0]?.op;
  assert.equal(plan.changes.length, 1);
  assert.ok(op?.kind === 'failover');
  assert.equal([instanceId(op.replica.instance), instanceId(op.master.instance), op.offset], ['10.0.1.10:6380', '10.0.3.10:6379', offsetOf(at('node-c', 6379))]);
  const none = redisFailover.plan(moduleArgs('drained', 'node-a'), { ...view(swapped(formed(), at('node-b', 6380))), host: 'node-a' });
  assert.equal(none.changes, []);
  assert.is(none.msg, 'no master on node-a; the cluster is whole');
});

test('redis_failover plan, cluster not whole: one wait operation, then a re-plan; the failovers to come are in its description, not operations of their own', () => {
  const lagging = formed().map((r) => (r.instance === at('node-b', 6380) ? { ...r, linkUp: false } : r));
  const plan = redisFailover.plan(moduleArgs('drained'), { ...view(lagging), host: 'node-a' });
  assert.is(plan.replan, true);
  assert.is(plan.changes.length, 1);
  const [wait] = plan.changes;
  assert.ok(wait?.op?.kind === 'wait' && wait.op.for === 'whole');
  assert.is(wait.waitOnly, undefined, 'a failover follows: not a mere wait');
  assert.match(wait.description, /^wait until the cluster is whole: 10\.0\.2\.10:6380 \(node-b\) is not in sync .*; then CLUSTER FAILOVER on a replica of 10\.0\.1\.10:6379 \(node-a\) on another host/);
  // Only waiting for instances still starting, nothing to move after: ok once done.
  const starting = redisFailover.plan(moduleArgs('restored'), { ...view(formed(), [at('node-c', 6380)]), host: 'node-a' });
  assert.is(starting.changes.length, 1);
  assert.is(starting.changes[0]?.waitOnly, true);
});

test('redis_failover plan refuses a master that reports no replication offset (no gate, no failover)', () => {
  const v = view(swapped(formed(), at('node-b', 6380)));
  const promoted = v.nodes.find((n) => n.instance === at('node-b', 6380))!;
  promoted.replication = { role: 'master' };
  assert.throws(() => redisFailover.plan(moduleArgs('restored'), { ...v, host: 'node-a' }), /redis_failover: 10\.0\.2\.10:6380 \(node-b\) reports no replication offset/);
});

test.run();
