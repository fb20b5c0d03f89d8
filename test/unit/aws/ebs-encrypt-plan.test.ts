// ebs_encrypt's pure planner, from given EC2 states: a fresh unencrypted root gets every step; each
// state a killed run can leave gets exactly the steps after it; an encrypted root gets none.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { planMigration, type MigrationFacts } from '../../../modules/aws/ebs-encrypt-plan.js';
import type { Ec2Op } from '../../../modules/aws/ec2-operation.js';
import { held } from '../../../modules/aws/ec2-operation.js';
import { AwsError } from '../../../modules/aws/errors.js';
import type { InstanceFacts, VolumeFacts } from '../../../modules/aws/resources.js';
import type { SnapshotFacts } from '../../../modules/aws/snapshot-tags.js';
import { encryptPlan } from '../../../modules/ebs-encrypt.js';

const opts = { kmsKeyId: 'alias/redis-lab-ebs', sshWhere: 'port 22 of its public address' };
const O = 'vol-0old';
const N = 'vol-0new';

function instance(state: string, tags: Record<string, string> = {}): InstanceFacts {
  return { id: 'i-1', name: 'redis-node-1a', state, az: 'us-east-1a', rootDevice: '/dev/sda1', volumes: { '/dev/sda1': O }, tags: { Name: 'redis-node-1a', project: 'redis-lab', ...tags } };
}

function volume(id: string, over: Partial<VolumeFacts> = {}): VolumeFacts {
  return { id, encrypted: false, az: 'us-east-1a', size: 8, type: 'gp3', iops: 3000, throughput: 125, state: 'in-use', tags: {}, ...over };
}

const attached = (state = 'attached') => ({ attachment: { instanceId: 'i-1', device: '/dev/sda1', state } });
const original = volume(O, attached());
const snap = (id: string, encrypted: boolean, state = 'completed'): SnapshotFacts => ({
  id, state, encrypted, startTime: '', of: null, device: null, label: null, address: null, copiedFrom: null, project: null, volumeSize: 8, tags: { 'rplay:encrypts': O },
});
const fresh = (over: Partial<VolumeFacts> = {}) => volume(N, { encrypted: true, kmsKeyId: 'arn:aws:kms:us-east-1:1:key/k', state: 'available', tags: { 'rplay:encrypts': O }, ...over });
const migrating = (step: string) => ({ 'rplay:ebs-encrypt': step, 'rplay:encrypts': O });

function facts(f: Partial<MigrationFacts> & { instance: InstanceFacts }): MigrationFacts {
  return { root: original, original, snapshots: [], volumes: [], ...f };
}

const plan = (f: MigrationFacts) => planMigration(f, opts);
const names = (f: MigrationFacts) => plan(f).map((s) => s.name);
const lines = (f: MigrationFacts) => plan(f).map((s) => s.description);

test('a running instance on an unencrypted root: every step, in the runbook order', () => {
  assert.equal(lines(facts({ instance: instance('running') })), [
    `CreateTags i-1 rplay:ebs-encrypt=mark,rplay:encrypts=${O}`,
    'StopInstances i-1 (redis-node-1a) and wait until it is stopped',
    `CreateSnapshot ${O} (root of i-1 (redis-node-1a), stopped) and wait until it is completed`,
    'CopySnapshot <the new snapshot> encrypted with alias/redis-lab-ebs and wait until it is completed',
    'CreateVolume gp3 8 GiB in us-east-1a from <the encrypted copy>, encrypted with alias/redis-lab-ebs, and wait until it is available',
    `DetachVolume ${O} from i-1 (redis-node-1a) and wait until it is detached`,
    'AttachVolume <the new volume> to i-1 (redis-node-1a) at /dev/sda1 and wait until it is attached',
    'StartInstances i-1 (redis-node-1a) and wait until it is running and SSH answers on port 22 of its public address',
    `CreateTags ${O} rplay:replaced-by=<the new volume>; i-1 rplay:ebs-encrypt=done`,
  ]);
});

