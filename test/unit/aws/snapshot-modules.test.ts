// ec2_snapshot, ec2_root_volume and ec2_teardown: their plans from given facts (pure), and runs
// against the in-memory EC2 emulator over HTTP — a root volume restored from a snapshot, resumed
// after being cut short at every step, and a cross-region copy.
import { EC2 } from '@aws-sdk/client-ec2';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ec2RootVolume, rootVolumePlan, type RootActual } from '../../../modules/ec2-root-volume.js';
import { ec2Snapshot, type SnapshotActual } from '../../../modules/ec2-snapshot.js';
import { held, type Ec2Op } from '../../../modules/aws/ec2-operation.js';
import type { InstanceFacts, VolumeFacts } from '../../../modules/aws/resources.js';
import type { SnapshotFacts } from '../../../modules/aws/snapshot-tags.js';
import { NotYetThere } from '../../../runner/types.js';
import { apply, changedThenNot, checkPlan, overTheWire } from '../../support/converge.js';
import { descriptions, testAccount, type TestAccount } from './support.js';

const plans = suite('plans from facts');

const inst = (name: string, over: Partial<InstanceFacts> = {}): InstanceFacts => ({
  name,
  id: `i-${name}`,
  state: 'running',
  az: 'us-east-1a',
  privateIp: '10.0.1.5',
  rootDevice: '/dev/sda1',
  volumes: { '/dev/sda1': `vol-${name}` },
  tags: { Name: name },
  ...over,
});

const snap = (id: string, over: Partial<SnapshotFacts> = {}): SnapshotFacts => ({
  id, state: 'completed', startTime: '2024-06-01T00:00:00.000Z', of: 'node-a', device: '/dev/sda1', label: 'day-1', address: '10.0.1.5', copiedFrom: null, project: 'p', encrypted: true, volumeSize: 8, tags: {}, ...over,
});

const aws = held({ region: 'us-east-1', endpointUrl: 'http://127.0.0.1:1' });
const actual = (over: Partial<SnapshotActual> = {}): SnapshotActual => ({
  aws,
  now: '2024-06-30T00:00:00.000Z', region: 'us-east-1', instances: { 'node-a': inst('node-a'), 'node-b': inst('node-b', { volumes: { '/dev/sda1': 'vol-b', '/dev/sdf': 'vol-bdata' } }) }, existing: [], sources: null, ...over,
});

plans('a snapshot per volume of each instance, then one wait', () => {
  const p = ec2Snapshot.plan({ instances: ['node-a', 'node-b'], project: 'p', label: 'day-2' }, actual());
  assert.equal(descriptions(p), [
    'CreateSnapshot vol-node-a (node-a /dev/sda1) tags Name=node-a-day-2,project=p,rplay:label=day-2',
    'CreateSnapshot vol-b (node-b /dev/sda1) tags Name=node-b-day-2,project=p,rplay:label=day-2',
    'CreateSnapshot vol-bdata (node-b /dev/sdf) tags Name=node-b-sdf-day-2,project=p,rplay:label=day-2',
    'wait until the snapshots are completed',
  ]);
  const rootOnly = ec2Snapshot.plan({ instances: ['node-b'], project: 'p', label: 'day-2', devices: 'root' }, actual());
  assert.equal(descriptions(rootOnly).length, 2);
});

