// Instances through the real SDK: the AMI lookup, RunInstances with tags and an encrypted root, the
// SDK's waiters over the asynchronous states, DescribeInstances filters and paging.
import {
  DescribeImagesCommand,
  DescribeInstanceStatusCommand,
  DescribeInstancesCommand,
  DescribeVolumesCommand,
  ImportKeyPairCommand,
  paginateDescribeInstances,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceRunning,
  waitUntilInstanceStatusOk,
  waitUntilInstanceStopped,
  waitUntilInstanceTerminated,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { failure, fast, nameTag, testEc2, type TestEc2 } from './client.js';
import { network, ubuntuImage, type Network } from './fixtures.js';

let t: TestEc2;
let ec2: EC2Client;
let net: Network;

test.before(async () => {
  t = await testEc2({ delays: { instance: 300, snapshot: 0, volume: 0 } });
  ec2 = t.client();
  net = await network(ec2);
});
test.after(async () => t.close());

async function describe(id: string): Promise<Instance> {
  return (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0].Instances![0];
}

test('the AMI lookup by owner and name finds the newest Canonical build, not a look-alike from another owner', async () => {
  const imageId = await ubuntuImage(ec2);
  const [image] = (await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images!;
  assert.is(image.Name, 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250305');
  assert.is(image.OwnerId, '099720109477');
  const anyOwner = (await ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'name', Values: ['*ubuntu-noble-24.04-amd64-server-*'] }] }))).Images!;
  assert.ok(anyOwner.some((i) => i.OwnerId !== '099720109477'), 'without the owner a look-alike matches too');
  const west = await ubuntuImage(t.client('us-west-2'));
  assert.is.not(west, imageId, 'each region has its own image ids');
  assert.is((await failure(ec2.send(new DescribeImagesCommand({ ImageIds: ['ami-00000000000000000'] })))).name, 'InvalidAMIID.NotFound');
});

test('RunInstances: pending at once, running after the SDK waiter polls; tags, key, group, root encrypted with the named key', async () => {
  const { publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), Buffer.from(jwk.x!, 'base64url')]);
  await ec2.send(new ImportKeyPairCommand({ KeyName: 'redis-cluster-key', PublicKeyMaterial: Buffer.from(`ssh-ed25519 ${blob.toString('base64')} me@controller`) }));
  const kms = 'arn:aws:kms:us-east-1:123456789012:key/0b6f3a4e-1111-2222-3333-444455556666';
  const run = await ec2.send(
    new RunInstancesCommand({
      ImageId: net.imageId,
      InstanceType: 't2.micro',
      MinCount: 1,
      MaxCount: 1,
      KeyName: 'redis-cluster-key',
      SubnetId: net.subnets.a,
      SecurityGroupIds: [net.groupId],
      BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { VolumeSize: 8, VolumeType: 'gp3', Encrypted: true, KmsKeyId: kms } }],
      TagSpecifications: [...nameTag('instance', 'redis-node-1a', { project: 'redis-lab' }), ...nameTag('volume', 'redis-node-1a-root')],
    }),
  );
  const [launched] = run.Instances!;
  assert.match(launched.InstanceId!, /^i-[0-9a-f]{17}$/);
  assert.match(run.ReservationId!, /^r-[0-9a-f]{17}$/);
  assert.equal(launched.State, { Code: 0, Name: 'pending' });
  assert.is(launched.PrivateIpAddress, '10.0.1.4', 'the first address EC2 hands out in 10.0.1.0/24');
  assert.is(launched.PrivateDnsName, 'ip-10-0-1-4.ec2.internal');
  const waited = await waitUntilInstanceRunning(fast(ec2), { InstanceIds: [launched.InstanceId!] });
  assert.is(waited.state, 'SUCCESS');
  const i = await describe(launched.InstanceId!);
  assert.equal(i.State, { Code: 16, Name: 'running' });
  assert.equal(i.Tags, [{ Key: 'Name', Value: 'redis-node-1a' }, { Key: 'project', Value: 'redis-lab' }]);
  assert.is(i.KeyName, 'redis-cluster-key');
  assert.equal(i.SecurityGroups, [{ GroupId: net.groupId, GroupName: 'redis-cluster-sg' }]);
  assert.is(i.Placement!.AvailabilityZone, 'us-east-1a');
  assert.is(i.RootDeviceName, '/dev/sda1');
  assert.match(i.PublicIpAddress!, /^198\.18\./);
  const rootId = i.BlockDeviceMappings!.find((m) => m.DeviceName === '/dev/sda1')!.Ebs!.VolumeId!;
  const [root] = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [rootId] }))).Volumes!;
  assert.equal([root.Encrypted, root.KmsKeyId, root.Size, root.VolumeType, root.State, root.Attachments![0].Device], [true, kms, 8, 'gp3', 'in-use', '/dev/sda1']);
  assert.equal(root.Tags, [{ Key: 'Name', Value: 'redis-node-1a-root' }]);
});

