// backup.yml's EBS part and teardown.yml with the real CLI against the EC2 emulator (in this
// process, over HTTP, instances as records): snapshots tagged and waited for, a re-run with the
// same label changes nothing, retention prunes rplay's old snapshots and never anyone else's;
// teardown refuses without -e confirm=yes touching nothing, --check lists the calls, and with the
// confirmation leaves nothing of the project (another project's VPC and a snapshot without the project tag stay).
import { EC2 } from '@aws-sdk/client-ec2';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startEc2Emulator, type Ec2Emulator } from '../../../lab/ec2/emulator.js';
import { rplay, rplayJson, totalChanged, type JsonRun } from '../../support/rplay-cli.js';

const test = suite('EBS snapshots and teardown against the EC2 emulator');
const env = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
const NODES = ['redis-node-1a', 'redis-node-1b', 'redis-node-1c'];
let emu: Ec2Emulator;
let ec2: EC2;
let work: string;
let inventory: string;

function resultOf(run: JsonRun, task: string): { status: string; msg?: string } {
  const t = run.plays.flatMap((p) => p.tasks).find((x) => x.name === task);
  if (t === undefined) throw new Error(`no task "${task}" in the run`);
  return t.results.localhost;
}

/** Everything the account holds, per kind, as "id Name" lines (live instances only). */
async function inventoryOf(project?: string): Promise<Record<string, string[]>> {
  const Filters = project === undefined ? undefined : [{ Name: 'tag:project', Values: [project] }];
  const name = (tags?: { Key?: string; Value?: string }[]): string => tags?.find((t) => t.Key === 'Name')?.Value ?? '';
  const [i, v, s, g, t, w, n, c, k] = await Promise.all([
    ec2.describeInstances({ Filters }),
    ec2.describeVolumes({ Filters }),
    ec2.describeSnapshots({ OwnerIds: ['self'], Filters }),
    ec2.describeSecurityGroups({ Filters }),
    ec2.describeRouteTables({ Filters }),
    ec2.describeInternetGateways({ Filters }),
    ec2.describeSubnets({ Filters }),
    ec2.describeVpcs({ Filters }),
    ec2.describeKeyPairs({ Filters }),
  ]);
  return {
    instances: (i.Reservations ?? []).flatMap((r) => r.Instances ?? []).filter((x) => x.State?.Name !== 'terminated').map((x) => `${x.InstanceId} ${name(x.Tags)}`),
    volumes: (v.Volumes ?? []).map((x) => `${x.VolumeId} ${name(x.Tags)}`),
    snapshots: (s.Snapshots ?? []).map((x) => `${x.SnapshotId} ${name(x.Tags)}`),
    securityGroups: (g.SecurityGroups ?? []).map((x) => `${x.GroupId} ${x.GroupName}`),
    routeTables: (t.RouteTables ?? []).map((x) => `${x.RouteTableId} ${name(x.Tags)}`),
    internetGateways: (w.InternetGateways ?? []).map((x) => `${x.InternetGatewayId} ${name(x.Tags)}`),
    subnets: (n.Subnets ?? []).map((x) => `${x.SubnetId} ${name(x.Tags)}`),
    vpcs: (c.Vpcs ?? []).map((x) => `${x.VpcId} ${name(x.Tags)}`),
    keyPairs: (k.KeyPairs ?? []).map((x) => `${x.KeyPairId} ${x.KeyName}`),
  };
}

async function snapshotsByLabel(): Promise<Record<string, string[]>> {
  const { Snapshots = [] } = await ec2.describeSnapshots({ OwnerIds: ['self'], Filters: [{ Name: 'tag-key', Values: ['rplay:snapshot-of'] }] });
  const out: Record<string, string[]> = {};
  for (const s of Snapshots) {
    const tag = (k: string): string => s.Tags?.find((t) => t.Key === k)?.Value ?? '';
    (out[tag('rplay:label')] ??= []).push(tag('rplay:snapshot-of'));
  }
  for (const k of Object.keys(out)) out[k]!.sort();
  return out;
}

const backup = (...extra: string[]) => rplayJson(['playbooks/backup.yml', '-i', inventory, '-e', 'backup_redis=false', ...extra], { env });
const teardown = (...extra: string[]) => rplayJson(['playbooks/teardown.yml', '-i', inventory, ...extra], { env });

