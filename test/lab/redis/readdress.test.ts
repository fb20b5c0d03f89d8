// redis_readdress on a real lab host: nodes.conf files restored from another machine's snapshot are
// moved to the addresses the nodes have now, through the module's encoded operations. A running
// instance (a real redis-server, cluster mode) is stopped first and left stopped; the old file is
// kept beside it; a marker records the moves so that a re-run never moves an address twice, here
// where one node's new address is another node's old one.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { movesKey, redisReaddress, type ReaddressOp } from '../../../modules/redis-readdress.js';
import type { Connection } from '../../../runner/connection/connection.js';
import { startLab, type Lab } from '../../lab-fixture.js';
import { changedThenNot, checkPlan } from '../../support/converge.js';
import { descriptions } from '../modules/module-host.js';
import { asRoot, connectHost, moduleContext } from './redis-lab.js';

const test = suite('redis_readdress on a lab host');
let lab: Lab;
let conn: Connection;
const OLD = '127.0.38.101';
const PEER_OLD = '127.0.38.102';
// node-1 now has the lab host's address; node-2 now has node-1's old one.
const NEW = '127.0.38.1';
const PEER_NEW = OLD;
const moves = new Map([
  [OLD, NEW],
  [PEER_OLD, PEER_NEW],
]);
const vars = {
  groups: { redis: ['node-1', 'node-2'] },
  hostvars: {
    'node-1': { tags: { 'rplay:restored-address': OLD }, private_ip: NEW },
    'node-2': { tags: { 'rplay:restored-address': PEER_OLD }, private_ip: PEER_NEW },
  },
};
const args = { instances: [{ port: 6379 }, { port: 6380 }] };
const me = '1'.repeat(40);
const peer = '2'.repeat(40);
const nodesConf = (port: number, a: string, b: string): string =>
  [`${me} ${a}:${port}@${port + 10000} myself,master - 0 0 1 connected 0-8191`, `${peer} ${b}:${port}@${port + 10000} master - 0 1700000000000 2 connected 8192-16383`, 'vars currentEpoch 2 lastVoteEpoch 0', ''].join('\n');
const start = (unit: string): Promise<string> => asRoot(conn, 'systemctl start -- "$1"', [unit]);
const activeState = (unit: string): Promise<string> => asRoot(conn, 'systemctl show -p ActiveState -- "$1"', [unit]);
const cat = (path: string): Promise<string> => asRoot(conn, 'cat -- "$1"', [path]);

test.before(async () => {
  lab = await startLab({ hosts: 1, prefix: '127.0.38' });
  conn = await connectHost(lab, lab.hosts[0]!);
  await asRoot(conn, 'mkdir -p -m 0750 /var/lib/redis/6379 /var/lib/redis/6380 && chown redis:redis /var/lib/redis/6379 /var/lib/redis/6380');
  for (const port of [6379, 6380]) {
    await conn.writeFile(`/var/lib/redis/${port}/nodes.conf`, nodesConf(port, OLD, PEER_OLD), { mode: '0640', owner: 'redis', group: 'redis', become: true });
  }
  // 6379 runs, as a restored node whose service started before its addresses were moved; 6380 does not.
  const unit = `[Service]\nType=simple\nUser=redis\nGroup=redis\nExecStart=/usr/bin/redis-server --port 6379 --bind ${NEW} --protected-mode no --save "" --cluster-enabled yes --cluster-config-file /var/lib/redis/6379/nodes.conf --dir /var/lib/redis/6379\n`;
  await conn.writeFile('/etc/systemd/system/redis-6379.service', unit, { mode: '0644', become: true });
  await start('redis-6379');
});
test.after(async () => {
  await conn?.close().catch(() => undefined);
  await lab?.down();
});

test('--check lists each move and changes nothing; a run applies exactly the encoded operations: stopped, moved, kept, marked; the re-plan is empty', async () => {
  const ctx = moduleContext(conn, vars);
  const before = await cat('/var/lib/redis/6380/nodes.conf');
  const check = await checkPlan(redisReaddress, ctx, args);
  assert.equal(descriptions(check), [
    `stop redis-6379, move /var/lib/redis/6379/nodes.conf from ${OLD}, ${PEER_OLD} to ${NEW}, ${PEER_NEW}`,
    `move /var/lib/redis/6380/nodes.conf from ${OLD}, ${PEER_OLD} to ${NEW}, ${PEER_NEW}`,
  ]);
  assert.match(await activeState('redis-6379'), /ActiveState=active/, 'check mode stopped nothing');
  assert.is(await cat('/var/lib/redis/6380/nodes.conf'), before);

  // The second plan being empty is the marker at work: moved again, OLD (now node-2's) would move to NEW.
  const run = await changedThenNot(redisReaddress, ctx, args);
  assert.match(await activeState('redis-6379'), /ActiveState=inactive/, 'stopped, and left stopped');
  for (const port of [6379, 6380]) {
    const dir = `/var/lib/redis/${port}`;
    const now = await cat(`${dir}/nodes.conf`);
    assert.is(now, (run.planned.changes[port - 6379]?.op as ReaddressOp | undefined)?.text, `${port}: the bytes the plan holds`);
    assert.match(now, new RegExp(`^${me} ${NEW.replace(/\./g, '\\.')}:${port}@${port + 10000} myself,master `, 'm'));
    assert.match(now, new RegExp(`^${peer} ${PEER_NEW.replace(/\./g, '\\.')}:${port}@${port + 10000} master `, 'm'));
    assert.not.match(now, new RegExp(PEER_OLD.replace(/\./g, '\\.')));
    assert.is(await cat(`${dir}/rplay-readdressed`), `${movesKey(moves)}\n`);
    assert.is(await asRoot(conn, 'stat -c %a -- "$1"', [`${dir}/rplay-readdressed`]), '640\n');
  }
  // The untouched instance's old file, kept byte for byte.
  assert.is(await cat('/var/lib/redis/6380/nodes.conf.before-readdress'), before);
  assert.match(await cat('/var/lib/redis/6379/nodes.conf.before-readdress'), new RegExp(`^${me} ${OLD.replace(/\./g, '\\.')}:6379@16379 myself`, 'm'));
});

test.run();
