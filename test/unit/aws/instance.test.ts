// ec2_instance's plan from given Describe results (pure): one instance per Name, duplicates refused,
// the newest Canonical Ubuntu 24.04 image, the root volume encrypted with the configured key, an
// instance on its way waited for by the plan. Then runs against the in-memory EC2 emulator: a launch
// changed then not, a pending instance reported at once by check mode, a stopped one started.
import type { Image } from '@aws-sdk/client-ec2';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ec2Instance, launchText, type InstanceActual, type LaunchTarget } from '../../../modules/ec2-instance.js';
import { CANONICAL_OWNER, newestImage, UBUNTU_NOBLE_AMD64 } from '../../../modules/aws/ami.js';
import { held } from '../../../modules/aws/ec2-operation.js';
import { AwsError } from '../../../modules/aws/errors.js';
import type { InstanceFacts } from '../../../modules/aws/resources.js';
import { apply, changedThenNot, checkPlan } from '../../support/converge.js';
import { descriptions, testAccount } from './support.js';

const args = {
  name: 'redis-node-1a',
  project: 'redis-lab',
  instance_type: 't2.micro',
  subnet: 'redis-subnet-1a',
  security_group: 'redis-cluster-sg',
  key_name: 'redis-cluster-key',
  kms_key_id: 'alias/redis-lab-ebs',
};

const launch: LaunchTarget = {
  subnet: { id: 'subnet-1a', vpcId: 'vpc-1', az: 'us-east-1a' },
  groupId: 'sg-1',
  keyExists: true,
  image: { id: 'ami-0noble', name: 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250305', rootDevice: '/dev/sda1' },
};

const aws = held({ region: 'us-east-1', endpointUrl: 'http://127.0.0.1:1' });
const plan = (actual: Omit<InstanceActual, 'aws'>) => ec2Instance.plan(args, { aws, ...actual });
const tags = { Name: 'redis-node-1a', project: 'redis-lab' };
const one = (id: string, state: string, over: Partial<InstanceFacts> = {}): InstanceFacts => ({
  name: 'redis-node-1a', id, state, az: 'us-east-1a', rootDevice: '/dev/sda1', volumes: {}, tags, ...over,
});

test('no instance: RunInstances with the image, network, key and an encrypted root; then the waits', () => {
  assert.equal(descriptions(plan({ instances: [], launch })), [
    'RunInstances t2.micro ami-0noble (ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250305) subnet subnet-1a (redis-subnet-1a, us-east-1a) ' +
      'security group sg-1 key redis-cluster-key, root /dev/sda1 encrypted with alias/redis-lab-ebs, tags Name=redis-node-1a,project=redis-lab',
    'wait until it is running',
    'wait until SSH answers on port 22 of its public address',
  ]);
});

test('the launch operation: RunInstances retried safely (a client token as it runs), the waits on the instance it makes; the same facts, the same plan', () => {
  const ops = plan({ instances: [], launch }).changes.map((c) => c.op!);
  assert.equal(plan({ instances: [], launch }).changes.map((c) => c.op), ops);
  const run = ops[0]!.steps[0] as { params: Record<string, unknown>; save: Record<string, string>; token?: true };
  assert.equal([run.token, run.params.ClientToken, run.params.SubnetId, run.params.SecurityGroupIds, run.save], [true, undefined, 'subnet-1a', ['sg-1'], { instance: 'Instances.0.InstanceId' }]);
  assert.equal(run.params.BlockDeviceMappings, [{ DeviceName: '/dev/sda1', Ebs: { Encrypted: true, KmsKeyId: 'alias/redis-lab-ebs', VolumeType: 'gp3', DeleteOnTermination: true } }]);
  assert.equal(ops.slice(1).map((o) => o.steps), [
    [{ do: 'wait-instance', id: { $made: 'instance' }, until: 'running' }],
    [{ do: 'wait-ssh', instance: { $made: 'instance' }, address: 'public', port: 22 }],
  ]);
});

test('before the network exists: the launch names what it would use, and cannot be planned to run', () => {
  const missing = { ...launch, subnet: null, groupId: null, keyExists: false };
  assert.throws(() => plan({ instances: [], launch: missing }), /subnet redis-subnet-1a \(project redis-lab\) does not exist: create it first \(ec2_subnet\)/);
  assert.match(launchText(args, missing), /subnet redis-subnet-1a \(not created yet\) security group redis-cluster-sg \(not created yet\) key redis-cluster-key \(not imported yet\)/);
});

test('one running instance: ok, with its id, addresses and zone as the result', () => {
  const p = plan({ instances: [one('i-1', 'running', { privateIp: '10.0.1.10', publicIp: '198.18.0.7' })], launch: null });
  assert.equal(p.changes, []);
  assert.equal(p.result, { instance_id: 'i-1', state: 'running', private_ip: '10.0.1.10', public_ip: '198.18.0.7', availability_zone: 'us-east-1a' });
});

test('a stopped instance is started, not replaced', () => {
  const p = plan({ instances: [one('i-1', 'stopped')], launch: null });
  assert.equal(descriptions(p), ['StartInstances i-1 (stopped)', 'wait until i-1 is running', 'wait until SSH answers on port 22 of its public address']);
});

test('an instance on its way is waited for by the plan: pending until running (only waits), stopping until stopped, then started', () => {
  const pending = plan({ instances: [one('i-1', 'pending')], launch: null });
  assert.equal(pending.changes.map((c) => [c.description, c.waitOnly]), [['wait until i-1 (redis-node-1a) is running (it is pending)', true], ['wait until SSH answers on port 22 of its public address', true]]);
  assert.is(pending.replan, true);
  const stopping = plan({ instances: [one('i-1', 'stopping')], launch: null });
  assert.equal(descriptions(stopping), ['wait until i-1 (redis-node-1a) is stopped (it is stopping)', 'StartInstances i-1 (stopped)', 'wait until i-1 is running', 'wait until SSH answers on port 22 of its public address']);
});

test('a tag removed by hand from a running instance is put back', () => {
  const p = plan({ instances: [one('i-1', 'running', { tags: { Name: 'redis-node-1a' } })], launch: null });
  assert.equal(descriptions(p), ['CreateTags i-1 project=redis-lab']);
});

test('two instances with the Name: an error naming both, nothing terminated', () => {
  try {
    plan({ instances: [one('i-aaa', 'running'), one('i-bbb', 'stopped')], launch: null });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, AwsError);
    assert.is(
      (e as Error).message,
      '2 instances are named redis-node-1a (project redis-lab): i-aaa (running), i-bbb (stopped). Terminate or rename the extra one(s), then run again',
    );
  }
});

