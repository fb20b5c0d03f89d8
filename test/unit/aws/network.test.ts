// The network modules: plans from given Describe results (pure), and the changed-then-ok pair against
// the emulator over HTTP, with check runs that call nothing but Describe.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ec2InternetGateway } from '../../../modules/ec2-internet-gateway.js';
import { ec2RouteTable, type RouteTableActual } from '../../../modules/ec2-route-table.js';
import { ec2Subnet } from '../../../modules/ec2-subnet.js';
import { ec2Vpc } from '../../../modules/ec2-vpc.js';
import { ec2EbsDefaultEncryption } from '../../../modules/ec2-ebs-default-encryption.js';
import { check, converge, descriptions, testAccount } from './support.js';
import { NotYetThere } from '../../../runner/types.js';

const tags = { Name: 'redis-vpc', project: 'redis-lab' };
const vpcArgs = { name: 'redis-vpc', project: 'redis-lab', cidr: '10.0.0.0/16' };

test('VPC: none → CreateVpc with its tags, then DNS hostnames on', () => {
  assert.equal(descriptions(ec2Vpc.plan(vpcArgs, { vpc: null })), ['CreateVpc 10.0.0.0/16 tags Name=redis-vpc,project=redis-lab', 'ModifyVpcAttribute EnableDnsHostnames=true']);
});

test('VPC: as wanted → ok; hostnames off and a tag missing → the two calls that fix them', () => {
  const vpc = { id: 'vpc-1', cidr: '10.0.0.0/16', tags, dnsSupport: true, dnsHostnames: true };
  assert.equal(ec2Vpc.plan(vpcArgs, { vpc }).changes, []);
  assert.equal(descriptions(ec2Vpc.plan(vpcArgs, { vpc: { ...vpc, dnsHostnames: false, tags: { Name: 'redis-vpc' } } })), [
    'ModifyVpcAttribute EnableDnsHostnames=true',
    'CreateTags vpc-1 project=redis-lab',
  ]);
});

test('VPC: another CIDR is an error (a VPC cannot change range), not a silent second VPC', () => {
  assert.throws(
    () => ec2Vpc.plan(vpcArgs, { vpc: { id: 'vpc-1', cidr: '10.9.0.0/16', tags, dnsSupport: true, dnsHostnames: true } }),
    /VPC redis-vpc \(vpc-1\) has CIDR 10\.9\.0\.0\/16, not 10\.0\.0\.0\/16: a VPC's CIDR cannot change/,
  );
});

const subnetArgs = { name: 'redis-subnet-1a', project: 'redis-lab', vpc: 'redis-vpc', cidr: '10.0.1.0/24', az: 'us-east-1a' };

test('subnet: its VPC missing (a check run) → create it, naming the VPC to come; public addressing on', () => {
  assert.equal(descriptions(ec2Subnet.plan(subnetArgs, { vpcId: null, subnet: null })), [
    'CreateSubnet 10.0.1.0/24 in us-east-1a in VPC redis-vpc (not created yet) tags Name=redis-subnet-1a,project=redis-lab',
    'ModifySubnetAttribute MapPublicIpOnLaunch=true',
  ]);
});

