// The shipped prod and dr inventories hold the runbook's values: their --check runs (against the
// emulator, reached the SDK's own way: AWS_ENDPOINT_URL_EC2) plan exactly the runbook's network and
// instances, and their aws_ec2 inventory reads the instances of their own region.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { repoDir, rplay } from '../../support/rplay-cli.js';
import { testAccount, type TestAccount } from './support.js';

let acct: TestAccount;
let env: Record<string, string>;
const books = ['playbooks/network.yml', 'playbooks/instances.yml'].map((b) => join(repoDir, b));

test.before(async () => {
  acct = await testAccount();
  env = { AWS_ENDPOINT_URL_EC2: acct.emu.url, AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'not-checked', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
});
test.after(() => acct.close());

const controllerKey = join(homedir(), '.ssh', 'redis-cluster-key');

for (const [name, region, vpc, zones, nodes] of [
  ['prod', 'us-east-1', '10.0', ['1a', '1b', '1c'], ['redis-node-1a', 'redis-node-1b', 'redis-node-1c']],
  ['dr', 'us-west-2', '10.1', ['2a', '2b', '2c'], ['redis-node-2a', 'redis-node-2b', 'redis-node-2c']],
] as const) {
  test(`inventories/${name}: --check plans the runbook's network and instances in ${region}, and creates nothing`, async () => {
    const keyExisted = existsSync(controllerKey);
    const r = await rplay([...books, '-i', join(repoDir, 'inventories', name), '--check'], { env });
    assert.is(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, `CreateVpc ${vpc}.0.0/16 tags Name=redis-vpc,project=redis-lab`);
    zones.forEach((z, i) => assert.match(r.stdout, `CreateSubnet ${vpc}.${i + 1}.0/24 in ${region.slice(0, -1)}${z} in VPC redis-vpc (not created yet) tags Name=redis-subnet-${z}`));
    assert.match(r.stdout, `AuthorizeSecurityGroupIngress tcp 22 from 203.0.113.10/32`);
    assert.match(r.stdout, `AuthorizeSecurityGroupIngress tcp 16379-16380 from ${vpc}.0.0/16`);
    assert.not.match(r.stdout, '26379', "the runbook's unused sentinel ports are not opened");
    for (const n of nodes) assert.match(r.stdout, new RegExp(`RunInstances t2\\.micro ami-[0-9a-f]+ \\(ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24\\.04-amd64-server-20250305\\) .* root /dev/sda1 encrypted with alias/aws/ebs, tags Name=${n},project=redis-lab,role=redis`));
    assert.is(existsSync(controllerKey), keyExisted, 'check mode made no key');
    const probe = await acct.ec2.describeVpcs({});
    assert.equal(probe.Vpcs, []);
  });
}

test('inventories/prod reads its region\'s instances through AWS_ENDPOINT_URL_EC2; dr sees none of them', async () => {
  const vpc = (await acct.ec2.createVpc({ CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
  const subnet = (await acct.ec2.createSubnet({ VpcId: vpc, CidrBlock: '10.0.1.0/24', AvailabilityZone: 'us-east-1a' })).Subnet!.SubnetId!;
  const { Images = [] } = await acct.ec2.describeImages({ Owners: ['099720109477'], Filters: [{ Name: 'architecture', Values: ['x86_64'] }] });
  await acct.ec2.runInstances({
    ImageId: Images[0].ImageId,
    InstanceType: 't2.micro',
    MinCount: 1,
    MaxCount: 1,
    SubnetId: subnet,
    TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'redis-node-1a' }, { Key: 'project', Value: 'redis-lab' }, { Key: 'role', Value: 'redis' }] }],
  });
  await acct.emu.idle();
  const prod = await rplay(['inventory', '-i', join(repoDir, 'inventories', 'prod'), '--graph', 'redis'], { env });
  assert.is(prod.code, 0, prod.stderr);
  assert.is(prod.stdout, '@redis:\n  |--redis-node-1a\n');
  const host = JSON.parse((await rplay(['inventory', '-i', join(repoDir, 'inventories', 'prod'), '--host', 'redis-node-1a'], { env })).stdout) as Record<string, unknown>;
  assert.equal([host.ansible_user, host.rplay_host_key_checking, host.az, host.ansible_ssh_private_key_file], ['ubuntu', 'accept-new', 'us-east-1a', '{{ ssh_private_key_file }}']);
  const dr = await rplay(['inventory', '-i', join(repoDir, 'inventories', 'dr'), '--list'], { env });
  assert.is(dr.code, 0, dr.stderr);
  assert.equal((JSON.parse(dr.stdout) as { _meta: { hostvars: object } })._meta.hostvars, {});
});

test('inventories/prod without credentials: exit 1 and what to set', async () => {
  const r = await rplay(['inventory', '-i', join(repoDir, 'inventories', 'prod'), '--graph'], {
    env: { ...env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_EC2_METADATA_DISABLED: 'true', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', AWS_CONFIG_FILE: '/nonexistent' },
  });
  assert.is(r.code, 1);
  assert.match(r.stderr, `rplay inventory: ${join(repoDir, 'inventories', 'prod', 'aws_ec2.yml')}: plugin aws_ec2: DescribeInstances: no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`);
});

test.run();