test('stop and start: the waiters see stopping → stopped and pending → running; the private address stays, the public one changes', async () => {
  const [launched] = (await ec2.send(new RunInstancesCommand({ ImageId: net.imageId, InstanceType: 't3.small', MinCount: 1, MaxCount: 1, SubnetId: net.subnets.b }))).Instances!;
  const id = launched.InstanceId!;
  await waitUntilInstanceRunning(fast(ec2), { InstanceIds: [id] });
  const before = await describe(id);
  const stopping = await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
  assert.equal(stopping.StoppingInstances, [{ InstanceId: id, PreviousState: { Code: 16, Name: 'running' }, CurrentState: { Code: 64, Name: 'stopping' } }]);
  const notYet = await failure(ec2.send(new StartInstancesCommand({ InstanceIds: [id] })));
  assert.is(notYet.name, 'IncorrectInstanceState');
  await waitUntilInstanceStopped(fast(ec2), { InstanceIds: [id] });
  const stopped = await describe(id);
  assert.is(stopped.PublicIpAddress, undefined);
  assert.is(stopped.StateReason!.Code, 'Client.UserInitiatedShutdown');
  await ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
  await waitUntilInstanceRunning(fast(ec2), { InstanceIds: [id] });
  const after = await describe(id);
  assert.is(after.PrivateIpAddress, before.PrivateIpAddress);
  assert.is.not(after.PublicIpAddress, before.PublicIpAddress);
  assert.ok(after.PublicIpAddress);

  await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
  await waitUntilInstanceTerminated(fast(ec2), { InstanceIds: [id] });
  const gone = await describe(id);
  assert.equal(gone.State, { Code: 48, Name: 'terminated' });
  const volumes = await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [id] }] }));
  assert.equal(volumes.Volumes, [], 'the root volume is deleted with the instance');
  assert.is((await failure(ec2.send(new StartInstancesCommand({ InstanceIds: [id] })))).name, 'IncorrectInstanceState');
});

test('instance status: checks pass once running (waitUntilInstanceStatusOk); stopped ones only with IncludeAllInstances', async () => {
  const [a, b] = (await ec2.send(new RunInstancesCommand({ ImageId: net.imageId, InstanceType: 't2.micro', MinCount: 2, MaxCount: 2, SubnetId: net.subnets.a }))).Instances!.map((i) => i.InstanceId!);
  assert.is((await waitUntilInstanceStatusOk(fast(ec2), { InstanceIds: [a, b] })).state, 'SUCCESS');
  await ec2.send(new StopInstancesCommand({ InstanceIds: [b] }));
  await waitUntilInstanceStopped(fast(ec2), { InstanceIds: [b] });
  const some = await ec2.send(new DescribeInstanceStatusCommand({ InstanceIds: [a, b] }));
  assert.equal(some.InstanceStatuses!.map((s) => [s.InstanceId, s.InstanceStatus!.Status]), [[a, 'ok']]);
  const all = await ec2.send(new DescribeInstanceStatusCommand({ InstanceIds: [a, b], IncludeAllInstances: true }));
  assert.equal(all.InstanceStatuses!.map((s) => [s.InstanceState!.Name, s.InstanceStatus!.Status]), [['running', 'ok'], ['stopped', 'not-applicable']]);
});

test('launch errors carry the codes the SDK maps', async () => {
  const base = { ImageId: net.imageId, InstanceType: 't2.micro' as const, MinCount: 1, MaxCount: 1, SubnetId: net.subnets.a };
  assert.is((await failure(ec2.send(new RunInstancesCommand({ ...base, KeyName: 'no-such-key' })))).name, 'InvalidKeyPair.NotFound');
  assert.is((await failure(ec2.send(new RunInstancesCommand({ ...base, SubnetId: 'subnet-00000000000000000' })))).name, 'InvalidSubnetID.NotFound');
  assert.is((await failure(ec2.send(new RunInstancesCommand({ ...base, SecurityGroupIds: ['sg-00000000000000000'] })))).name, 'InvalidGroup.NotFound');
  assert.is((await failure(ec2.send(new RunInstancesCommand({ ...base, ImageId: 'ami-00000000000000000' })))).name, 'InvalidAMIID.NotFound');
  assert.is((await failure(ec2.send(new RunInstancesCommand({ ...base, SubnetId: undefined })))).name, 'VPCIdNotSpecified');
  const kmsAlone = await failure(ec2.send(new RunInstancesCommand({ ...base, BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { KmsKeyId: 'alias/aws/ebs' } }] })));
  assert.is(kmsAlone.name, 'InvalidParameterDependency');
  const missing = await failure(ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })));
  assert.is(missing.name, 'InvalidInstanceID.NotFound');
  assert.is(missing.message, "The instance ID 'i-0123456789abcdef0' does not exist");
  const dry = await failure(ec2.send(new RunInstancesCommand({ ...base, DryRun: true })));
  assert.is(dry.name, 'DryRunOperation');
  assert.is(dry.$metadata?.httpStatusCode, 412);
});

