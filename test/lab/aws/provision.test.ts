// The runbook's phases 1 and 2 from an empty EC2 account, with the real CLI: playbooks/network.yml and
// playbooks/instances.yml against the emulator (over HTTP, in this process) whose instances are real
// lab hosts; the shipped inventories/lab-aws pointed at this test's emulator and lab.
import type { EC2 } from '@aws-sdk/client-ec2';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Lab } from '../../lab-fixture.js';
import { startLabAws, type LabAws } from '../../support/lab-aws.js';
import { repoDir, rplay, rplayJson, totalChanged, type JsonRun } from '../../support/rplay-cli.js';

const PREFIX = '127.0.8';
const env = { AWS_ACCESS_KEY_ID: 'AKIDLAB', AWS_SECRET_ACCESS_KEY: 'not-checked' };

let lab: Lab;
let ec2: EC2;
let work: string;
let inventory: string;
const playbooks = [join(repoDir, 'playbooks', 'network.yml'), join(repoDir, 'playbooks', 'instances.yml')];

function resultOf(run: JsonRun, task: string): { status: string; msg?: string } {
  const t = run.plays.flatMap((p) => p.tasks).find((x) => x.name === task);
  if (t === undefined) throw new Error(`no task "${task}" in the run`);
  return t.results.localhost;
}