plans('the operations: each CreateSnapshot names the id it makes, the one wait waits for those, the task reports them; rplay:created is the gather\'s time', () => {
  const p = ec2Snapshot.plan({ instances: ['node-b'], project: 'p', label: 'day-2' }, actual());
  const ops = p.changes.map((c) => c.op!);
  assert.is(p.replan, true);
  const create = ops[0]!.steps[0] as unknown as { params: { TagSpecifications: { Tags: { Key: string; Value: string }[] }[] }; save: Record<string, string> };
  assert.equal(create.save, { 'snapshot-0': 'SnapshotId' });
  assert.is(create.params.TagSpecifications[0]!.Tags.find((t) => t.Key === 'rplay:created')?.Value, '2024-06-30T00:00:00Z');
  assert.equal(ops[2]!.steps, [{ do: 'wait-snapshots', ids: [{ $made: 'snapshot-0' }, { $made: 'snapshot-1' }] }]);
  assert.equal(ops[2]!.result, { snapshots: [{ instance: 'node-b', device: '/dev/sda1', snapshot_id: { $made: 'snapshot-0' } }, { instance: 'node-b', device: '/dev/sdf', snapshot_id: { $made: 'snapshot-1' } }] });
});

plans('one of ours still pending (a run stopped while waiting): the plan waits for it, changing nothing else; check mode says so at once', () => {
  const existing = [snap('s1', { label: 'day-1', state: 'pending' })];
  const p = ec2Snapshot.plan({ instances: ['node-a'], project: 'p', label: 'day-1' }, actual({ existing }));
  assert.equal(p.changes.map((c) => [c.description, c.op!.steps, c.waitOnly]), [['wait until the snapshots are completed (s1 is pending)', [{ do: 'wait-snapshots', ids: ['s1'] }], true]]);
  assert.is(p.replan, true);
});

plans('the label\'s snapshots existing: ok; the new ones count towards retention', () => {
  const existing = [snap('s1', { label: 'day-1' }), snap('s0', { label: 'day-0', startTime: '2024-05-31T00:00:00.000Z' })];
  assert.equal(descriptions(ec2Snapshot.plan({ instances: ['node-a'], project: 'p', label: 'day-1', retain_count: 2 }, actual({ existing }))), []);
  const p = ec2Snapshot.plan({ instances: ['node-a'], project: 'p', label: 'day-2', retain_count: 2 }, actual({ existing }));
  assert.equal(descriptions(p).slice(1), ['wait until the snapshots are completed', 'DeleteSnapshot s0 (node-a /dev/sda1, label day-0, beyond the newest 2 of node-a /dev/sda1)']);
});

plans('a missing instance is not there yet (an earlier task launches it); a missing or bad label is a clear error', () => {
  assert.throws(() => ec2Snapshot.plan({ instances: ['node-z'], project: 'p', label: 'x' }, actual({ instances: { 'node-z': null } })), (e: Error) => e instanceof NotYetThere && e.missing === 'instance node-z' && /no instance is named node-z \(project p\) in us-east-1/.test(e.message));
  assert.throws(() => ec2Snapshot.plan({ instances: ['node-a'], label: '' }, actual()), /label is required/);
  assert.throws(() => ec2Snapshot.plan({ instances: ['node-a'], label: 'a b/c' }, actual()), /label 'a b\/c' must be letters/);
});

plans('copies: the source region\'s newest completed one, once', () => {
  const sources = [snap('old', { startTime: '2024-05-01T00:00:00.000Z' }), snap('new'), snap('pending', { state: 'pending', startTime: '2024-06-02T00:00:00.000Z' })];
  const args = { instances: ['node-a'], project: 'p', source_region: 'us-east-1', kms_key_id: 'alias/dr' };
  const p = ec2Snapshot.plan(args, actual({ region: 'us-west-2', sources }));
  assert.equal(descriptions(p), [
    'CopySnapshot us-east-1/new (node-a /dev/sda1, label day-1) encrypted with alias/dr tags Name=node-a,project=p,rplay:copied-from=us-east-1/new',
    'wait until the snapshots are completed',
  ]);
  assert.equal(descriptions(ec2Snapshot.plan(args, actual({ region: 'us-west-2', sources, existing: [snap('copy', { copiedFrom: 'us-east-1/new' })] }))), []);
  assert.throws(() => ec2Snapshot.plan(args, actual({ region: 'us-west-2', sources: [] })), /no completed snapshot of node-a \(project p\) in us-east-1 to copy/);
  assert.throws(() => ec2Snapshot.plan(args, actual({ region: 'us-east-1', sources })), /source_region us-east-1 is this region/);
});