test.before(async () => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  work = mkdtempSync(join(tmpdir(), 'rplay-snap-'));
  emu = await startEc2Emulator({ delays: { instance: 30, snapshot: 150, volume: 30 } });
  ec2 = new EC2({ region: 'us-east-1', endpoint: emu.url, credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' } });
  inventory = join(work, 'inventory.yml');
  writeFileSync(
    inventory,
    `all:
  vars:
    project: redis-lab
    aws_region: us-east-1
    aws_endpoint_url: ${emu.url}
    aws_access_key: lab
    aws_secret_key: lab-emulator-accepts-any-key
    vpc_name: redis-vpc
    vpc_cidr: 10.0.0.0/16
    subnets:
      - { name: redis-subnet-1a, cidr: 10.0.1.0/24, az: us-east-1a }
      - { name: redis-subnet-1b, cidr: 10.0.2.0/24, az: us-east-1b }
      - { name: redis-subnet-1c, cidr: 10.0.3.0/24, az: us-east-1c }
    internet_gateway_name: redis-igw
    route_table_name: redis-public-rt
    security_group_name: redis-cluster-sg
    admin_cidr: 127.0.0.0/8
    instances:
${NODES.map((n, i) => `      - { name: ${n}, subnet: redis-subnet-1${'abc'[i]} }`).join('\n')}
`,
  );
  // The network by its playbook; a key pair and three instances as rplay's instances.yml leaves them.
  const net = await rplay(['playbooks/network.yml', '-i', inventory], { env });
  assert.is(net.code, 0, net.stdout + net.stderr);
  await ec2.importKeyPair({ KeyName: 'redis-cluster-key', PublicKeyMaterial: Buffer.from('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl lab'), TagSpecifications: [{ ResourceType: 'key-pair', Tags: [{ Key: 'Name', Value: 'redis-cluster-key' }, { Key: 'project', Value: 'redis-lab' }] }] });
  const { Images = [] } = await ec2.describeImages({ Owners: ['099720109477'] });
  const { Subnets = [] } = await ec2.describeSubnets({});
  const { SecurityGroups = [] } = await ec2.describeSecurityGroups({ Filters: [{ Name: 'group-name', Values: ['redis-cluster-sg'] }] });
  for (const [i, name] of NODES.entries()) {
    const subnet = Subnets.find((s) => s.Tags?.some((t) => t.Key === 'Name' && t.Value === `redis-subnet-1${'abc'[i]}`))!;
    const tags = [{ Key: 'Name', Value: name }, { Key: 'project', Value: 'redis-lab' }];
    await ec2.runInstances({
      ImageId: Images[0]!.ImageId!, InstanceType: 't2.micro', MinCount: 1, MaxCount: 1, SubnetId: subnet.SubnetId!, SecurityGroupIds: [SecurityGroups[0]!.GroupId!], KeyName: 'redis-cluster-key',
      TagSpecifications: [{ ResourceType: 'instance', Tags: tags }, { ResourceType: 'volume', Tags: tags }],
    });
  }
  // Another project's VPC and a snapshot someone took by hand: nothing of rplay's may touch them.
  await ec2.createVpc({ CidrBlock: '10.9.0.0/16', TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'Name', Value: 'other' }, { Key: 'project', Value: 'other' }] }] });
  const { Volumes = [] } = await ec2.describeVolumes({});
  await ec2.createSnapshot({ VolumeId: Volumes[0]!.VolumeId!, Description: 'by hand', TagSpecifications: [{ ResourceType: 'snapshot', Tags: [{ Key: 'Name', Value: 'by-hand' }, { Key: 'project', Value: 'redis-lab' }] }] });
  await ec2.createSnapshot({ VolumeId: Volumes[0]!.VolumeId!, Description: 'not the project', TagSpecifications: [{ ResourceType: 'snapshot', Tags: [{ Key: 'Name', Value: 'untagged' }] }] });
  await emu.idle();
});

test.after(async () => {
  ec2?.destroy();
  await emu?.close();
  rmSync(work, { recursive: true, force: true });
});

test('backup.yml --check lists the snapshots it would take and takes none', async () => {
  const r = await backup('-e', 'label=day-1', '--check');
  assert.is(r.code, 0, r.stdout + r.stderr);
  const msg = resultOf(r.json, 'A snapshot of every volume of every node, rplay\'s old ones pruned').msg ?? '';
  for (const n of NODES) assert.match(msg, new RegExp(`CreateSnapshot vol-[0-9a-f]+ \\(${n} /dev/sda1\\) tags Name=${n}-day-1,project=redis-lab,rplay:label=day-1`));
  assert.match(msg, /wait until the snapshots are completed/);
  assert.equal(await snapshotsByLabel(), {});
});