test('DescribeInstances filters: tag:Name, tag:<key>, tag-key, instance-state-name, instance-id, vpc-id, subnet-id, availability-zone', async () => {
  const run = async (name: string, subnet: string, role: string): Promise<string> =>
    (await ec2.send(new RunInstancesCommand({ ImageId: net.imageId, InstanceType: 't2.micro', MinCount: 1, MaxCount: 1, SubnetId: subnet, TagSpecifications: nameTag('instance', name, { role }) }))).Instances![0].InstanceId!;
  const x = await run('filter-x', net.subnets.a, 'cache');
  const y = await run('filter-y', net.subnets.b, 'cache');
  const z = await run('filter-z', net.subnets.b, 'db');
  await waitUntilInstanceRunning(fast(ec2), { InstanceIds: [x, y, z] });
  await ec2.send(new StopInstancesCommand({ InstanceIds: [z] }));
  await waitUntilInstanceStopped(fast(ec2), { InstanceIds: [z] });
  const ids = async (...filters: [string, string[]][]): Promise<string[]> => {
    const r = await ec2.send(new DescribeInstancesCommand({ Filters: filters.map(([Name, Values]) => ({ Name, Values })) }));
    return r.Reservations!.flatMap((res) => res.Instances!.map((i) => i.InstanceId!)).sort();
  };
  assert.equal(await ids(['tag:Name', ['filter-y']]), [y]);
  assert.equal(await ids(['tag:Name', ['filter-*']], ['instance-state-name', ['running']]), [x, y].sort());
  assert.equal(await ids(['tag:role', ['cache']]), [x, y].sort());
  assert.equal(await ids(['tag-key', ['role']], ['instance-state-name', ['stopped']]), [z]);
  assert.equal(await ids(['instance-id', [x, z]]), [x, z].sort());
  assert.equal(await ids(['subnet-id', [net.subnets.b]], ['tag:role', ['cache', 'db']]), [y, z].sort());
  assert.equal(await ids(['availability-zone', ['us-east-1a']], ['tag-key', ['role']]), [x]);
  assert.equal((await ids(['vpc-id', [net.vpcId]], ['tag:Name', ['filter-?']])).length, 3);
  assert.equal(await ids(['vpc-id', ['vpc-00000000000000000']]), []);
});

test('paging: 120 instances come back over several pages with MaxResults/NextToken, each exactly once', async () => {
  const run = await ec2.send(
    new RunInstancesCommand({ ImageId: net.imageId, InstanceType: 't2.nano', MinCount: 120, MaxCount: 120, SubnetId: net.subnets.b, TagSpecifications: nameTag('instance', 'fleet') }),
  );
  assert.is(run.Instances!.length, 120);
  const filters = [{ Name: 'tag:Name', Values: ['fleet'] }];
  const first = await ec2.send(new DescribeInstancesCommand({ Filters: filters, MaxResults: 50 }));
  assert.is(first.Reservations!.flatMap((r) => r.Instances!).length, 50);
  assert.ok(first.NextToken);
  const seen: string[] = [];
  let pages = 0;
  for await (const page of paginateDescribeInstances({ client: ec2, pageSize: 50 }, { Filters: filters })) {
    pages++;
    for (const r of page.Reservations!) seen.push(...r.Instances!.map((i) => i.InstanceId!));
  }
  assert.is(pages, 3);
  assert.is(new Set(seen).size, 120);
  assert.equal(seen.sort(), run.Instances!.map((i) => i.InstanceId!).sort());
  const tooBig = await failure(ec2.send(new DescribeInstancesCommand({ MaxResults: 2000 })));
  assert.is(tooBig.name, 'InvalidParameterValue');
  const withIds = await failure(ec2.send(new DescribeInstancesCommand({ MaxResults: 5, InstanceIds: [seen[0]] })));
  assert.is(withIds.name, 'InvalidParameterCombination');
});

test('a retried RunInstances with the same client token launches nothing new', async () => {
  const input = { ImageId: net.imageId, InstanceType: 't2.micro' as const, MinCount: 1, MaxCount: 1, SubnetId: net.subnets.a, ClientToken: 'launch-redis-node-1b' };
  const first = await ec2.send(new RunInstancesCommand(input));
  const again = await ec2.send(new RunInstancesCommand(input));
  assert.is(again.Instances![0].InstanceId, first.Instances![0].InstanceId);
  const r = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'client-token', Values: ['launch-redis-node-1b'] }] }));
  assert.is(r.Reservations!.flatMap((x) => x.Instances!).length, 1);
});

test.run();
