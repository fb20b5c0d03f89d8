// The aws_ec2 inventory against the emulator over HTTP: names, variables, groups as amazon.aws makes
// them; duplicates refused; the cache; clear messages for credentials, regions and throttling; and
// how long 100 instances take.
import type { EC2 } from '@aws-sdk/client-ec2';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { invalidateInventoryCache } from '../../../modules/aws/inventory-cache.js';
import { awsEc2Inventory } from '../../../modules/aws/inventory-plugin.js';
import type { InventoryDocument } from '../../../runner/inventory/inventory-document.js';
import { rplay } from '../../support/rplay-cli.js';
import { testAccount, type TestAccount } from './support.js';

let acct: TestAccount;
const dir = mkdtempSync(join(tmpdir(), 'rplay-aws-inv-'));
const file = join(dir, 'aws_ec2.yml');
let subnets: Record<string, string>;
let groupId: string;

const base = () => ({
  plugin: 'aws_ec2',
  regions: ['us-east-1'],
  endpoint_url: acct.emu.url,
  access_key: 'AKIDTEST',
  secret_key: 'not-checked',
  filters: { 'tag:project': 'redis-lab', 'instance-state-name': 'running' },
  hostnames: ['tag:Name'],
  keyed_groups: [{ key: 'placement.availability_zone', prefix: 'az' }],
  groups: { redis: "tags.role | default('') == 'redis'" },
  compose: { ansible_host: 'public_ip_address', private_ip: 'private_ip_address', az: 'placement.availability_zone' },
});

async function launch(ec2: EC2, name: string | null, zone: string, extra: Record<string, string> = { project: 'redis-lab', role: 'redis' }, count = 1): Promise<string[]> {
  const tags = [...(name === null ? [] : [{ Key: 'Name', Value: name }]), ...Object.entries(extra).map(([Key, Value]) => ({ Key, Value }))];
  const { Images = [] } = await ec2.describeImages({ Owners: ['099720109477'], Filters: [{ Name: 'name', Values: ['ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250305'] }] });
  const r = await ec2.runInstances({
    ImageId: Images[0].ImageId,
    InstanceType: 't2.micro',
    MinCount: count,
    MaxCount: count,
    SubnetId: subnets[zone],
    SecurityGroupIds: [groupId],
    TagSpecifications: [{ ResourceType: 'instance', Tags: tags }],
  });
  await acct.emu.idle();
  return (r.Instances ?? []).map((i) => i.InstanceId!);
}

const hostsOf = (doc: InventoryDocument): Record<string, Record<string, unknown>> => (doc.all?.hosts ?? {}) as Record<string, Record<string, unknown>>;
const membersOf = (doc: InventoryDocument, group: string): string[] => Object.keys(doc.all?.children?.[group]?.hosts ?? {});

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

