// Which of rplay's snapshots retention lets go (pure), which snapshot a restore starts from, and the
// tags a new snapshot carries.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { snapshotsToPrune, type PruneScope } from '../../../modules/aws/snapshot-retention.js';
import { newSnapshotTags, restorePoint, snapshotName, type SnapshotFacts } from '../../../modules/aws/snapshot-tags.js';

const NOW = new Date('2024-06-30T12:00:00Z');
const scope: PruneScope = { project: 'redis-lab', instances: ['node-a', 'node-b'] };

function snap(id: string, day: number, over: Partial<SnapshotFacts> = {}): SnapshotFacts {
  return {
    id,
    state: 'completed',
    startTime: `2024-06-${String(day).padStart(2, '0')}T02:00:00.000Z`,
    of: 'node-a',
    device: '/dev/sda1',
    label: `2024-06-${String(day).padStart(2, '0')}`,
    address: '10.0.1.5',
    copiedFrom: null,
    project: 'redis-lab',
    encrypted: true,
    volumeSize: 8,
    tags: {},
    ...over,
  };
}

const ids = (xs: { snapshot: SnapshotFacts }[]): string[] => xs.map((x) => x.snapshot.id).sort();

test('no policy prunes nothing', () => {
  assert.equal(snapshotsToPrune([snap('s1', 1), snap('s2', 2)], {}, scope, NOW), []);
});

test('count keeps the newest N of each series, whatever order EC2 lists them in', () => {
  const list = [snap('s3', 3), snap('s1', 1), snap('s5', 5), snap('s2', 2), snap('s4', 4), snap('b1', 1, { of: 'node-b' }), snap('b2', 2, { of: 'node-b' })];
  const out = snapshotsToPrune(list, { count: 2 }, scope, NOW);
  assert.equal(ids(out), ['s1', 's2', 's3']);
  assert.match(out[0]!.reason, /^beyond the newest 2 of node-a \/dev\/sda1$/);
});

test('age drops old ones but never the newest completed one of a series', () => {
  const list = [snap('s1', 1), snap('s10', 10), snap('s29', 29), snap('b5', 5, { of: 'node-b' })];
  const out = snapshotsToPrune(list, { maxAgeDays: 7 }, scope, NOW);
  assert.equal(ids(out), ['s1', 's10']);
  assert.is(out[0]!.reason, 'older than 7 day(s)');
});

test('a series whose newer snapshots are pending keeps its newest completed one', () => {
  const list = [snap('s1', 1), snap('s2', 2, { state: 'pending' }), snap('s3', 3, { state: 'pending' })];
  assert.equal(snapshotsToPrune(list, { count: 1, maxAgeDays: 1 }, scope, NOW), []);
});

test('never a snapshot of another project, of an unmanaged instance, without rplay tags, or of the label being made', () => {
  const list = [
    snap('s1', 1),
    snap('s2', 2),
    snap('s3', 3),
    snap('other-project', 1, { project: 'other' }),
    snap('other-node', 1, { of: 'node-z' }),
    snap('by-hand', 1, { of: null, label: null }),
    snap('today', 1, { label: 'today' }),
  ];
  const out = snapshotsToPrune(list, { count: 1 }, { ...scope, protectLabel: 'today' }, NOW);
  assert.equal(ids(out), ['s1', 's2']);
});

test('devices are separate series', () => {
  const list = [snap('r1', 1), snap('r2', 2), snap('d1', 1, { device: '/dev/sdf' }), snap('d2', 2, { device: '/dev/sdf' })];
  assert.equal(ids(snapshotsToPrune(list, { count: 1 }, scope, NOW)), ['d1', 'r1']);
});

test('a restore starts from the newest completed root snapshot, or the label\'s', () => {
  const list = [snap('s1', 1), snap('s2', 2), snap('s3', 3, { state: 'pending' }), snap('data', 4, { device: '/dev/sdf' }), snap('b9', 9, { of: 'node-b' })];
  assert.is(restorePoint(list, 'node-a', '/dev/sda1')?.id, 's2');
  assert.is(restorePoint(list, 'node-a', '/dev/sda1', '2024-06-01')?.id, 's1');
  assert.is(restorePoint(list, 'node-a', '/dev/sda1', 'nope'), null);
  assert.is(restorePoint(list, 'node-c', '/dev/sda1'), null);
});

test('a new snapshot\'s tags and name', () => {
  const tags = newSnapshotTags({ instance: 'redis-node-1a', device: '/dev/sda1', rootDevice: '/dev/sda1', label: '2024-06-30', project: 'redis-lab', address: '10.0.1.5', created: new Date('2024-06-30T02:00:00.123Z'), extra: { Name: 'ignored', team: 'ops' } });
  assert.equal(tags, {
    team: 'ops',
    Name: 'redis-node-1a-2024-06-30',
    project: 'redis-lab',
    'rplay:snapshot-of': 'redis-node-1a',
    'rplay:device': '/dev/sda1',
    'rplay:label': '2024-06-30',
    'rplay:created': '2024-06-30T02:00:00Z',
    'rplay:address': '10.0.1.5',
  });
  assert.is(snapshotName('redis-node-1a', '/dev/sdf', '/dev/sda1', 'x'), 'redis-node-1a-sdf-x');
});

test.run();
