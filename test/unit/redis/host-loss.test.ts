// hostLossRisks: from what the instances report, whether losing any one host leaves slots unserved —
// the layout's own (one master per host, each replica elsewhere) is safe; a failover that left two
// masters on one host, a master whose only replica shares its host or is not in sync, is not.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { observe, type ObservedNode } from '../../../modules/redis/cluster-plan.js';
import { hostLossRisks } from '../../../modules/redis/host-loss.js';
import { computeTopology, type RedisInstance } from '../../../modules/redis/topology.js';

const six = computeTopology(
  [1, 2, 3].map((n) => ({ name: `node-${n}`, address: `10.0.${n}.10`, az: `az-${n}` })),
  { port: 6379, replicasPerMaster: 1 },
);
const [m1, m2, m3, r1, r2, r3] = six as [RedisInstance, RedisInstance, RedisInstance, RedisInstance, RedisInstance, RedisInstance];
const id = (i: RedisInstance): string => `${i.address.replace(/\./g, '')}${i.port}`.padEnd(40, '0');
const SLOTS: Record<string, string> = { [id(m1)]: '0-5460', [id(m2)]: '5461-10922', [id(m3)]: '10923-16383' };

/** Roles as [instance, master it replicates or undefined]; a master keeps the slots of the layout master it replaced. */
function cluster(roles: [RedisInstance, RedisInstance | undefined, string?][], link = 'up'): ObservedNode[] {
  const lines = roles.map(([i, master, slots]) => (me: boolean) =>
    [id(i), `${i.address}:${i.port}@${i.port + 10000},`, `${me ? 'myself,' : ''}${master ? 'slave' : 'master'}`, master ? id(master) : '-', '0', '0', '1', 'connected', ...(master ? [] : [slots ?? SLOTS[id(i)] ?? ''])].join(' '),
  );
  return roles.map(([i, master], k) =>
    observe({
      instance: i,
      nodesText: lines.map((l, j) => l(j === k)).join('\n') + '\n',
      infoText: 'cluster_state:ok\r\n',
      replicationText: master ? `role:slave\r\nmaster_link_status:${link}\r\n` : 'role:master\r\n',
      keys: 0,
    }),
  );
}

test("the layout's own cluster survives the loss of any host", () => {
  assert.equal(hostLossRisks(cluster([[m1, undefined], [m2, undefined], [m3, undefined], [r1, m1], [r2, m2], [r3, m3]])), []);
});

test('after a failover left two masters on node-2, losing node-2 leaves no majority: named', () => {
  // node-1's master (m1) restarted as a replica of r1, its replica on node-2, which took its slots.
  const v = cluster([[r1, undefined, '0-5460'], [m2, undefined], [m3, undefined], [m1, r1], [r2, m2], [r3, m3]]);
  assert.equal(hostLossRisks(v), [
    'node-2 holds 2 of the 3 masters (10.0.2.10:6380 (node-2), 10.0.2.10:6379 (node-2)): without it the other 1 are no majority (2) to elect their replacements',
  ]);
});

test("a master whose only replica is on its own host, or not in sync, is named with its slots", () => {
  // r3 (on node-1) replicating m1 (node-1) instead of m3.
  const sameHost = cluster([[m1, undefined], [m2, undefined], [m3, undefined], [r1, m1], [r2, m2], [r3, m1]]);
  assert.equal(hostLossRisks(sameHost), ['10.0.3.10:6379 (node-3) (slots 10923-16383) has no in-sync replica on another host: losing node-3 loses those slots']);
  const syncing = cluster([[m1, undefined], [m2, undefined], [m3, undefined], [r1, m1], [r2, m2], [r3, m3]], 'down');
  assert.is(hostLossRisks(syncing).length, 3);
});

test.run();