test.before(async () => {
  acct = await testAccount();
  const vpc = (await acct.ec2.createVpc({ CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
  subnets = {};
  for (const [i, z] of ['a', 'b', 'c'].entries()) {
    subnets[z] = (await acct.ec2.createSubnet({ VpcId: vpc, CidrBlock: `10.0.${i + 1}.0/24`, AvailabilityZone: `us-east-1${z}` })).Subnet!.SubnetId!;
  }
  groupId = (await acct.ec2.createSecurityGroup({ VpcId: vpc, GroupName: 'redis-cluster-sg', Description: 'x' })).GroupId!;
  await launch(acct.ec2, 'redis-node-1a', 'a');
  await launch(acct.ec2, 'redis-node-1b', 'b');
  await launch(acct.ec2, 'redis-node-1c', 'c');
  await launch(acct.ec2, 'bastion', 'a', { project: 'redis-lab' });
  await launch(acct.ec2, 'other-project', 'a', { project: 'web' });
  const [stopped] = await launch(acct.ec2, 'redis-node-old', 'b');
  await acct.ec2.stopInstances({ InstanceIds: [stopped] });
  await acct.emu.idle();
});

test.after(async () => {
  await acct.close();
  rmSync(dir, { recursive: true, force: true });
});

test('hosts by Name tag, only running instances of the project; compose, keyed groups and groups as amazon.aws makes them', async () => {
  const doc = await awsEc2Inventory(base(), file);
  const hosts = hostsOf(doc);
  assert.equal(Object.keys(hosts), ['bastion', 'redis-node-1a', 'redis-node-1b', 'redis-node-1c']);
  const node = hosts['redis-node-1b'];
  assert.is(node.ansible_host, node.public_ip_address);
  assert.match(String(node.ansible_host), /^198\.18\./);
  assert.is(node.private_ip, node.private_ip_address);
  assert.match(String(node.private_ip), /^10\.0\.2\./);
  assert.is(node.az, 'us-east-1b');
  assert.equal(node.placement, { availability_zone: 'us-east-1b', group_name: '', tenancy: 'default', region: 'us-east-1' });
  assert.equal(node.tags, { Name: 'redis-node-1b', project: 'redis-lab', role: 'redis' });
  assert.is(node.instance_type, 't2.micro');
  assert.is((node.state as Record<string, unknown>).name, 'running');
  assert.equal(membersOf(doc, 'az_us_east_1a'), ['bastion', 'redis-node-1a']);
  assert.equal(membersOf(doc, 'az_us_east_1c'), ['redis-node-1c']);
  assert.equal(membersOf(doc, 'redis'), ['redis-node-1a', 'redis-node-1b', 'redis-node-1c']);
  assert.equal(membersOf(doc, 'aws_ec2'), ['bastion', 'redis-node-1a', 'redis-node-1b', 'redis-node-1c']);
});

test('hostnames: the first preference an instance has; {name, prefix} joins two; no preference → left out', async () => {
  const [unnamed] = await launch(acct.ec2, null, 'c', { project: 'pref' });
  try {
    const pref = { ...base(), filters: { 'tag:project': 'pref' } };
    assert.equal(Object.keys(hostsOf(await awsEc2Inventory({ ...pref, hostnames: ['tag:Name', 'instance-id'] }, file))), [unnamed]);
    assert.equal(Object.keys(hostsOf(await awsEc2Inventory({ ...pref, hostnames: ['tag:Name'] }, file))), []);
    const joined = hostsOf(await awsEc2Inventory({ ...pref, hostnames: [{ name: 'instance-id', prefix: 'tag:project', separator: '-' }] }, file));
    assert.equal(Object.keys(joined), [`pref-${unnamed}`]);
  } finally {
    await acct.ec2.terminateInstances({ InstanceIds: [unnamed] });
    await acct.emu.idle();
  }
});

test('keyed groups from a mapping and a list, default_value, parent_group; names sanitized', async () => {
  const doc = await awsEc2Inventory(
    {
      ...base(),
      keyed_groups: [
        { key: 'tags', prefix: 'tag' },
        { key: 'security_groups | map(attribute="group_name")', prefix: 'sg', parent_group: 'by-sg' },
        { key: "tags.tier | default('')", prefix: 'tier', default_value: 'none' },
      ],
    },
    file,
  );
  assert.equal(membersOf(doc, 'tag_Name_redis_node_1a'), ['redis-node-1a']);
  assert.equal(membersOf(doc, 'tag_role_redis'), ['redis-node-1a', 'redis-node-1b', 'redis-node-1c']);
  assert.equal(membersOf(doc, 'sg_redis_cluster_sg').length, 4);
  assert.equal(Object.keys(doc.all?.children?.by_sg?.children ?? {}), ['sg_redis_cluster_sg']);
  assert.equal(membersOf(doc, 'tier_none').length, 4);
});

test('an expression that fails is skipped for that host, or an error naming it with strict: true', async () => {
  const loose = hostsOf(await awsEc2Inventory({ ...base(), compose: { owner: 'tags.owner' } }, file));
  assert.not.ok('owner' in loose['redis-node-1a']);
  const e = await failure(awsEc2Inventory({ ...base(), compose: { owner: 'tags.owner' }, strict: true }, file));
  assert.match(e.message, `${file}: aws_ec2: host bastion: compose owner:`);
});

test('two instances with one host name: an error naming both ids, not a merge', async () => {
  const [twin] = await launch(acct.ec2, 'redis-node-1a', 'b');
  try {
    const first = String(hostsOf(await awsEc2Inventory({ ...base(), filters: { 'instance-id': (await ids('redis-node-1a'))[0] } }, file))['redis-node-1a'].instance_id);
    const e = await failure(awsEc2Inventory(base(), file));
    assert.is(e.message, `${file}: aws_ec2: two instances have the host name redis-node-1a (from tag:Name): ${first} and ${twin}. Give each a unique name, or narrow the filters`);
  } finally {
    await acct.ec2.terminateInstances({ InstanceIds: [twin] });
    await acct.emu.idle();
  }
});

async function ids(name: string): Promise<string[]> {
  const r = await acct.ec2.describeInstances({ Filters: [{ Name: 'tag:Name', Values: [name] }, { Name: 'instance-state-name', Values: ['running'] }] });
  return (r.Reservations ?? []).flatMap((x) => x.Instances ?? []).map((i) => i.InstanceId!);
}

test('bad options are errors at the option: unknown keys with a suggestion, unknown hostname sources', async () => {
  const typo = await failure(awsEc2Inventory({ ...base(), filter: {} }, file));
  assert.match(typo.message, "aws_ec2: unknown key 'filter' (did you mean 'filters'?)");
  const source = await failure(awsEc2Inventory({ ...base(), hostnames: ['public-ip'] }, file));
  assert.match(source.message, "aws_ec2.hostnames[0]: 'public-ip' is not a hostname source (known: instance-id, dns-name, private-dns-name, ip-address, private-ip-address, tag:KEY)");
});

test('cache: a second read within cache_timeout is the cached answer; invalidation or timeout 0 reads EC2 again', async () => {
  mkdirSync(join(dir, 'playbooks'), { recursive: true });
  const cached = { ...base(), cache: true, cache_timeout: 600 };
  assert.is(Object.keys(hostsOf(await awsEc2Inventory(cached, file))).length, 4);
  const [extra] = await launch(acct.ec2, 'redis-node-1d', 'a');
  try {
    assert.is(Object.keys(hostsOf(await awsEc2Inventory(cached, file))).length, 4, 'served from the cache');
    assert.is(Object.keys(hostsOf(await awsEc2Inventory({ ...cached, cache_timeout: 0 }, file))).length, 5, 'expired');
    await invalidateInventoryCache(join(dir, '.rplay', 'cache'));
    await acct.ec2.terminateInstances({ InstanceIds: [extra] });
    await acct.emu.idle();
    assert.is(Object.keys(hostsOf(await awsEc2Inventory(cached, file))).length, 4, 'read again after invalidation');
  } finally {
    rmSync(join(dir, '.rplay'), { recursive: true, force: true });
  }
});

test('missing credentials: a message naming what to set', async () => {
  const saved = { ...process.env };
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) delete process.env[k];
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'no-credentials');
  process.env.AWS_CONFIG_FILE = join(dir, 'no-config');
  try {
    const { access_key: _a, secret_key: _s, ...noKeys } = base();
    const e = await failure(awsEc2Inventory(noKeys, file));
    assert.match(e.message, 'DescribeInstances: no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
    assert.match(e.message, 'or AWS_PROFILE');
  } finally {
    process.env = saved;
  }
});

test('a region the endpoint does not serve, and a name that is no region: messages that say so', async () => {
  const e = await failure(awsEc2Inventory({ ...base(), regions: ['eu-north-1'] }, file));
  assert.match(e.message, "DescribeInstances: region eu-north-1 at " + acct.emu.url + " is not served there: Credential should be scoped to a valid region, not 'eu-north-1'");
  const typo = await failure(awsEc2Inventory({ ...base(), regions: ['us-east'] }, file));
  assert.is(typo.message, "'us-east' is not an AWS region name (like us-east-1 or eu-west-2): set region or aws_region to one");
});

test('throttling: retried with backoff until it passes; past the attempts, a message saying so', async () => {
  acct.emu.throttle(2);
  assert.is(Object.keys(hostsOf(await awsEc2Inventory(base(), file))).length, 4);
  process.env.AWS_MAX_ATTEMPTS = '2';
  try {
    acct.emu.throttle(5);
    const e = await failure(awsEc2Inventory(base(), file));
    assert.match(e.message, 'DescribeInstances: EC2 is throttling requests (RequestLimitExceeded) in region us-east-1');
    assert.match(e.message, 'gave up after 2 attempt(s) with backoff');
    assert.match(e.message, 'AWS_MAX_ATTEMPTS (now 2)');
  } finally {
    delete process.env.AWS_MAX_ATTEMPTS;
    acct.emu.throttle(0);
  }
});

test('rplay inventory --graph shows the dynamic inventory (with group_vars beside it)', async () => {
  const inv = join(dir, 'inv');
  mkdirSync(join(inv, 'group_vars'), { recursive: true });
  writeFileSync(join(inv, 'aws_ec2.yml'), JSON.stringify(base()));
  writeFileSync(join(inv, 'group_vars', 'all.yml'), 'ansible_user: ubuntu\n');
  const r = await rplay(['inventory', '-i', inv, '--graph']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, '@all:\n  |--@aws_ec2:\n  |  |--bastion\n');
  assert.match(r.stdout, '  |--@az_us_east_1b:\n  |  |--redis-node-1b\n');
  assert.match(r.stdout, '  |--@redis:\n  |  |--redis-node-1a\n  |  |--redis-node-1b\n  |  |--redis-node-1c\n');
  const host = await rplay(['inventory', '-i', inv, '--host', 'redis-node-1c']);
  const vars = JSON.parse(host.stdout) as Record<string, unknown>;
  assert.is(vars.ansible_user, 'ubuntu');
  assert.is(vars.az, 'us-east-1c');
});

// How fast is the benchmark's concern (npm run bench); here: 100 instances, all of them, paged.
test('100 instances: every one is in the inventory, in process and through the CLI', async () => {
  await launch(acct.ec2, null, 'a', { project: 'fleet' }, 100);
  const fleet = { ...base(), filters: { 'tag:project': 'fleet' }, hostnames: ['instance-id'] };
  const doc = await awsEc2Inventory(fleet, file);
  assert.is(Object.keys(hostsOf(doc)).length, 100);
  const inv = join(dir, 'fleet');
  mkdirSync(inv, { recursive: true });
  writeFileSync(join(inv, 'aws_ec2.yml'), JSON.stringify(fleet));
  const r = await rplay(['inventory', '-i', inv, '--list']);
  assert.is(r.code, 0, r.stderr);
  assert.is(Object.keys((JSON.parse(r.stdout) as { _meta: { hostvars: object } })._meta.hostvars).length, 100);
});

test.run();
