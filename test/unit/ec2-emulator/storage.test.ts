// Volumes and snapshots through the real SDK: the asynchronous states and their waiters, attach rules,
// encryption of copies, and the whole encrypt-by-swap sequence of the runbook's phase 8.
import {
  AttachVolumeCommand,
  CopySnapshotCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DeleteSnapshotCommand,
  DeleteVolumeCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  DetachVolumeCommand,
  EnableEbsEncryptionByDefaultCommand,
  GetEbsEncryptionByDefaultCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  waitUntilInstanceRunning,
  waitUntilInstanceStopped,
  waitUntilSnapshotCompleted,
  waitUntilVolumeAvailable,
  waitUntilVolumeInUse,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { failure, fast, nameTag, testEc2, type TestEc2 } from './client.js';
import { network, type Network } from './fixtures.js';

let t: TestEc2;
let ec2: EC2Client;
let net: Network;

test.before(async () => {
  t = await testEc2({ delays: { instance: 10, snapshot: 300, volume: 300 } });
  ec2 = t.client();
  net = await network(ec2);
});
test.after(async () => t.close());

/** Polls until the volume's attachment is 'attached': VolumeInUse is reached while it is still 'attaching', as in EC2. */
async function attached(volumeId: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const [v] = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }))).Volumes!;
    if (v.Attachments?.[0]?.State === 'attached') return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${volumeId} never got attached`);
}

async function launch(subnet: string): Promise<{ id: string; rootId: string }> {
  const [i] = (await ec2.send(new RunInstancesCommand({ ImageId: net.imageId, InstanceType: 't2.micro', MinCount: 1, MaxCount: 1, SubnetId: subnet }))).Instances!;
  await waitUntilInstanceRunning(fast(ec2), { InstanceIds: [i.InstanceId!] });
  return { id: i.InstanceId!, rootId: i.BlockDeviceMappings![0].Ebs!.VolumeId! };
}

test('a snapshot is pending with partial progress, then completed at 100% when the SDK waiter returns', async () => {
  const { rootId } = await launch(net.subnets.a);
  const snap = await ec2.send(new CreateSnapshotCommand({ VolumeId: rootId, Description: 'redis-node-1a-snapshot', TagSpecifications: nameTag('snapshot', 'redis-node-1a-backup') }));
  assert.match(snap.SnapshotId!, /^snap-[0-9a-f]{17}$/);
  assert.is(snap.State, 'pending');
  assert.ok(Number.parseInt(snap.Progress!, 10) < 100);
  assert.is(snap.VolumeSize, 8);
  const waited = await waitUntilSnapshotCompleted(fast(ec2), { SnapshotIds: [snap.SnapshotId!] });
  assert.is(waited.state, 'SUCCESS');
  const [done] = (await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'tag:Name', Values: ['redis-node-1a-backup'] }] }))).Snapshots!;
  assert.equal([done.SnapshotId, done.State, done.Progress, done.Description, done.VolumeId], [snap.SnapshotId, 'completed', '100%', 'redis-node-1a-snapshot', rootId]);
  await ec2.send(new DeleteSnapshotCommand({ SnapshotId: snap.SnapshotId }));
  const gone = await failure(ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snap.SnapshotId!] })));
  assert.is(gone.name, 'InvalidSnapshot.NotFound');
  assert.is((await failure(ec2.send(new DeleteSnapshotCommand({ SnapshotId: snap.SnapshotId })))).name, 'InvalidSnapshot.NotFound');
});

test('a root volume cannot be detached from a running instance: IncorrectState', async () => {
  const { id, rootId } = await launch(net.subnets.a);
  const e = await failure(ec2.send(new DetachVolumeCommand({ VolumeId: rootId })));
  assert.is(e.name, 'IncorrectState');
  assert.is(e.message, `Unable to detach root volume '${rootId}' from instance '${id}'`);
});

test('a volume attaches only in its own zone, at a free device; data volumes detach from running instances', async () => {
  const { id } = await launch(net.subnets.a);
  const elsewhere = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1b', Size: 10 }));
  assert.is(elsewhere.State, 'creating');
  await waitUntilVolumeAvailable(fast(ec2), { VolumeIds: [elsewhere.VolumeId!] });
  const mismatch = await failure(ec2.send(new AttachVolumeCommand({ VolumeId: elsewhere.VolumeId, InstanceId: id, Device: '/dev/sdf' })));
  assert.is(mismatch.name, 'InvalidVolume.ZoneMismatch');
  const here = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 10, VolumeType: 'gp3' }));
  await waitUntilVolumeAvailable(fast(ec2), { VolumeIds: [here.VolumeId!] });
  const occupied = await failure(ec2.send(new AttachVolumeCommand({ VolumeId: here.VolumeId, InstanceId: id, Device: '/dev/sda1' })));
  assert.is(occupied.name, 'InvalidParameterValue');
  assert.match(occupied.message, /Attachment point \/dev\/sda1 is already in use/);
  const attaching = await ec2.send(new AttachVolumeCommand({ VolumeId: here.VolumeId, InstanceId: id, Device: '/dev/sdf' }));
  assert.is(attaching.State, 'attaching');
  await waitUntilVolumeInUse(fast(ec2), { VolumeIds: [here.VolumeId!] });
  assert.is((await failure(ec2.send(new DetachVolumeCommand({ VolumeId: here.VolumeId })))).name, 'IncorrectState', 'still attaching');
  await attached(here.VolumeId!);
  assert.is((await failure(ec2.send(new DeleteVolumeCommand({ VolumeId: here.VolumeId })))).name, 'VolumeInUse');
  const [inst] = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0].Instances!;
  assert.equal(inst.BlockDeviceMappings!.map((m) => m.DeviceName), ['/dev/sda1', '/dev/sdf']);
  const detaching = await ec2.send(new DetachVolumeCommand({ VolumeId: here.VolumeId }));
  assert.is(detaching.State, 'detaching');
  await waitUntilVolumeAvailable(fast(ec2), { VolumeIds: [here.VolumeId!] });
  assert.is((await failure(ec2.send(new DetachVolumeCommand({ VolumeId: here.VolumeId })))).name, 'IncorrectState');
  await ec2.send(new DeleteVolumeCommand({ VolumeId: here.VolumeId }));
  assert.is((await failure(ec2.send(new AttachVolumeCommand({ VolumeId: 'vol-00000000000000000', InstanceId: id, Device: '/dev/sdg' })))).name, 'InvalidVolume.NotFound');
});

test('encrypting by swap: stop, snapshot, encrypted copy, volume in the same zone, detach old, attach new at /dev/sda1, start', async () => {
  const { id, rootId } = await launch(net.subnets.b);
  await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
  await waitUntilInstanceStopped(fast(ec2), { InstanceIds: [id] });
  const snap = await ec2.send(new CreateSnapshotCommand({ VolumeId: rootId }));
  const early = await failure(ec2.send(new CopySnapshotCommand({ SourceRegion: 'us-east-1', SourceSnapshotId: snap.SnapshotId, Encrypted: true })));
  assert.is(early.name, 'IncorrectState', 'a pending snapshot cannot be copied yet');
  await waitUntilSnapshotCompleted(fast(ec2), { SnapshotIds: [snap.SnapshotId!] });
  const copy = await ec2.send(new CopySnapshotCommand({ SourceRegion: 'us-east-1', SourceSnapshotId: snap.SnapshotId, Encrypted: true, KmsKeyId: 'alias/aws/ebs', Description: 'redis-node-1b-encrypted' }));
  await waitUntilSnapshotCompleted(fast(ec2), { SnapshotIds: [copy.SnapshotId!] });
  const [encSnap] = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [copy.SnapshotId!] }))).Snapshots!;
  assert.equal([encSnap.Encrypted, encSnap.Description], [true, 'redis-node-1b-encrypted']);
  assert.match(encSnap.KmsKeyId!, /^arn:aws:kms:us-east-1:123456789012:key\//);
  const vol = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1b', SnapshotId: copy.SnapshotId, VolumeType: 'gp3' }));
  assert.equal([vol.Encrypted, vol.Size, vol.SnapshotId], [true, 8, copy.SnapshotId]);
  await waitUntilVolumeAvailable(fast(ec2), { VolumeIds: [vol.VolumeId!] });
  await ec2.send(new DetachVolumeCommand({ VolumeId: rootId, InstanceId: id }));
  await waitUntilVolumeAvailable(fast(ec2), { VolumeIds: [rootId] });
  const noRoot = await failure(ec2.send(new StartInstancesCommand({ InstanceIds: [id] })));
  assert.is(noRoot.name, 'InvalidParameterValue', 'no instance starts without a root volume');
  await ec2.send(new AttachVolumeCommand({ VolumeId: vol.VolumeId, InstanceId: id, Device: '/dev/sda1' }));
  await waitUntilVolumeInUse(fast(ec2), { VolumeIds: [vol.VolumeId!] });
  await ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
  await waitUntilInstanceRunning(fast(ec2), { InstanceIds: [id] });
  const [inst] = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0].Instances!;
  assert.equal(inst.BlockDeviceMappings!.map((m) => [m.DeviceName, m.Ebs!.VolumeId]), [['/dev/sda1', vol.VolumeId]]);
  const [old] = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [rootId] }))).Volumes!;
  assert.equal([old.State, old.Encrypted], ['available', false], 'the original volume is kept');
});

test('a snapshot copied to another region; a volume made from an encrypted snapshot is encrypted; encryption by default', async () => {
  const { rootId } = await launch(net.subnets.a);
  const snap = await ec2.send(new CreateSnapshotCommand({ VolumeId: rootId }));
  await waitUntilSnapshotCompleted(fast(ec2), { SnapshotIds: [snap.SnapshotId!] });
  const west = t.client('us-west-2');
  const copied = await west.send(new CopySnapshotCommand({ SourceRegion: 'us-east-1', SourceSnapshotId: snap.SnapshotId, Encrypted: true }));
  await waitUntilSnapshotCompleted(fast(west), { SnapshotIds: [copied.SnapshotId!] });
  const [dr] = (await west.send(new DescribeSnapshotsCommand({ SnapshotIds: [copied.SnapshotId!] }))).Snapshots!;
  assert.match(dr.KmsKeyId!, /^arn:aws:kms:us-west-2:/);
  assert.is((await failure(ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [copied.SnapshotId!] })))).name, 'InvalidSnapshot.NotFound', 'the copy lives in us-west-2 only');
  const plain = await west.send(new CreateVolumeCommand({ AvailabilityZone: 'us-west-2a', SnapshotId: copied.SnapshotId, Encrypted: false }));
  assert.is(plain.Encrypted, true);
  const small = await failure(west.send(new CreateVolumeCommand({ AvailabilityZone: 'us-west-2a', SnapshotId: copied.SnapshotId, Size: 4 })));
  assert.is(small.name, 'InvalidParameterValue');

  assert.is((await west.send(new GetEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault, false);
  assert.is((await west.send(new EnableEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault, true);
  assert.is((await west.send(new GetEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault, true);
  assert.is((await ec2.send(new GetEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault, false, 'the setting is per region');
  const blank = await west.send(new CreateVolumeCommand({ AvailabilityZone: 'us-west-2b', Size: 1 }));
  assert.is(blank.Encrypted, true);
  const volumes = await west.send(new DescribeVolumesCommand({ Filters: [{ Name: 'encrypted', Values: ['true'] }] }));
  assert.is(volumes.Volumes!.length, 2);
});

test.run();
