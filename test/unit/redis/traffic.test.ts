// The traffic a roll is measured with counts what a user of the cluster would see: a refused write
// is refused, not lost; an acknowledged write that is gone (or changed) at the end is lost; keys
// written are deleted at the end and no other key is touched.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTraffic, trafficLine, type KeyValueClient } from '../../../modules/redis/traffic.js';

/** An in-memory cluster that refuses writes while `down` and can forget a key it acknowledged. */
function memoryCluster(): KeyValueClient & { data: Map<string, string>; down: boolean } {
  const data = new Map<string, string>();
  const c = {
    data,
    down: false,
    set: async (k: string, v: string) => {
      if (c.down) throw new Error('CLUSTERDOWN The cluster is down');
      data.set(k, v);
      return 'OK';
    },
    get: async (k: string) => data.get(k) ?? null,
    del: async (k: string) => (data.delete(k) ? 1 : 0),
  };
  return c;
}
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('writes refused during an outage are counted as refused, none lost; the window is measured', async () => {
  const c = memoryCluster();
  c.data.set('user:1', 'kept');
  const t = startTraffic(c, { prefix: 'drill', intervalMs: 1 });
  await pause(50);
  c.down = true;
  await pause(120);
  c.down = false;
  await pause(50);
  const f = await t.stop();
  assert.ok(f.refused > 0, 'some writes were refused');
  assert.is(f.lost, 0);
  assert.is(f.attempted, f.acknowledged + f.refused);
  assert.ok(f.unavailableMs >= 100 && f.unavailableMs < 1000, `window ${f.unavailableMs} ms`);
  assert.ok(f.reads > 0);
  assert.is(f.readFailures, 0);
  assert.equal([...c.data], [['user:1', 'kept']], 'only its own keys were written, and they are gone');
});

test('an acknowledged write that is gone or changed at the end is lost', async () => {
  const c = memoryCluster();
  const t = startTraffic(c, { prefix: 'drill', intervalMs: 1, cleanup: false });
  await pause(60);
  c.data.delete('drill:0');
  c.data.set('drill:1', 'something else');
  const f = await t.stop();
  assert.is(f.lost, 2);
  assert.is(f.refused, 0);
  assert.ok(c.data.has('drill:2'), 'cleanup: false keeps the keys');
});

test('a key unreadable until the deadline counts as lost, not as kept', async () => {
  const c = memoryCluster();
  const t = startTraffic(c, { prefix: 'drill', intervalMs: 1, settleMs: 300 });
  await pause(30);
  c.get = async () => {
    throw new Error('CLUSTERDOWN');
  };
  const f = await t.stop();
  assert.is(f.lost, f.acknowledged);
});

test('the drill line', () => {
  assert.is(
    trafficLine('failover', 6.24, { attempted: 100, acknowledged: 86, refused: 14, lost: 0, reads: 50, readFailures: 0, unavailableMs: 6000 }),
    'failover: 6.2 s, 14 writes refused, 0 acknowledged writes lost',
  );
});

test.run();
