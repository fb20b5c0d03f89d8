// redis_readdress's pure plan from given facts: which nodes.conf files move, what each operation
// holds (the new bytes, the marker, whether to stop the unit first), and that a file the marker says
// is moved already is never moved twice (a new address may be another node's old one).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { movesKey, redisReaddress, type ReaddressActual } from '../../../modules/redis-readdress.js';
import { decodeOperations, encodeOperations } from '../../../runner/execution/operations.js';

const id = (c: string): string => c.repeat(40);
const conf = (a: string, b: string): string =>
  [`${id('a')} ${a}:6379@16379 myself,master - 0 0 1 connected 0-8191`, `${id('b')} ${b}:6379@16379 master - 0 1700000000000 2 connected 8192-16383`, 'vars currentEpoch 2 lastVoteEpoch 0', ''].join('\n');

// node-1 moved 10.0.0.1 → 10.0.0.9, node-2 moved 10.0.0.2 → 10.0.0.1 (node-1's old address).
const moves: [string, string][] = [
  ['10.0.0.1', '10.0.0.9'],
  ['10.0.0.2', '10.0.0.1'],
];
const args = { instances: [{ port: 6379 }, { port: 6380 }] };

function actual(over: Partial<ReaddressActual['confs'][number]>[]): ReaddressActual {
  return {
    init: 'systemd',
    moves,
    confs: over.map((o, k) => ({ port: 6379 + k, unit: `redis-${6379 + k}`, path: `/var/lib/redis/${6379 + k}/nodes.conf`, running: false, text: conf('10.0.0.1', '10.0.0.2'), applied: '', ...o })),
  };
}

test('each moved nodes.conf is one operation holding its new text and the marker; a running unit is stopped first', () => {
  const plan = redisReaddress.plan(args, actual([{ running: true }, {}]));
  assert.equal(plan.changes.map((c) => c.description), [
    'stop redis-6379, move /var/lib/redis/6379/nodes.conf from 10.0.0.1, 10.0.0.2 to 10.0.0.9, 10.0.0.1',
    'move /var/lib/redis/6380/nodes.conf from 10.0.0.1, 10.0.0.2 to 10.0.0.9, 10.0.0.1',
  ]);
  const ops = plan.changes.map((c) => c.op!);
  assert.equal(ops[0], { kind: 'readdress', path: '/var/lib/redis/6379/nodes.conf', text: conf('10.0.0.9', '10.0.0.1'), marker: movesKey(new Map(moves)), stop: { unit: 'redis-6379', init: 'systemd' } });
  assert.is(ops[1]?.stop, undefined);
  assert.equal(decodeOperations(encodeOperations(ops)), ops);
});

test('moved once: the marker stops a second move (10.0.0.1 is now node-2 and must stay); no file, nothing to move, or no moves plan nothing', () => {
  const done = conf('10.0.0.9', '10.0.0.1');
  assert.equal(redisReaddress.plan(args, actual([{ text: done, applied: movesKey(new Map(moves)) }])).changes, []);
  // Without the marker the same file would be moved again, wrongly: the marker is what prevents it.
  assert.equal(redisReaddress.plan(args, actual([{ text: done }])).changes[0]?.op?.text, conf('10.0.0.9', '10.0.0.9'));
  assert.equal(redisReaddress.plan(args, actual([{ text: null }])).changes, []);
  assert.equal(redisReaddress.plan(args, actual([{ text: conf('10.0.0.7', '10.0.0.8') }])).changes, []);
  const none = redisReaddress.plan(args, { ...actual([{}]), moves: [] });
  assert.equal([none.changes, none.msg], [[], 'no node moved']);
});

test.run();