const vol = (id: string, state: string, attachment: string | null, over: Partial<VolumeFacts> = {}): VolumeFacts => ({
  id, state, encrypted: true, az: 'us-east-1a', size: 8, tags: {}, ...(attachment === null ? {} : { attachment: { instanceId: 'i-node-a', device: '/dev/sda1', state: attachment } }), ...over,
});
const root = (over: Partial<RootActual> = {}): RootActual => ({
  aws, region: 'us-east-1', instance: inst('node-a'), snapshot: snap('snap-1'), root: vol('vol-old', 'in-use', 'attached', { snapshotId: 'snap-ami' }), spare: null, ...over,
});
const rootArgs = { name: 'node-a', project: 'p' };
const stepsOf = (a: RootActual): string[] => rootVolumePlan(rootArgs, a).changes.map((s) => s.description);

plans('a running instance: stop, a volume from the snapshot, swap the roots, tag, start, wait for SSH', () => {
  assert.equal(stepsOf(root()), [
    'StopInstances i-node-a (node-a)',
    'wait until i-node-a is stopped',
    "CreateVolume from snap-1 (node-a, label day-1) in us-east-1a, encrypted with the snapshot's key",
    'wait until the new volume is available',
    'DetachVolume vol-old (the old root; kept, tagged rplay:replaced-by)',
    'wait until vol-old is detached',
    'AttachVolume at /dev/sda1 of i-node-a',
    'wait until it is attached',
    'CreateTags i-node-a rplay:restored-from=snap-1 rplay:restored-address=10.0.1.5',
    'StartInstances i-node-a',
    'wait until i-node-a is running',
    'wait until SSH answers on port 22 of its public address',
  ]);
});

plans('picked up half-way: a stopped instance without a root and a volume made earlier, still creating or available', () => {
  const stopped = inst('node-a', { state: 'stopped' });
  const creating = rootVolumePlan(rootArgs, root({ instance: stopped, root: null, spare: vol('vol-new', 'creating', null, { snapshotId: 'snap-1' }) }));
  assert.equal(descriptions(creating).slice(0, 2), ['wait until vol-new (made from snap-1 by an earlier run) is available', 'AttachVolume at /dev/sda1 of i-node-a']);
  const available = rootVolumePlan(rootArgs, root({ instance: stopped, root: null, spare: vol('vol-new', 'available', null, { snapshotId: 'snap-1' }) }));
  assert.equal(descriptions(available)[0], 'AttachVolume at /dev/sda1 of i-node-a');
  assert.equal(available.changes[0]!.op!.steps[0], { do: 'call', action: 'AttachVolume', params: { VolumeId: 'vol-new', InstanceId: 'i-node-a', Device: '/dev/sda1' } }, 'the earlier volume, by its id');
});

plans('the operations: the new volume made once and used by id downstream; the old root tagged with it', () => {
  const p = rootVolumePlan(rootArgs, root());
  const ops = p.changes.map((c) => c.op!);
  assert.is(p.replan, true);
  assert.equal(ops[2]!.steps[0], {
    do: 'call',
    action: 'CreateVolume',
    params: {
      SnapshotId: 'snap-1', AvailabilityZone: 'us-east-1a', VolumeType: 'gp3', Encrypted: true,
      TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'Name', Value: 'node-a' }, { Key: 'project', Value: 'p' }, { Key: 'rplay:restored-from', Value: 'snap-1' }, { Key: 'rplay:restore-for', Value: 'i-node-a' }] }],
    },
    save: { volume: 'VolumeId' },
  });
  assert.equal(ops[5]!.steps, [
    { do: 'wait-volume', id: 'vol-old', until: 'available' },
    { do: 'call', action: 'CreateTags', params: { Resources: ['vol-old'], Tags: [{ Key: 'rplay:replaced-by', Value: { $made: 'volume' } }] } },
  ]);
  assert.equal(ops[6]!.steps[0], { do: 'call', action: 'AttachVolume', params: { VolumeId: { $made: 'volume' }, InstanceId: 'i-node-a', Device: '/dev/sda1' } });
});