test('subnet: public addressing turned off by hand → turned back on', () => {
  const subnet = { id: 'subnet-1', cidr: '10.0.1.0/24', az: 'us-east-1a', mapPublicIp: false, tags: { Name: 'redis-subnet-1a', project: 'redis-lab' } };
  assert.equal(descriptions(ec2Subnet.plan(subnetArgs, { vpcId: 'vpc-1', subnet })), ['ModifySubnetAttribute MapPublicIpOnLaunch=true']);
  assert.throws(() => ec2Subnet.plan({ ...subnetArgs, az: 'us-east-1b' }, { vpcId: 'vpc-1', subnet }), /a subnet's range and zone cannot change/);
});

test('internet gateway: detached → attached; attached to another VPC → an error, not a move', () => {
  const a = { name: 'redis-igw', project: 'redis-lab', vpc: 'redis-vpc' };
  const gateway = { id: 'igw-1', attachedTo: null, tags: { Name: 'redis-igw', project: 'redis-lab' } };
  assert.equal(descriptions(ec2InternetGateway.plan(a, { vpcId: 'vpc-1', gateway })), ['AttachInternetGateway to VPC vpc-1']);
  assert.equal(ec2InternetGateway.plan(a, { vpcId: 'vpc-1', gateway: { ...gateway, attachedTo: 'vpc-1' } }).changes, []);
  assert.throws(() => ec2InternetGateway.plan(a, { vpcId: 'vpc-1', gateway: { ...gateway, attachedTo: 'vpc-9' } }), /attached to vpc-9, not to VPC redis-vpc \(project redis-lab\) \(vpc-1\)/);
});

const rtArgs = { name: 'redis-public-rt', project: 'redis-lab', vpc: 'redis-vpc', routes: [{ dest: '0.0.0.0/0', gateway: 'redis-igw' }], subnets: ['s-a', 's-b'] };

test('route table: exact routes and subnets — a stray route deleted, a subnet moved from another table, one disassociated', () => {
  const actual: RouteTableActual = {
    vpcId: 'vpc-1',
    table: { id: 'rtb-1', routes: { '0.0.0.0/0': 'igw-1', '192.0.2.0/24': 'igw-1' }, associations: { 'subnet-a': 'assoc-a', 'subnet-x': 'assoc-x' }, tags: { Name: 'redis-public-rt', project: 'redis-lab' } },
    gateways: { 'redis-igw': 'igw-1' },
    subnets: { 's-a': { id: 'subnet-a', association: { id: 'assoc-a', tableId: 'rtb-1' } }, 's-b': { id: 'subnet-b', association: { id: 'assoc-b', tableId: 'rtb-main' } } },
  };
  assert.equal(descriptions(ec2RouteTable.plan(rtArgs, actual)), [
    'DeleteRoute 192.0.2.0/24 → igw-1 (not a wanted route)',
    'DisassociateRouteTable subnet-x (not a wanted subnet)',
    'DisassociateRouteTable subnet-b from rtb-main',
    'AssociateRouteTable subnet-b',
  ]);
});

test('against EC2: a check run on an empty account plans everything and creates nothing; a run creates it; the next is ok', async () => {
  const acct = await testAccount();
  try {
    const ctx = acct.ctx();
    const subnets = ['a', 'b', 'c'].map((z, i) => ({ ...subnetArgs, name: `redis-subnet-1${z}`, cidr: `10.0.${i + 1}.0/24`, az: `us-east-1${z}` }));
    const igw = { name: 'redis-igw', project: 'redis-lab', vpc: 'redis-vpc' };
    const rt = { ...rtArgs, subnets: subnets.map((s) => s.name) };
    // With no VPC yet, the others are "not there yet" (the engine's "would change", as the VPC task would
    // change the host), each saying what it would then do.
    const pending = async (m: typeof ec2Subnet | typeof ec2InternetGateway | typeof ec2RouteTable, a: object): Promise<string[]> => {
      const e = await (m as typeof ec2Subnet).gather(ctx, a as typeof subnetArgs).then(() => undefined, (x: unknown) => x);
      assert.instance(e, NotYetThere, `${m.name}: ${String(e)}`);
      assert.is((e as NotYetThere).missing, 'VPC redis-vpc');
      return ((e as NotYetThere).would ?? '').split('; ');
    };
    const planned = [
      ...descriptions(await check(ec2Vpc, ctx, vpcArgs)),
      ...(await pending(ec2Subnet, subnets[0]!)),
      ...(await pending(ec2InternetGateway, igw)),
      ...(await pending(ec2RouteTable, rt)),
    ];
    assert.ok(planned.includes('CreateVpc 10.0.0.0/16 tags Name=redis-vpc,project=redis-lab'));
    assert.ok(planned.includes('AttachInternetGateway to VPC redis-vpc (not created yet)'));
    assert.ok(planned.includes('AssociateRouteTable redis-subnet-1c (not created yet)'), planned.join('\n'));
    assert.equal((await acct.ec2.describeVpcs({})).Vpcs, []);
    assert.equal((await acct.ec2.describeInternetGateways({})).InternetGateways, []);

    for (const [m, a] of [[ec2Vpc, vpcArgs], ...subnets.map((s) => [ec2Subnet, s]), [ec2InternetGateway, igw], [ec2RouteTable, rt]] as const) {
      assert.ok((await converge(m as typeof ec2Vpc, ctx, a as typeof vpcArgs)).changes.length > 0);
      assert.equal((await check(m as typeof ec2Vpc, ctx, a as typeof vpcArgs)).changes, [], `${m.name} converged`);
    }
    const { RouteTables = [] } = await acct.ec2.describeRouteTables({ Filters: [{ Name: 'tag:Name', Values: ['redis-public-rt'] }] });
    assert.is(RouteTables[0].Associations?.length, 3);
    assert.ok(RouteTables[0].Routes?.some((r) => r.DestinationCidrBlock === '0.0.0.0/0' && r.GatewayId?.startsWith('igw-') && r.State === 'active'));
    const { Subnets = [] } = await acct.ec2.describeSubnets({});
    assert.equal(Subnets.map((s) => `${s.CidrBlock} ${s.AvailabilityZone} ${s.MapPublicIpOnLaunch}`).sort(), ['10.0.1.0/24 us-east-1a true', '10.0.2.0/24 us-east-1b true', '10.0.3.0/24 us-east-1c true']);
  } finally {
    await acct.close();
  }
});

test('against EC2: a subnet whose VPC still does not exist fails the run with what to do', async () => {
  const acct = await testAccount();
  try {
    try {
      await converge(ec2Subnet, acct.ctx(), subnetArgs);
      assert.unreachable();
    } catch (e) {
      assert.instance(e, NotYetThere);
      assert.is((e as Error).message, 'ec2_subnet: VPC redis-vpc (project redis-lab) does not exist: create it first (ec2_vpc)');
    }
  } finally {
    await acct.close();
  }
});

test('against EC2: EBS encryption by default turned on, then ok', async () => {
  const acct = await testAccount();
  try {
    const ctx = acct.ctx();
    assert.equal(descriptions(await converge(ec2EbsDefaultEncryption, ctx, {})), ['EnableEbsEncryptionByDefault in us-east-1']);
    assert.is((await acct.ec2.getEbsEncryptionByDefault({})).EbsEncryptionByDefault, true);
    assert.equal((await check(ec2EbsDefaultEncryption, ctx, {})).changes, []);
  } finally {
    await acct.close();
  }
});

test.run();