test('without a KMS key the copy and the volume use the account\'s aws/ebs key', () => {
  const steps = planMigration(facts({ instance: instance('running') }), {});
  assert.match(steps[3]!.description, /encrypted with the account's aws\/ebs key/);
});

test('an encrypted root: nothing to do', () => {
  const root = volume('vol-enc', { encrypted: true, ...attached() });
  assert.equal(plan(facts({ instance: instance('running'), root, original: null })), []);
  // A finished migration leaves its tags: still nothing to do.
  assert.equal(plan(facts({ instance: instance('running', { 'rplay:ebs-encrypt': 'done', 'rplay:encrypts': O }), root: fresh(attached()), original: null })), []);
});

test('an instance stopped by hand on an unencrypted root: no stop, the rest', () => {
  assert.equal(names(facts({ instance: instance('stopped') })), ['mark', 'snapshot', 'copy', 'volume', 'detach', 'attach', 'start', 'finish']);
});

test('each state a killed run leaves: exactly the steps after it', () => {
  const cases: [string, MigrationFacts, string[]][] = [
    ['after mark', facts({ instance: instance('running', migrating('mark')) }), ['stop', 'snapshot', 'copy', 'volume', 'detach', 'attach', 'start', 'finish']],
    ['after stop', facts({ instance: instance('stopped', migrating('stop')) }), ['snapshot', 'copy', 'volume', 'detach', 'attach', 'start', 'finish']],
    ['snapshot pending', facts({ instance: instance('stopped', migrating('stop')), snapshots: [snap('snap-1', false, 'pending')] }), ['snapshot', 'copy', 'volume', 'detach', 'attach', 'start', 'finish']],
    ['after snapshot', facts({ instance: instance('stopped', migrating('snapshot')), snapshots: [snap('snap-1', false)] }), ['copy', 'volume', 'detach', 'attach', 'start', 'finish']],
    ['after copy', facts({ instance: instance('stopped', migrating('copy')), snapshots: [snap('snap-1', false), snap('snap-2', true)] }), ['volume', 'detach', 'attach', 'start', 'finish']],
    ['after volume', facts({ instance: instance('stopped', migrating('volume')), snapshots: [snap('snap-1', false), snap('snap-2', true)], volumes: [fresh()] }), ['detach', 'attach', 'start', 'finish']],
    [
      'after detach',
      facts({ instance: instance('stopped', migrating('detach')), root: null, original: volume(O, { state: 'available' }), snapshots: [snap('snap-1', false), snap('snap-2', true)], volumes: [fresh()] }),
      ['attach', 'start', 'finish'],
    ],
    ['after attach', facts({ instance: instance('stopped', migrating('attach')), root: fresh({ state: 'in-use', ...attached() }), original: volume(O, { state: 'available' }), volumes: [fresh(attached())] }), ['start', 'finish']],
    ['started, SSH not seen yet', facts({ instance: instance('running', migrating('attach')), root: fresh({ state: 'in-use', ...attached() }), original: volume(O, { state: 'available' }) }), ['start', 'finish']],
    ['after start', facts({ instance: instance('running', migrating('start')), root: fresh({ state: 'in-use', ...attached() }), original: volume(O, { state: 'available' }) }), ['finish']],
  ];
  for (const [what, f, expected] of cases) assert.equal(names(f), expected, what);
});

test('resumed steps name what exists and wait for what is in flight', () => {
  const s = lines(facts({ instance: instance('stopped', migrating('stop')), snapshots: [snap('snap-1', false, 'pending')] }));
  assert.equal(s.slice(0, 3), [
    `wait until snapshot snap-1 of ${O} is completed`,
    'CopySnapshot snap-1 encrypted with alias/redis-lab-ebs and wait until it is completed',
    'CreateVolume gp3 8 GiB in us-east-1a from <the encrypted copy>, encrypted with alias/redis-lab-ebs, and wait until it is available',
  ]);
  const detaching = lines(facts({ instance: instance('stopped', migrating('volume')), original: volume(O, attached('detaching')), root: volume(O, attached('detaching')), snapshots: [snap('snap-1', false), snap('snap-2', true)], volumes: [fresh()] }));
  assert.equal(detaching.slice(0, 2), [`wait until ${O} is detached from i-1 (redis-node-1a)`, `AttachVolume ${N} to i-1 (redis-node-1a) at /dev/sda1 and wait until it is attached`]);
  const up = lines(facts({ instance: instance('running', migrating('attach')), root: fresh({ state: 'in-use', ...attached() }), original: volume(O, { state: 'available' }) }));
  assert.equal(up, ['wait until it is running and SSH answers on port 22 of its public address', `CreateTags ${O} rplay:replaced-by=${N}; i-1 rplay:ebs-encrypt=done`]);
});

test('started again after an interrupted attempt: the stale pieces are discarded, then everything is redone', () => {
  const f = facts({ instance: instance('running', migrating('volume')), snapshots: [snap('snap-1', false), snap('snap-2', true)], volumes: [fresh()] });
  assert.equal(lines(f).slice(0, 4), [
    `DeleteVolume ${N} (made by an interrupted attempt from an older state of ${O})`,
    `DeleteSnapshot snap-2 (made by an interrupted attempt from an older state of ${O})`,
    `DeleteSnapshot snap-1 (made by an interrupted attempt from an older state of ${O})`,
    'StopInstances i-1 (redis-node-1a) and wait until it is stopped',
  ]);
  assert.equal(names(f).slice(4), ['snapshot', 'copy', 'volume', 'detach', 'attach', 'start', 'finish']);
});

test('stopped again after such a restart: pieces older than the last start are stale too', () => {
  const at = (t: string) => ({ startTime: `2025-01-01T${t}:00.000Z` });
  const pieces = { snapshots: [{ ...snap('snap-1', false), ...at('10:00') }, { ...snap('snap-2', true), ...at('10:01') }] };
  const restarted = facts({ instance: { ...instance('stopped', migrating('copy')), launchedAt: '2025-01-01T11:00:00.000Z' }, ...pieces });
  assert.equal(names(restarted), ['discard', 'discard', 'snapshot', 'copy', 'volume', 'detach', 'attach', 'start', 'finish']);
  const notSince = facts({ instance: { ...instance('stopped', migrating('copy')), launchedAt: '2025-01-01T09:00:00.000Z' }, ...pieces });
  assert.equal(names(notSince), ['volume', 'detach', 'attach', 'start', 'finish']);
});

const aws = { region: 'us-east-1', endpointUrl: 'http://127.0.0.1:1', accessKey: 'AKIDTEST', secretKey: 'the-secret-key' };
const encrypt = (f: MigrationFacts) => encryptPlan({ name: 'redis-node-1a', project: 'redis-lab', kms_key_id: 'alias/redis-lab-ebs' }, { aws: held(aws), migration: f });
/** Each change's operation in short: its calls and waits, with what they use. */
const shortly = (op: Ec2Op | undefined): string[] =>
  (op?.steps ?? []).map((s) => {
    const id = (v: unknown) => (typeof v === 'string' ? v : `<${(v as { $made: string }).$made}>`);
    if (s.do === 'call') {
      const p = s.params as Record<string, unknown>;
      const on = p.VolumeId ?? p.SourceSnapshotId ?? p.SnapshotId ?? (p.Resources as unknown[] | undefined)?.[0] ?? (p.InstanceIds as unknown[] | undefined)?.[0] ?? '';
      return `${s.action} ${id(on)}${s.save === undefined ? '' : ` → <${Object.keys(s.save).join()}>`}`;
    }
    if (s.do === 'wait-snapshots') return `wait ${s.ids.map(id).join()} completed`;
    if (s.do === 'wait-ssh') return `wait ssh ${s.address}:${s.port}`;
    if (s.do === 'wait-gone') return `wait ${s.ids.join()} gone`;
    return `wait ${id(s.id)} ${s.until}`;
  });

test('the plan\'s operations: each step\'s calls and waits in order, later ones using what earlier ones make, the credentials real', () => {
  const p = encrypt(facts({ instance: instance('running') }));
  assert.is(p.replan, true);
  assert.equal(p.changes.map((c) => shortly(c.op)), [
    ['CreateTags i-1'],
    ['StopInstances i-1', 'wait i-1 stopped', 'CreateTags i-1'],
    [`CreateSnapshot ${O} → <snapshot>`, 'wait <snapshot> completed', 'CreateTags i-1'],
    ['CopySnapshot <snapshot> → <copy>', 'wait <copy> completed', 'CreateTags i-1'],
    ['CreateVolume <copy> → <volume>', 'wait <volume> available', 'CreateTags i-1'],
    [`DetachVolume ${O}`, `wait ${O} available`, 'CreateTags i-1'],
    ['AttachVolume <volume>', 'wait <volume> attached', 'CreateTags i-1'],
    ['StartInstances i-1', 'wait i-1 running', 'wait ssh public:22', 'CreateTags i-1'],
    [`CreateTags ${O}`, 'CreateTags i-1'],
  ]);
  const ops = p.changes.map((c) => c.op!);
  assert.equal(ops.map((o) => o.aws.secretKey), Array(9).fill('the-secret-key'), 'hosts (here EC2) get the real values');
  const progress = ops.map((o) => (o.steps.at(-1) as unknown as { params: { Tags: { Key: string; Value: string }[] } }).params.Tags.find((t) => t.Key === 'rplay:ebs-encrypt')?.Value);
  assert.equal(progress, ['mark', 'stop', 'snapshot', 'copy', 'volume', 'detach', 'attach', 'start', 'done']);
  const volume = ops[4]!.steps[0] as unknown as { params: Record<string, unknown>; token?: true };
  assert.equal([volume.params.KmsKeyId, volume.token, volume.params.AvailabilityZone, volume.params.VolumeType, volume.params.Size], ['alias/redis-lab-ebs', true, 'us-east-1a', 'gp3', 8]);
  assert.equal(encrypt(facts({ instance: instance('running') })), p, 'the same facts, the same plan');
});

test('resumed: the ids that exist are in the operations, only what is missing is made', () => {
  const p = encrypt(facts({ instance: instance('stopped', migrating('copy')), snapshots: [snap('snap-1', false), snap('snap-2', true)] }));
  assert.equal(shortly(p.changes[0]!.op), ['CreateVolume snap-2 → <volume>', 'wait <volume> available', 'CreateTags i-1']);
});

test('an instance on its way: only the wait, reported at once, then the plan is made again', () => {
  for (const [state, until] of [['pending', 'running'], ['stopping', 'stopped']] as const) {
    const p = encrypt({ instance: instance(state), root: null, original: null, snapshots: [], volumes: [] });
    assert.equal(p.changes.map((c) => [c.description, shortly(c.op), c.waitOnly]), [[`wait until i-1 (redis-node-1a) is ${until} (it is ${state})`, [`wait i-1 ${until}`], true]]);
    assert.is(p.replan, true);
  }
});

function refused(f: MigrationFacts): string {
  try {
    plan(f);
  } catch (e) {
    assert.instance(e, AwsError);
    return (e as Error).message;
  }
  throw new Error('planned');
}

test('states rplay must not guess about are errors that say what to do', () => {
  assert.match(refused(facts({ instance: instance('stopped'), root: null, original: null })), /no volume at its root device \/dev\/sda1 and no migration is recorded/);
  assert.match(refused(facts({ instance: instance('stopped', migrating('copy')), snapshots: [snap('snap-1', false), snap('snap-3', false), snap('snap-2', true)] })), /2 unencrypted snapshots are tagged for this migration: snap-1, snap-3/);
  assert.match(refused(facts({ instance: instance('stopped', migrating('snapshot')), snapshots: [snap('snap-1', false, 'error')] })), /snapshot snap-1 of this migration failed/);
  assert.match(refused(facts({ instance: instance('stopped', migrating('attach')), root: volume('vol-other', { encrypted: true, ...attached() }), original: volume(O, { state: 'available' }) })), /its root is vol-other, which is not that migration's encrypted volume/);
  assert.match(refused(facts({ instance: instance('stopped', migrating('detach')), root: null, original: null })), /vol-0old, which no longer exists/);
  assert.match(refused(facts({ instance: instance('running', { 'rplay:ebs-encrypt': 'stop' }) })), /has tag rplay:ebs-encrypt=stop but no rplay:encrypts/);
});

test.run();