plans('an instance on its way (pending, stopping): a wait, reported at once, and a plan made again after it', () => {
  for (const [state, until] of [['pending', 'running'], ['stopping', 'stopped']] as const) {
    const p = rootVolumePlan(rootArgs, root({ instance: inst('node-a', { state }) }));
    assert.equal(p.changes.map((c) => [c.description, c.op!.steps, c.waitOnly]), [[`wait until i-node-a (node-a) is ${until} (it is ${state})`, [{ do: 'wait-instance', id: 'i-node-a', until }], true]]);
    assert.is(p.replan, true);
  }
});

plans('a root that already comes from the snapshot: ok when running, started when stopped', () => {
  const restored = vol('vol-new', 'in-use', 'attached', { snapshotId: 'snap-1', tags: { 'rplay:restored-from': 'snap-1' } });
  const tagged = inst('node-a', { tags: { 'rplay:restored-from': 'snap-1' } });
  assert.equal(stepsOf(root({ instance: tagged, root: restored })), []);
  assert.equal(stepsOf(root({ instance: { ...tagged, state: 'stopped' }, root: restored }))[0], 'StartInstances i-node-a');
  assert.equal(stepsOf(root({ root: restored }))[0], 'CreateTags i-node-a rplay:restored-from=snap-1 rplay:restored-address=10.0.1.5');
});

plans('stopped right after DetachVolume: the old root is not detached twice, still waited for and tagged', () => {
  const stopped = inst('node-a', { state: 'stopped' });
  const spare = vol('vol-new', 'available', null, { snapshotId: 'snap-1' });
  for (const old of [vol('vol-old', 'in-use', 'detaching', { snapshotId: 'snap-ami' }), vol('vol-old', 'available', null, { snapshotId: 'snap-ami' })]) {
    assert.equal(stepsOf(root({ instance: stopped, root: old, spare })).slice(0, 2), [
      'wait until vol-old is detached',
      'AttachVolume at /dev/sda1 of i-node-a',
    ]);
  }
});

plans('stopped right after AttachVolume: the attachment is waited for before the instance starts', () => {
  const attaching = vol('vol-new', 'in-use', 'attaching', { snapshotId: 'snap-1', tags: { 'rplay:restored-from': 'snap-1' } });
  assert.equal(stepsOf(root({ instance: inst('node-a', { state: 'stopped' }), root: attaching })).slice(0, 3), [
    'wait until it is attached',
    'CreateTags i-node-a rplay:restored-from=snap-1 rplay:restored-address=10.0.1.5',
    'StartInstances i-node-a',
  ]);
});

plans('no instance or no snapshot: an error saying what to run', () => {
  assert.throws(() => stepsOf(root({ instance: null })), /no instance is named node-a \(project p\) in us-east-1: launch it first/);
  assert.throws(() => stepsOf(root({ snapshot: null })), /no completed snapshot of node-a in us-east-1 to restore node-a from: run backup\.yml first/);
});

plans.run();

const live = suite('against the emulator');
let acct: TestAccount;
let ec2: EC2;

