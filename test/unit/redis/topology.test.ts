import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { computeTopology, instanceId, type RedisInstance, type TopologyHost } from '../../../modules/redis/topology.js';

const hosts = (n: number, azs?: string[]): TopologyHost[] =>
  Array.from({ length: n }, (_, i) => ({ name: `redis-${i + 1}`, address: `10.0.${i + 1}.10`, ...(azs ? { az: azs[i] as string } : {}) }));

function masterOf(all: RedisInstance[], r: RedisInstance): RedisInstance {
  const m = all.find((x) => instanceId(x) === r.replicaOf);
  assert.ok(m, `${instanceId(r)} replicates an unknown ${r.replicaOf}`);
  return m;
}

test('3 hosts, 1 replica each: master on 6379 and a replica of another host on 6380, per host', () => {
  const t = computeTopology(hosts(3, ['a', 'b', 'c']), { port: 6379, replicasPerMaster: 1 });
  assert.equal(
    t.map((i) => `${i.host} ${i.port} ${i.role} ${i.replicaOf ?? '-'}`),
    [
      'redis-1 6379 master -',
      'redis-2 6379 master -',
      'redis-3 6379 master -',
      'redis-2 6380 replica 10.0.1.10:6379',
      'redis-3 6380 replica 10.0.2.10:6379',
      'redis-1 6380 replica 10.0.3.10:6379',
    ],
  );
  assert.equal(t[0], { host: 'redis-1', address: '10.0.1.10', az: 'a', port: 6379, role: 'master' });
});

test('replicas_per_master 0 is the runbook: one master per host, nothing else', () => {
  const t = computeTopology(hosts(3), { port: 6379, replicasPerMaster: 0 });
  assert.equal(t.map((i) => `${i.address}:${i.port}/${i.role}`), ['10.0.1.10:6379/master', '10.0.2.10:6379/master', '10.0.3.10:6379/master']);
});

test('every host runs the same ports, one instance each; no replica shares its master host', () => {
  for (const [n, r] of [[3, 1], [3, 2], [4, 1], [5, 3], [6, 2]] as const) {
    const t = computeTopology(hosts(n), { port: 7000, replicasPerMaster: r });
    assert.is(t.length, n * (r + 1));
    for (const h of hosts(n)) {
      assert.equal(t.filter((i) => i.host === h.name).map((i) => i.port).sort(), Array.from({ length: r + 1 }, (_, j) => 7000 + j), `${n}/${r} ${h.name}`);
    }
    for (const rep of t.filter((i) => i.role === 'replica')) assert.not.equal(masterOf(t, rep).host, rep.host);
    // Each master's replicas are on distinct hosts.
    for (const m of t.filter((i) => i.role === 'master')) {
      const on = t.filter((i) => i.replicaOf === instanceId(m)).map((i) => i.host);
      assert.is(on.length, r);
      assert.is(new Set(on).size, r);
    }
  }
});

test('zones: a replica avoids its master zone when the zones allow it', () => {
  // Inventory order puts the two zone-a hosts next to each other; a naive ring would pair them.
  const t = computeTopology(hosts(4, ['a', 'a', 'b', 'b']), { port: 6379, replicasPerMaster: 1 });
  for (const rep of t.filter((i) => i.role === 'replica')) assert.not.equal(masterOf(t, rep).az, rep.az, instanceId(rep));
  const six = computeTopology(hosts(6, ['a', 'a', 'b', 'b', 'c', 'c']), { port: 6379, replicasPerMaster: 2 });
  for (const rep of six.filter((i) => i.role === 'replica')) assert.not.equal(masterOf(six, rep).az, rep.az, instanceId(rep));
});

test('zones that cannot all differ: still never the same host', () => {
  const t = computeTopology(hosts(3, ['a', 'a', 'b']), { port: 6379, replicasPerMaster: 1 });
  const sameZone = t.filter((i) => i.role === 'replica' && masterOf(t, i).az === i.az);
  assert.is(sameZone.length, 1);
  for (const rep of t.filter((i) => i.role === 'replica')) assert.not.equal(masterOf(t, rep).host, rep.host);
});

test('refuses layouts that cannot keep replicas off their master host, and bad input', () => {
  assert.throws(() => computeTopology(hosts(2), { port: 6379, replicasPerMaster: 2 }), /2 replica\(s\) per master need at least 3 hosts.*has 2/);
  assert.throws(() => computeTopology([], { port: 6379, replicasPerMaster: 0 }), /no hosts/);
  assert.throws(() => computeTopology(hosts(3), { port: 6379, replicasPerMaster: -1 }), /whole number/);
  assert.throws(() => computeTopology(hosts(3), { port: 55535, replicasPerMaster: 1 }), /no room/);
  const dup = [...hosts(2), { name: 'redis-9', address: '10.0.1.10' }];
  assert.throws(() => computeTopology(dup, { port: 6379, replicasPerMaster: 1 }), /redis-1 and redis-9 have the same address 10\.0\.1\.10/);
});

test.run();