test('no image matches: an error naming the owner and the pattern', () => {
  try {
    plan({ instances: [], launch: { ...launch, image: null } });
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).message, `no available AMI of owner ${CANONICAL_OWNER} is named like ${UBUNTU_NOBLE_AMD64} in this region`);
  }
});

const image = (ImageId: string, Name: string, CreationDate: string, OwnerId = CANONICAL_OWNER, State = 'available'): Image => ({ ImageId, Name, CreationDate, OwnerId, State: State as Image['State'] });

test('AMI choice: the newest available amd64 noble image of Canonical, not a newer look-alike or arm64', () => {
  const images = [
    image('ami-old', 'ubuntu/images/hvm-ssd/ubuntu-noble-24.04-amd64-server-20240423', '2024-04-23T21:05:12.000Z'),
    image('ami-new', 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250305', '2025-03-05T08:41:27.000Z'),
    image('ami-arm', 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-20250401', '2025-04-01T08:43:02.000Z'),
    image('ami-fake', 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250401', '2025-04-01T12:00:00.000Z', '111122223333'),
    image('ami-jammy', 'ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20250501', '2025-05-01T00:00:00.000Z'),
    image('ami-pending', 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250601', '2025-06-01T00:00:00.000Z', CANONICAL_OWNER, 'pending'),
  ];
  assert.is(newestImage(images, CANONICAL_OWNER, UBUNTU_NOBLE_AMD64)?.ImageId, 'ami-new');
  assert.is(newestImage(images.slice(2), CANONICAL_OWNER, UBUNTU_NOBLE_AMD64), null);
});

test('against the emulator: a launch is changed then not; a pending instance is reported by check at once; a stopped one is started', async () => {
  const acct = await testAccount({ delays: { instance: 3000, snapshot: 0, volume: 0 } });
  try {
    const { ec2 } = acct;
    const { Vpc } = await ec2.createVpc({ CidrBlock: '10.0.0.0/16' });
    const { Subnet } = await ec2.createSubnet({ VpcId: Vpc!.VpcId!, CidrBlock: '10.0.1.0/24', AvailabilityZone: 'us-east-1a' });
    await ec2.createTags({ Resources: [Subnet!.SubnetId!], Tags: [{ Key: 'Name', Value: 'redis-subnet-1a' }, { Key: 'project', Value: 'redis-lab' }] });
    const { GroupId } = await ec2.createSecurityGroup({ GroupName: 'redis-cluster-sg', Description: 'redis', VpcId: Vpc!.VpcId! });
    await ec2.importKeyPair({ KeyName: 'redis-cluster-key', PublicKeyMaterial: Buffer.from('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMxxsuNpL6mg6zYTgIFrp4W4uGhLMuQuIeJw0lI4Mysb test') });
    const a = { ...args, wait_ssh: false };
    const first = await changedThenNot(ec2Instance, acct.ctx(), a);
    const { Reservations = [] } = await ec2.describeInstances({ Filters: [{ Name: 'tag:Name', Values: ['redis-node-1a'] }] });
    const made = Reservations.flatMap((r) => r.Instances ?? []);
    assert.is(made.length, 1, 'one instance, once');
    const i = made[0]!;
    assert.equal([i.State?.Name, i.SubnetId, i.SecurityGroups?.map((g) => g.GroupId), first.result?.result?.instance_id, first.result?.result?.state], ['running', Subnet!.SubnetId, [GroupId], i.InstanceId, 'running']);

    await ec2.stopInstances({ InstanceIds: [i.InstanceId!] });
    const t0 = performance.now();
    const stopping = await checkPlan(ec2Instance, acct.ctx(), a);
    const ms = performance.now() - t0;
    assert.is(descriptions(stopping)[0], `wait until ${i.InstanceId} (redis-node-1a) is stopped (it is stopping)`);
    assert.ok(ms < 1000, `check took ${ms.toFixed(0)} ms while the instance stays stopping for 3 s`);
    console.log(`    check of ec2_instance on a stopping instance: ${ms.toFixed(0)} ms`);
    const started = await apply(ec2Instance, acct.ctx(), a);
    assert.equal(started.applied.map((c) => c.description.split(' ')[0]), ['wait', 'StartInstances', 'wait']);
    assert.is(started.result?.result?.state, 'running');
    assert.equal(descriptions(await checkPlan(ec2Instance, acct.ctx(), a)), []);
  } finally {
    await acct.close();
  }
});

test.run();