async function launch(name: string, az = 'a'): Promise<string> {
  const { Vpc } = await ec2.createVpc({ CidrBlock: `10.${az.charCodeAt(0)}.0.0/16` });
  const { Subnet } = await ec2.createSubnet({ VpcId: Vpc!.VpcId!, CidrBlock: `10.${az.charCodeAt(0)}.1.0/24`, AvailabilityZone: `us-east-1${az}` });
  const { Images = [] } = await ec2.describeImages({ Owners: ['099720109477'] });
  const tags = [{ Key: 'Name', Value: name }, { Key: 'project', Value: 'p' }];
  const r = await ec2.runInstances({ ImageId: Images[0]!.ImageId!, InstanceType: 't2.micro', MinCount: 1, MaxCount: 1, SubnetId: Subnet!.SubnetId!, TagSpecifications: [{ ResourceType: 'instance', Tags: tags }] });
  await acct.emu.idle();
  return r.Instances![0]!.InstanceId!;
}

async function rootOf(id: string): Promise<{ volume: string; snapshot: string; state: string }> {
  const r = await ec2.describeInstances({ InstanceIds: [id] });
  const i = r.Reservations![0]!.Instances![0]!;
  const volume = i.BlockDeviceMappings!.find((m) => m.DeviceName === i.RootDeviceName)!.Ebs!.VolumeId!;
  const { Volumes = [] } = await ec2.describeVolumes({ VolumeIds: [volume] });
  return { volume, snapshot: Volumes[0]!.SnapshotId ?? '', state: i.State!.Name! };
}

live.before(async () => {
  acct = await testAccount();
  ec2 = acct.ec2;
});
live.after(async () => acct?.close());

live('snapshot, then the root restored from it, each changed then not (operations encoded and decoded)', async () => {
  const id = await launch('node-a');
  const ctx = acct.ctx();
  const made = await changedThenNot(ec2Snapshot, ctx, { instances: ['node-a'], project: 'p', label: 'day-1' });
  assert.is(made.planned.changes.length, 2);
  const { Snapshots = [] } = await ec2.describeSnapshots({ Filters: [{ Name: 'tag:rplay:label', Values: ['day-1'] }] });
  assert.is(Snapshots[0]!.State, 'completed');
  assert.equal(made.result?.result?.snapshots, [{ instance: 'node-a', device: '/dev/sda1', snapshot_id: Snapshots[0]!.SnapshotId }], 'the task reports the id EC2 gave');

  const args = { name: 'node-a', project: 'p', wait_ssh: false };
  const before = await rootOf(id);
  const restore = await changedThenNot(ec2RootVolume, ctx, args);
  const after = await rootOf(id);
  assert.is(after.snapshot, Snapshots[0]!.SnapshotId);
  assert.is(after.state, 'running');
  assert.is.not(after.volume, before.volume);
  assert.is(restore.result?.result?.volume_id, after.volume);
  const { Volumes = [] } = await ec2.describeVolumes({ VolumeIds: [before.volume] });
  assert.is(Volumes[0]!.State, 'available', 'the old root is kept');
  assert.is(Volumes[0]!.Tags?.find((t) => t.Key === 'rplay:replaced-by')?.Value, after.volume);
});

live('a restore cut short after any operation completes on the next run', async () => {
  const id = await launch('node-b', 'b');
  const ctx = acct.ctx();
  await apply(ec2Snapshot, ctx, { instances: ['node-b'], project: 'p', label: 'day-1' });
  const args = { name: 'node-b', project: 'p', wait_ssh: false };
  const total = (await checkPlan(ec2RootVolume, ctx, args)).changes.length;
  for (let cut = 1; cut < total; cut++) {
    // Start over from the AMI's root each time: a fresh snapshot label makes the latest differ.
    await apply(ec2Snapshot, ctx, { instances: ['node-b'], project: 'p', label: `cut-${cut}` });
    const a = await ec2RootVolume.gather(ctx, args);
    const plan = ec2RootVolume.plan(args, a);
    await ec2RootVolume.apply!(ctx, overTheWire(plan.changes.slice(0, cut).map((c) => c.op!)) as Ec2Op[]);
    await apply(ec2RootVolume, ctx, args);
    const now = await rootOf(id);
    assert.is(now.state, 'running', `cut after step ${cut}`);
    assert.is(now.snapshot, a.snapshot!.id, `cut after step ${cut}: ${plan.changes[cut - 1]!.description}`);
    assert.equal(descriptions(await checkPlan(ec2RootVolume, ctx, args)), [], `cut after step ${cut}`);
  }
});

