// ebs_encrypt against the in-memory EC2 emulator over HTTP (instances are records here; the lab test
// runs it on real hosts): check mode lists the calls with real ids and changes nothing; a run replaces
// the root with an encrypted copy and keeps the original, tagged; a re-run is ok; a run that applied
// only the first operations of its plan is finished by the next; pieces of an attempt the instance was
// restarted after are thrown away, not used; a pending instance is reported at once by check mode.
import type { EC2 } from '@aws-sdk/client-ec2';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ebsEncrypt } from '../../../modules/ebs-encrypt.js';
import { STEP_NAMES } from '../../../modules/aws/ebs-encrypt-plan.js';
import type { Ec2Op } from '../../../modules/aws/ec2-operation.js';
import { tagMap } from '../../../modules/aws/tags.js';
import type { ModuleContext } from '../../../runner/types.js';
import { apply, changedThenNot, checkPlan as check, overTheWire } from '../../support/converge.js';
import { descriptions, testAccount, type TestAccount } from './support.js';

let acct: TestAccount;
let ec2: EC2;
let subnet: string;
let image: string;

test.before(async () => {
  acct = await testAccount();
  ec2 = acct.ec2;
  const vpc = (await ec2.createVpc({ CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
  subnet = (await ec2.createSubnet({ VpcId: vpc, CidrBlock: '10.0.1.0/24', AvailabilityZone: 'us-east-1a' })).Subnet!.SubnetId!;
  const { Images = [] } = await ec2.describeImages({ Owners: ['099720109477'], Filters: [{ Name: 'architecture', Values: ['x86_64'] }] });
  image = Images[0]!.ImageId!;
});

test.after(async () => {
  await acct?.close();
});

/** A running instance with an unencrypted gp3 root, as the runbook's phase 2 leaves it. */
async function launch(name: string): Promise<{ id: string; root: string }> {
  const r = await ec2.runInstances({
    ImageId: image,
    InstanceType: 't2.micro',
    MinCount: 1,
    MaxCount: 1,
    SubnetId: subnet,
    BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { VolumeType: 'gp3', VolumeSize: 8, Encrypted: false } }],
    TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: name }, { Key: 'project', Value: 'redis-lab' }] }],
  });
  await acct.emu.idle();
  const i = r.Instances![0]!;
  return { id: i.InstanceId!, root: i.BlockDeviceMappings!.find((b) => b.DeviceName === '/dev/sda1')!.Ebs!.VolumeId! };
}

type Args = Parameters<typeof ebsEncrypt.plan>[0];
const args = (name: string, extra: Partial<Args> = {}): Args => ({ name, project: 'redis-lab', kms_key_id: 'alias/redis-lab-ebs', wait_ssh: false, ...extra });

/** A run cut short: gather, plan, and apply only the plan's first `k` operations (encoded and decoded); the plan. */
async function firstOps(ctx: ModuleContext, a: Args, k: number) {
  const plan = ebsEncrypt.plan(a, await ebsEncrypt.gather(ctx, a));
  await ebsEncrypt.apply!(ctx, overTheWire(plan.changes.slice(0, k).map((c) => c.op!)) as Ec2Op[]);
  return plan;
}

async function instance(id: string) {
  const i = (await ec2.describeInstances({ InstanceIds: [id] })).Reservations![0]!.Instances![0]!;
  const root = i.BlockDeviceMappings?.find((b) => b.DeviceName === i.RootDeviceName)?.Ebs?.VolumeId;
  return { state: i.State!.Name!, tags: tagMap(i.Tags), root };
}

async function volume(id: string) {
  const v = (await ec2.describeVolumes({ VolumeIds: [id] })).Volumes![0]!;
  return { encrypted: v.Encrypted, kms: v.KmsKeyId, state: v.State, az: v.AvailabilityZone, type: v.VolumeType, size: v.Size, tags: tagMap(v.Tags) };
}

async function snapshotsOf(original: string) {
  const { Snapshots = [] } = await ec2.describeSnapshots({ OwnerIds: ['self'], Filters: [{ Name: 'tag:rplay:encrypts', Values: [original] }] });
  return Snapshots.map((s) => ({ encrypted: s.Encrypted, state: s.State, name: tagMap(s.Tags).Name })).sort((a, b) => Number(a.encrypted) - Number(b.encrypted));
}

