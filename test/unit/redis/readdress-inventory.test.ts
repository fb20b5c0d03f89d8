// redis_readdress reads where each node was (its rplay:restored-address tag) and is (private_ip) from
// the inventory view the engine hands it, including an address a host set during the run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { redisReaddress } from '../../../modules/redis-readdress.js';
import type { ModuleContext, Vars } from '../../../runner/types.js';
import { fakeConnection } from '../../support/fake-connection.js';
import { inventoryOf } from '../../support/inventory-view.js';

const TAG = 'rplay:restored-address';

function ctx(vars: Vars): ModuleContext {
  // No nodes.conf on the host: only the moves, which come from the inventory, are under test.
  const conn = fakeConnection('n-1', [[/./, { stdout: 'systemd\n' }]]);
  return { host: 'n-1', conn, vars, inventory: inventoryOf(vars), projectDir: '/nonexistent', evaluate: () => assert.unreachable('an expression string was built') };
}

const args = { instances: [{ port: 6379 }] } as Parameters<typeof redisReaddress.gather>[1];

test("every host of the group: from its tag, to its address; hosts without a tag, or a tag that is not a mapping, do not move", async () => {
  const vars: Vars = {
    groups: { redis: ['n-1', 'n-2', 'n-3', 'n-4'], other: ['x'] },
    hostvars: {
      'n-1': { private_ip: '10.9.0.1', tags: { [TAG]: '10.0.1.1' } },
      'n-2': { private_ip: '10.9.0.2', tags: { [TAG]: '10.0.1.2', Name: 'n-2' } },
      'n-3': { private_ip: '10.9.0.3' },
      'n-4': { private_ip: '10.9.0.4', tags: 'not a mapping' },
      x: { private_ip: '10.9.9.9', tags: { [TAG]: '10.0.9.9' } },
    },
  };
  const actual = await redisReaddress.gather(ctx(vars), args);
  assert.equal(actual.moves, [
    ['10.0.1.1', '10.9.0.1'],
    ['10.0.1.2', '10.9.0.2'],
  ]);
  const other = await redisReaddress.gather(ctx(vars), { ...args, group: 'other', address_var: 'private_ip' });
  assert.equal(other.moves, [['10.0.9.9', '10.9.9.9']]);
  assert.equal((await redisReaddress.gather(ctx(vars), { ...args, group: 'none' })).moves, []);
});

test('two nodes moving to one address are refused, naming the host', async () => {
  const vars: Vars = {
    groups: { redis: ['n-1', 'n-2'] },
    hostvars: { 'n-1': { private_ip: '10.9.0.1', tags: { [TAG]: '10.0.1.1' } }, 'n-2': { private_ip: '10.9.0.1', tags: { [TAG]: '10.0.1.2' } } },
  };
  await redisReaddress.gather(ctx(vars), args).then(
    () => assert.unreachable('accepted two nodes on one address'),
    (e: Error) => assert.is(e.message, 'redis_readdress: both 10.0.1.1 and 10.0.1.2 would move to 10.9.0.1 (host n-2)'),
  );
});

test.run();