live('an instance still pending: check reports the wait at once, a run waits for it, then plans again', async () => {
  const slow = await testAccount({ delays: { instance: 3000, snapshot: 0, volume: 0 } });
  try {
    const { Images = [] } = await slow.ec2.describeImages({ Owners: ['099720109477'] });
    const { Vpc } = await slow.ec2.createVpc({ CidrBlock: '10.9.0.0/16' });
    const { Subnet } = await slow.ec2.createSubnet({ VpcId: Vpc!.VpcId!, CidrBlock: '10.9.1.0/24', AvailabilityZone: 'us-east-1a' });
    const r = await slow.ec2.runInstances({
      ImageId: Images[0]!.ImageId!, InstanceType: 't2.micro', MinCount: 1, MaxCount: 1, SubnetId: Subnet!.SubnetId!,
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'node-p' }, { Key: 'project', Value: 'p' }] }],
    });
    const id = r.Instances![0]!.InstanceId!;
    const ctx = slow.ctx();
    // A restore needs a snapshot: one of the pending instance's root.
    await apply(ec2Snapshot, ctx, { instances: ['node-p'], project: 'p', label: 'x' });
    const restoreArgs = { name: 'node-p', project: 'p', wait_ssh: false };
    const t1 = performance.now();
    const pending = await checkPlan(ec2RootVolume, ctx, restoreArgs);
    const checkMs = performance.now() - t1;
    const state = (await slow.ec2.describeInstances({ InstanceIds: [id] })).Reservations![0]!.Instances![0]!.State!.Name;
    assert.ok(state === 'pending', `still pending (${state})`);
    assert.equal(descriptions(pending), [`wait until ${id} (node-p) is running (it is pending)`]);
    assert.ok(checkMs < 1000, `check took ${checkMs.toFixed(0)} ms while the instance stays pending for 3 s`);
    console.log(`    check of ec2_root_volume on a pending instance: ${checkMs.toFixed(0)} ms`);
    // A run waits for it (the plan's one operation), plans again and restores.
    const run = await apply(ec2RootVolume, ctx, restoreArgs);
    assert.equal(run.applied.map((c) => c.description.split(' ')[0]).slice(0, 3), ['wait', 'StopInstances', 'wait']);
    assert.equal(descriptions(await checkPlan(ec2RootVolume, ctx, restoreArgs)), []);
  } finally {
    await slow.close();
  }
});

live('a copy into another region, encrypted with its key, made once', async () => {
  const west = acct.ctx('/nonexistent', { aws_region: 'us-west-2' });
  const args = { instances: ['node-a'], project: 'p', source_region: 'us-east-1', kms_key_id: 'alias/dr-key' };
  const p = (await changedThenNot(ec2Snapshot, west, args)).planned;
  assert.match(descriptions(p)[0]!, /^CopySnapshot us-east-1\/snap-[0-9a-f]+ \(node-a \/dev\/sda1, label day-1\) encrypted with alias\/dr-key/);
  const westEc2 = new EC2({ region: 'us-west-2', endpoint: acct.emu.url, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'not-checked' } });
  const { Snapshots = [] } = await westEc2.describeSnapshots({ OwnerIds: ['self'] });
  westEc2.destroy();
  assert.is(Snapshots.length, 1);
  assert.is(Snapshots[0]!.Encrypted, true);
  assert.match(Snapshots[0]!.KmsKeyId ?? '', /^arn:aws:kms:us-west-2:/);
  assert.is(Snapshots[0]!.Tags?.find((t) => t.Key === 'rplay:snapshot-of')?.Value, 'node-a');
});

live.run();