async function liveInstances(): Promise<{ id: string; name: string; state: string; address?: string; root?: string }[]> {
  const r = await ec2.describeInstances({ Filters: [{ Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }] });
  return (r.Reservations ?? [])
    .flatMap((x) => x.Instances ?? [])
    .map((i) => ({
      id: i.InstanceId!,
      name: i.Tags?.find((t) => t.Key === 'Name')?.Value ?? '',
      state: i.State?.Name ?? '',
      address: i.PublicIpAddress,
      root: i.BlockDeviceMappings?.find((b) => b.DeviceName === i.RootDeviceName)?.Ebs?.VolumeId,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

let aws: LabAws;

test.before(async () => {
  aws = await startLabAws({ hosts: 3, prefix: PREFIX });
  ({ lab, ec2, work, inventory } = aws);
});

test.after(async () => {
  await aws?.down();
});

test('--check on an empty account lists every resource it would create, and creates none', async () => {
  const r = await rplay([...playbooks, '-i', inventory, '--check'], { env });
  assert.is(r.code, 0, r.stdout + r.stderr);
  const expected = [
    'CreateVpc 10.0.0.0/16 tags Name=redis-vpc,project=redis-lab',
    ...['1a', '1b', '1c'].map((z, i) => `CreateSubnet 10.0.${i + 1}.0/24 in us-east-${z} in VPC redis-vpc (not created yet) tags Name=redis-subnet-${z},project=redis-lab`),
    'CreateInternetGateway tags Name=redis-igw,project=redis-lab',
    'CreateRouteTable in VPC redis-vpc (not created yet) tags Name=redis-public-rt,project=redis-lab',
    'CreateRoute 0.0.0.0/0 → redis-igw (not created yet)',
    'CreateSecurityGroup redis-cluster-sg in VPC redis-vpc (not created yet) tags Name=redis-cluster-sg,project=redis-lab',
    'AuthorizeSecurityGroupIngress tcp 22 from 127.0.0.0/8',
    'AuthorizeSecurityGroupIngress tcp 6379-6380 from 10.0.0.0/16',
    'AuthorizeSecurityGroupIngress tcp 16379-16380 from 10.0.0.0/16',
    'EnableEbsEncryptionByDefault in us-east-1',
    `ImportKeyPair redis-cluster-key (the public key of ${lab.keyFile}`,
    'root /dev/sda1 encrypted with alias/redis-lab-ebs, tags Name=redis-node-1c,project=redis-lab,role=redis',
  ];
  for (const line of expected) assert.ok(r.stdout.includes(line), `missing: ${line}\n${r.stdout}`);
  assert.is(r.stdout.split('RunInstances t2.micro').length - 1, 3);
  assert.match(r.stdout, /localhost\s+ok=\d+ changed=\d+ failed=0/);
  assert.equal((await ec2.describeVpcs({})).Vpcs, []);
  assert.equal((await ec2.describeSubnets({})).Subnets, []);
  assert.equal((await ec2.describeInternetGateways({})).InternetGateways, []);
  assert.equal((await ec2.describeSecurityGroups({})).SecurityGroups, []);
  assert.equal((await ec2.describeKeyPairs({})).KeyPairs, []);
  assert.equal(await liveInstances(), []);
  assert.is((await ec2.getEbsEncryptionByDefault({})).EbsEncryptionByDefault, false);
});

let firstRunChanged = 0;

test('a run from the empty account builds the network and three running instances on the lab hosts, roots encrypted', async () => {
  const r = await rplayJson([...playbooks, '-i', inventory], { env });
  assert.is(r.code, 0, r.stdout + r.stderr);
  firstRunChanged = totalChanged(r.json);
  assert.ok(firstRunChanged >= 8, `changed=${firstRunChanged}`);
  const instances = await liveInstances();
  assert.equal(instances.map((i) => `${i.name} ${i.state}`), ['redis-node-1a running', 'redis-node-1b running', 'redis-node-1c running']);
  assert.equal(instances.map((i) => i.address).sort(), lab.hosts.map((h) => h.address).sort());
  const { Volumes = [] } = await ec2.describeVolumes({ VolumeIds: instances.map((i) => i.root!) });
  for (const v of Volumes) {
    assert.is(v.Encrypted, true, v.VolumeId);
    assert.match(v.KmsKeyId ?? '', /^arn:aws:kms:us-east-1:\d{12}:key\//);
  }
  // One subnet per zone, one instance per subnet.
  const r2 = await ec2.describeInstances({ InstanceIds: instances.map((i) => i.id) });
  const zones = (r2.Reservations ?? []).flatMap((x) => x.Instances ?? []).map((i) => i.Placement?.AvailabilityZone).sort();
  assert.equal(zones, ['us-east-1a', 'us-east-1b', 'us-east-1c']);
  assert.is((await ec2.getEbsEncryptionByDefault({})).EbsEncryptionByDefault, true);
});

test('a second run changes nothing', async () => {
  const t0 = performance.now();
  const r = await rplayJson([...playbooks, '-i', inventory], { env });
  const ms = performance.now() - t0;
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.is(totalChanged(r.json), 0, JSON.stringify(r.json.plays.flatMap((p) => p.tasks.filter((t) => t.results.localhost?.status === 'changed'))));
  console.log(`    converged re-run of network.yml + instances.yml: ${ms.toFixed(0)} ms (first run changed=${firstRunChanged})`);
});

test('an SSH rule opened to 0.0.0.0/0 by hand: --check reports the security group task, a run takes it back', async () => {
  const { SecurityGroups = [] } = await ec2.describeSecurityGroups({ Filters: [{ Name: 'group-name', Values: ['redis-cluster-sg'] }] });
  const groupId = SecurityGroups[0].GroupId!;
  await ec2.authorizeSecurityGroupIngress({ GroupId: groupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] });
  const checked = await rplayJson([playbooks[0], '-i', inventory, '--check'], { env });
  assert.is(checked.code, 0);
  assert.is(totalChanged(checked.json), 1);
  assert.equal(resultOf(checked.json, 'Security group'), { status: 'changed', msg: 'RevokeSecurityGroupIngress tcp 22 from 0.0.0.0/0 (not a wanted rule)' });
  const open = async (): Promise<boolean> => {
    const { SecurityGroupRules = [] } = await ec2.describeSecurityGroupRules({ Filters: [{ Name: 'group-id', Values: [groupId] }] });
    return SecurityGroupRules.some((x) => !x.IsEgress && x.FromPort === 22 && x.CidrIpv4 === '0.0.0.0/0');
  };
  assert.ok(await open(), 'check mode left the rule alone');
  const fixed = await rplayJson([playbooks[0], '-i', inventory], { env });
  assert.is(totalChanged(fixed.json), 1);
  assert.not.ok(await open());
  assert.is(totalChanged((await rplayJson([playbooks[0], '-i', inventory], { env })).json), 0);
});

test('the aws_ec2 inventory lists the three instances at their lab hosts, and ping works over SSH', async () => {
  const list = await rplay(['inventory', '-i', inventory, '--list'], { env });
  assert.is(list.code, 0, list.stderr);
  const doc = JSON.parse(list.stdout) as { redis: { hosts: string[] }; _meta: { hostvars: Record<string, Record<string, unknown>> } };
  assert.equal(doc.redis.hosts, ['redis-node-1a', 'redis-node-1b', 'redis-node-1c']);
  const addresses = doc.redis.hosts.map((h) => doc._meta.hostvars[h].ansible_host);
  assert.equal([...addresses].sort(), lab.hosts.map((h) => h.address).sort());
  assert.is(doc._meta.hostvars['redis-node-1b'].az, 'us-east-1b');
  const book = join(work, 'ping.yml');
  writeFileSync(book, '- hosts: redis\n  gather_facts: false\n  tasks:\n    - name: ping\n      ping:\n');
  const r = await rplayJson([book, '-i', inventory], { env });
  assert.is(r.code, 0, r.stdout + r.stderr);
  for (const h of doc.redis.hosts) assert.equal(r.json.stats[h], { ok: 1, changed: 0, failed: 0, skipped: 0, unreachable: 0 }, h);
});

test.run();