test('backup.yml snapshots every node, completed and tagged; the same label again changes nothing', async () => {
  const r = await backup('-e', 'label=day-1');
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.equal(await snapshotsByLabel(), { 'day-1': NODES });
  const { Snapshots = [] } = await ec2.describeSnapshots({ OwnerIds: ['self'], Filters: [{ Name: 'tag:rplay:label', Values: ['day-1'] }] });
  for (const s of Snapshots) {
    assert.is(s.State, 'completed');
    const tags = Object.fromEntries((s.Tags ?? []).map((t) => [t.Key, t.Value]));
    assert.is(tags.project, 'redis-lab');
    assert.is(tags['rplay:device'], '/dev/sda1');
    assert.match(tags['rplay:created'] ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(tags['rplay:address'] ?? '', /^10\.0\.\d\.\d+$/);
  }
  const again = await backup('-e', 'label=day-1');
  assert.is(again.code, 0);
  assert.is(totalChanged(again.json), 0);
});

test('retention keeps the newest N of rplay\'s snapshots per volume, never the one made by hand', async () => {
  for (const label of ['day-2', 'day-3']) {
    const r = await backup('-e', `label=${label}`, '-e', 'snapshot_retain_count=2');
    assert.is(r.code, 0, r.stdout + r.stderr);
  }
  assert.equal(await snapshotsByLabel(), { 'day-2': NODES, 'day-3': NODES });
  const byHand = await ec2.describeSnapshots({ OwnerIds: ['self'], Filters: [{ Name: 'tag:Name', Values: ['by-hand'] }] });
  assert.is(byHand.Snapshots?.length, 1);
});

test('teardown.yml without -e confirm=yes refuses and touches nothing', async () => {
  const before = await inventoryOf();
  const r = await teardown();
  assert.is(r.code, 2);
  assert.match(resultOf(r.json, 'Confirmed with -e confirm=yes').msg ?? '', /cannot be undone; nothing was touched\. Run it with -e confirm=yes/);
  assert.equal(await inventoryOf(), before);
  const wrong = await teardown('-e', 'confirm=true');
  assert.is(wrong.code, 2);
  assert.equal(await inventoryOf(), before);
});

test('teardown.yml --check lists the calls in reverse dependency order and deletes nothing', async () => {
  const before = await inventoryOf();
  const r = await teardown('-e', 'confirm=yes', '--check');
  assert.is(r.code, 0, r.stdout + r.stderr);
  const order = ['Instances terminated', 'Volumes deleted (orphaned ones, and roots kept by a restore or ebs_encrypt)', 'Snapshots deleted', 'Security group deleted', 'Route table deleted', 'Internet gateway detached and deleted', 'Subnets deleted', 'VPC deleted', 'Key pair deleted (the private key stays on the controller)'];
  const msgs = order.map((t) => resultOf(r.json, t));
  assert.match(msgs[0]!.msg ?? '', /^TerminateInstances i-[0-9a-f]+ \(redis-node-1a\), i-/);
  assert.match(msgs[2]!.msg ?? '', /DeleteSnapshot snap-[0-9a-f]+ \(by-hand\)/);
  assert.match(msgs[4]!.msg ?? '', /^DisassociateRouteTable .*DeleteRouteTable rtb-[0-9a-f]+ \(redis-public-rt\)$/);
  assert.match(msgs[5]!.msg ?? '', /^DetachInternetGateway igw-[0-9a-f]+ from vpc-[0-9a-f]+; DeleteInternetGateway igw-[0-9a-f]+ \(redis-igw\)$/);
  assert.match(msgs[7]!.msg ?? '', /^DeleteVpc vpc-[0-9a-f]+ \(redis-vpc\)$/);
  assert.equal(await inventoryOf(), before);
});

test('teardown.yml -e confirm=yes leaves nothing of the project; another project stays; a re-run changes nothing', async () => {
  const r = await teardown('-e', 'confirm=yes');
  assert.is(r.code, 0, r.stdout + r.stderr);
  await emu.idle();
  assert.equal(await inventoryOf('redis-lab'), { instances: [], volumes: [], snapshots: [], securityGroups: [], routeTables: [], internetGateways: [], subnets: [], vpcs: [], keyPairs: [] });
  const all = await inventoryOf();
  assert.equal(all.vpcs.map((v) => v.split(' ')[1]), ['other']);
  assert.equal(all.snapshots.map((v) => v.split(' ')[1]), ['untagged']);
  assert.equal(all.instances, []);
  const again = await teardown('-e', 'confirm=yes');
  assert.is(again.code, 0);
  assert.is(totalChanged(again.json), 0);
});

test.run();