/** What a finished migration of (id, original) looks like in EC2. */
async function assertMigrated(id: string, original: string, name: string): Promise<string> {
  const i = await instance(id);
  assert.is(i.state, 'running');
  assert.is.not(i.root, original);
  assert.equal([i.tags['rplay:ebs-encrypt'], i.tags['rplay:encrypts']], ['done', original]);
  const root = await volume(i.root!);
  assert.is(root.encrypted, true);
  assert.match(root.kms ?? '', /^arn:aws:kms:us-east-1:\d{12}:key\//);
  assert.equal([root.az, root.type, root.size, root.tags['rplay:encrypts']], ['us-east-1a', 'gp3', 8, original]);
  const old = await volume(original);
  assert.equal([old.encrypted, old.state, old.tags['rplay:replaced-by']], [false, 'available', i.root], 'the original is kept, detached and tagged');
  assert.equal(await snapshotsOf(original), [
    { encrypted: false, state: 'completed', name: `${name} root (unencrypted)` },
    { encrypted: true, state: 'completed', name: `${name} root (encrypted)` },
  ]);
  return i.root!;
}

test('check mode lists every call with the real ids and changes nothing', async () => {
  const { id, root } = await launch('redis-node-check');
  const before = JSON.stringify(acct.emu.state);
  const p = await check(ebsEncrypt, acct.ctx(), args('redis-node-check'));
  assert.equal(descriptions(p), [
    `CreateTags ${id} rplay:ebs-encrypt=mark,rplay:encrypts=${root}`,
    `StopInstances ${id} (redis-node-check) and wait until it is stopped`,
    `CreateSnapshot ${root} (root of ${id} (redis-node-check), stopped) and wait until it is completed`,
    'CopySnapshot <the new snapshot> encrypted with alias/redis-lab-ebs and wait until it is completed',
    'CreateVolume gp3 8 GiB in us-east-1a from <the encrypted copy>, encrypted with alias/redis-lab-ebs, and wait until it is available',
    `DetachVolume ${root} from ${id} (redis-node-check) and wait until it is detached`,
    `AttachVolume <the new volume> to ${id} (redis-node-check) at /dev/sda1 and wait until it is attached`,
    `StartInstances ${id} (redis-node-check) and wait until it is running`,
    `CreateTags ${root} rplay:replaced-by=<the new volume>; ${id} rplay:ebs-encrypt=done`,
  ]);
  assert.is(JSON.stringify(acct.emu.state), before);
});

test('a run puts the instance on an encrypted copy of its root and keeps the original; the re-run is ok', async () => {
  const { id, root } = await launch('redis-node-1a');
  const first = await changedThenNot(ebsEncrypt, acct.ctx(), args('redis-node-1a'));
  assert.is(first.planned.changes.length, 9);
  const fresh = await assertMigrated(id, root, 'redis-node-1a');
  assert.is(first.result?.msg, `${fresh} (encrypted with alias/redis-lab-ebs) replaced ${root} at /dev/sda1 of ${id} (redis-node-1a)`);
  assert.equal([first.result?.result?.root_volume_id, first.result?.result?.state, first.result?.result?.encrypted], [fresh, 'running', true]);
  assert.match(String(first.result?.result?.kms_key_id), /^arn:aws:kms:us-east-1:\d{12}:key\//, 'the key the new root is encrypted with, as EC2 says');
  const again = await check(ebsEncrypt, acct.ctx(), args('redis-node-1a'));
  assert.equal(again.changes, []);
  assert.match(again.msg ?? '', new RegExp(`^root ${fresh} of ${id} is encrypted \\(arn:aws:kms:`));
  assert.equal([again.result?.encrypted, again.result?.original_volume_id, again.result?.migration], [true, root, 'done']);
});

test('stopped after each step in turn, the next run picks up exactly there', async () => {
  const { id, root } = await launch('redis-node-1b');
  const steps = STEP_NAMES.filter((s) => s !== 'discard');
  for (const [k, step] of steps.entries()) {
    const p = await firstOps(acct.ctx(), args('redis-node-1b'), 1);
    assert.is(p.changes.length, steps.length - k, `${step}: ${descriptions(p).join(' | ')}`);
    const i = await instance(id);
    assert.is(i.tags['rplay:ebs-encrypt'], step === 'finish' ? 'done' : step);
    const left = await check(ebsEncrypt, acct.ctx(), args('redis-node-1b'));
    const expected = steps.slice(k + 1);
    assert.is(left.changes.length, expected.length, `after ${step}: ${descriptions(left).join(' | ')}`);
    if (step === 'stop') assert.is(i.state, 'stopped');
  }
  await assertMigrated(id, root, 'redis-node-1b');
});

test('only_stopped leaves a running instance alone and finishes a stopped one', async () => {
  const { id, root } = await launch('redis-node-1c');
  const running = await apply(ebsEncrypt, acct.ctx(), args('redis-node-1c', { only_stopped: true }));
  assert.equal(running.planned.changes, []);
  assert.match(running.planned.msg ?? '', /is running: left alone \(only_stopped\)/);
  // Up to and including the detach: mark, stop, snapshot, copy, volume, detach.
  await firstOps(acct.ctx(), args('redis-node-1c'), 6);
  assert.is((await instance(id)).root, undefined, 'stopped with no root attached');
  const stopped = await changedThenNot(ebsEncrypt, acct.ctx(), args('redis-node-1c', { only_stopped: true }));
  assert.equal(stopped.planned.changes.map((c) => c.description.split(' ')[0]), ['AttachVolume', 'StartInstances', 'CreateTags']);
  await assertMigrated(id, root, 'redis-node-1c');
});

test('an instance started again after an interrupted attempt: its stale pieces are deleted and the copy is made afresh', async () => {
  const { id, root } = await launch('redis-node-1d');
  // Up to and including the new volume: mark, stop, snapshot, copy, volume.
  await firstOps(acct.ctx(), args('redis-node-1d'), 5);
  const { Volumes: stale = [] } = await ec2.describeVolumes({ Filters: [{ Name: 'tag:rplay:encrypts', Values: [root] }] });
  await ec2.startInstances({ InstanceIds: [id] });
  await acct.emu.idle();
  const p = (await apply(ebsEncrypt, acct.ctx(), args('redis-node-1d'))).planned;
  assert.equal(descriptions(p).slice(0, 4).map((d) => d.split(' ')[0]), ['DeleteVolume', 'DeleteSnapshot', 'DeleteSnapshot', 'StopInstances']);
  await acct.emu.idle();
  const fresh = await assertMigrated(id, root, 'redis-node-1d');
  assert.is.not(fresh, stale[0]!.VolumeId);
});

test('a pending instance: check mode reports the wait at once (the emulator keeps it pending for 5 s); a run waits, then migrates', async () => {
  const slow = await testAccount({ delays: { instance: 5000, snapshot: 0, volume: 0 } });
  try {
    const { Vpc } = await slow.ec2.createVpc({ CidrBlock: '10.0.0.0/16' });
    const { Subnet } = await slow.ec2.createSubnet({ VpcId: Vpc!.VpcId!, CidrBlock: '10.0.1.0/24', AvailabilityZone: 'us-east-1a' });
    const r = await slow.ec2.runInstances({
      ImageId: image, InstanceType: 't2.micro', MinCount: 1, MaxCount: 1, SubnetId: Subnet!.SubnetId!,
      BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { VolumeType: 'gp3', VolumeSize: 8, Encrypted: false } }],
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'redis-node-slow' }, { Key: 'project', Value: 'redis-lab' }] }],
    });
    const id = r.Instances![0]!.InstanceId!;
    const t0 = performance.now();
    const p = await check(ebsEncrypt, slow.ctx(), args('redis-node-slow'));
    const ms = performance.now() - t0;
    assert.equal(descriptions(p), [`wait until ${id} (redis-node-slow) is running (it is pending)`]);
    assert.ok(ms < 1000, `check took ${ms.toFixed(0)} ms`);
    console.log(`    check of ebs_encrypt on a pending instance: ${ms.toFixed(0)} ms`);
    const run = await apply(ebsEncrypt, slow.ctx(), args('redis-node-slow'));
    assert.equal(run.applied.map((c) => c.description.split(' ')[0]).slice(0, 3), ['wait', 'CreateTags', 'StopInstances']);
    const after = (await slow.ec2.describeInstances({ InstanceIds: [id] })).Reservations![0]!.Instances![0]!;
    assert.equal([after.State?.Name, tagMap(after.Tags)['rplay:ebs-encrypt']], ['running', 'done']);
  } finally {
    await slow.close();
  }
});

test('no such instance: an error naming it', async () => {
  try {
    await check(ebsEncrypt, acct.ctx(), args('redis-node-none'));
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).message, 'no instance is named redis-node-none (project redis-lab)');
  }
});

test.run();
