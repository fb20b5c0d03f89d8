// redis_topology reads the layout's inputs from the inventory (group, each host's private_ip and az)
// and sets facts; it touches no host.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { redisTopology } from '../../../modules/redis-topology.js';
import type { Connection } from '../../../runner/connection/connection.js';
import type { ModuleContext, Vars } from '../../../runner/types.js';
import { evaluateExpression, Scope } from '../../../runner/vars/index.js';
import { inventoryOf } from '../../support/inventory-view.js';

const inventory: Vars = {
  groups: { redis: ['redis-1', 'redis-2', 'redis-3'], empty: [] },
  hostvars: {
    'redis-1': { private_ip: '10.0.1.10', az: 'us-east-1a' },
    'redis-2': { private_ip: '10.0.2.10', az: 'us-east-1b' },
    'redis-3': { private_ip: '10.0.3.10' },
  },
};

// A connection that fails the test if the module touches the host.
const noHost = new Proxy({} as Connection, {
  get: (_t, name) => {
    throw new Error(`redis_topology touched the host (${String(name)})`);
  },
});

function ctx(host: string, vars: Vars = inventory): ModuleContext {
  return { host, conn: noHost, vars, inventory: inventoryOf(vars), projectDir: '/nonexistent', evaluate: (e) => evaluateExpression(e, Scope.of(vars)) };
}

type Args = Parameters<typeof redisTopology.plan>[0];
const plan = async (host: string, args: Args, vars?: Vars) => redisTopology.plan(args, await redisTopology.gather(ctx(host, vars), args));

test('facts: every instance, and this host own instances (a master and a replica of another host)', async () => {
  const p = await plan('redis-2', {});
  assert.equal(p.changes, []);
  assert.is(p.msg, '3 master(s), 3 replica(s); here: master :6379, replica :6380');
  const facts = p.setVars as { redis_instances: unknown[]; redis_local_instances: unknown[] };
  assert.is(facts.redis_instances.length, 6);
  assert.equal(facts.redis_local_instances, [
    { host: 'redis-2', address: '10.0.2.10', az: 'us-east-1b', port: 6379, role: 'master' },
    { host: 'redis-2', address: '10.0.2.10', az: 'us-east-1b', port: 6380, role: 'replica', replica_of: '10.0.1.10:6379' },
  ]);
});

test('replicas_per_master 0 and another port: the runbook layout', async () => {
  const p = await plan('redis-3', { replicas_per_master: 0, port: 7000 });
  assert.equal((p.setVars as { redis_local_instances: unknown[] }).redis_local_instances, [{ host: 'redis-3', address: '10.0.3.10', port: 7000, role: 'master' }]);
});

test('clear errors: empty group, a host without its address, too few hosts', async () => {
  await redisTopology.gather(ctx('redis-1'), { group: 'empty' }).then(
    () => assert.unreachable('accepted an empty group'),
    (e: Error) => assert.match(e.message, /^redis_topology: inventory group 'empty' has no hosts$/),
  );
  const noIp = { ...inventory, hostvars: { ...(inventory.hostvars as Vars), 'redis-3': { az: 'x' } } };
  await redisTopology.gather(ctx('redis-1', noIp), {}).then(
    () => assert.unreachable('accepted a host without private_ip'),
    (e: Error) => assert.match(e.message, /host redis-3 has no 'private_ip' variable/),
  );
  await redisTopology.gather(ctx('redis-1'), { replicas_per_master: 3 }).then(
    () => assert.unreachable('accepted 3 replicas on 3 hosts'),
    (e: Error) => assert.match(e.message, /3 replica\(s\) per master need at least 4 hosts/),
  );
});

test.run();
