// The network modules: plans and their operations from given Describe results (pure), and runs
// against the emulator over HTTP through the engine's core (operations encoded and decoded), with
// check runs that call nothing but Describe.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { held, type Ec2Op } from '../../../modules/aws/ec2-operation.js';
import { ec2InternetGateway } from '../../../modules/ec2-internet-gateway.js';
import { ec2RouteTable, type RouteTableActual } from '../../../modules/ec2-route-table.js';
import { ec2Subnet } from '../../../modules/ec2-subnet.js';
import { ec2Vpc } from '../../../modules/ec2-vpc.js';
import { ec2EbsDefaultEncryption } from '../../../modules/ec2-ebs-default-encryption.js';
import { ec2VolInfo } from '../../../modules/ec2-vol-info.js';
import { decodeOperations, encodeOperations } from '../../../runner/execution/operations.js';
import { NotYetThere, type Plan } from '../../../runner/types.js';
import { apply, changedThenNot, checkPlan } from '../../support/converge.js';
import { descriptions, testAccount } from './support.js';

const aws = held({ region: 'us-east-1', accessKey: 'AKIDTEST', secretKey: 'the-real-secret' });
const tags = { Name: 'redis-vpc', project: 'redis-lab' };
const vpcArgs = { name: 'redis-vpc', project: 'redis-lab', cidr: '10.0.0.0/16' };

/** Each change's EC2 steps, as "Action {params}" (waits by their kind). */
const calls = (p: Plan): string[] =>
  p.changes.flatMap((c) => (c.op as Ec2Op).steps.map((s) => (s.do === 'call' ? `${s.action} ${JSON.stringify(s.params)}` : s.do)));

test('VPC: none → only CreateVpc with its tags, then a re-plan; the line says what the next round does', () => {
  const p = ec2Vpc.plan(vpcArgs, { aws, vpc: null });
  assert.equal(descriptions(p), ['CreateVpc 10.0.0.0/16 tags Name=redis-vpc,project=redis-lab (then ModifyVpcAttribute EnableDnsHostnames=true)']);
  assert.is(p.replan, true);
  assert.equal(calls(p), ['CreateVpc {"CidrBlock":"10.0.0.0/16","TagSpecifications":[{"ResourceType":"vpc","Tags":[{"Key":"Name","Value":"redis-vpc"},{"Key":"project","Value":"redis-lab"}]}]}']);
  // The operation holds the real credentials (EC2 gets them); the gathered state only a Secret.
  const op = p.changes[0]!.op as Ec2Op;
  assert.is(op.aws.secretKey, 'the-real-secret');
  assert.not.match(JSON.stringify(aws), 'the-real-secret');
});

test('VPC: as wanted → ok; hostnames off and a tag missing → the two calls that fix them, on that VPC', () => {
  const vpc = { id: 'vpc-1', cidr: '10.0.0.0/16', tags, dnsSupport: true, dnsHostnames: true };
  assert.equal(ec2Vpc.plan(vpcArgs, { aws, vpc }).changes, []);
  const p = ec2Vpc.plan(vpcArgs, { aws, vpc: { ...vpc, dnsHostnames: false, tags: { Name: 'redis-vpc', owner: 'ops' } } });
  assert.equal(descriptions(p), ['ModifyVpcAttribute EnableDnsHostnames=true', 'CreateTags vpc-1 project=redis-lab']);
  assert.equal(calls(p), ['ModifyVpcAttribute {"VpcId":"vpc-1","EnableDnsHostnames":{"Value":true}}', 'CreateTags {"Resources":["vpc-1"],"Tags":[{"Key":"project","Value":"redis-lab"}]}']);
  assert.not.ok(p.replan, 'nothing in it decides what comes next');
});

test('VPC: another CIDR is an error (a VPC cannot change range), not a silent second VPC', () => {
  assert.throws(
    () => ec2Vpc.plan(vpcArgs, { aws, vpc: { id: 'vpc-1', cidr: '10.9.0.0/16', tags, dnsSupport: true, dnsHostnames: true } }),
    /VPC redis-vpc \(vpc-1\) has CIDR 10\.9\.0\.0\/16, not 10\.0\.0\.0\/16: a VPC's CIDR cannot change/,
  );
});

const subnetArgs = { name: 'redis-subnet-1a', project: 'redis-lab', vpc: 'redis-vpc', cidr: '10.0.1.0/24', az: 'us-east-1a' };

test('subnet: none → CreateSubnet in the VPC gathered, public addressing in the next round', () => {
  const p = ec2Subnet.plan(subnetArgs, { aws, vpcId: 'vpc-1', subnet: null });
  assert.equal(descriptions(p), ['CreateSubnet 10.0.1.0/24 in us-east-1a in VPC vpc-1 tags Name=redis-subnet-1a,project=redis-lab (then ModifySubnetAttribute MapPublicIpOnLaunch=true)']);
  assert.match(calls(p)[0]!, /^CreateSubnet \{"VpcId":"vpc-1","CidrBlock":"10\.0\.1\.0\/24","AvailabilityZone":"us-east-1a",/);
  assert.is(p.replan, true);
});

test('subnet: public addressing turned off by hand → turned back on; another zone is an error', () => {
  const subnet = { id: 'subnet-1', cidr: '10.0.1.0/24', az: 'us-east-1a', mapPublicIp: false, tags: { Name: 'redis-subnet-1a', project: 'redis-lab' } };
  const p = ec2Subnet.plan(subnetArgs, { aws, vpcId: 'vpc-1', subnet });
  assert.equal(calls(p), ['ModifySubnetAttribute {"SubnetId":"subnet-1","MapPublicIpOnLaunch":{"Value":true}}']);
  assert.throws(() => ec2Subnet.plan({ ...subnetArgs, az: 'us-east-1b' }, { aws, vpcId: 'vpc-1', subnet }), /a subnet's range and zone cannot change/);
});

test('internet gateway: detached → attached to the VPC; attached to another VPC → an error, not a move', () => {
  const a = { name: 'redis-igw', project: 'redis-lab', vpc: 'redis-vpc' };
  const gateway = { id: 'igw-1', attachedTo: null, tags: { Name: 'redis-igw', project: 'redis-lab' } };
  const p = ec2InternetGateway.plan(a, { aws, vpcId: 'vpc-1', gateway });
  assert.equal(descriptions(p), ['AttachInternetGateway to VPC vpc-1']);
  assert.equal(calls(p), ['AttachInternetGateway {"InternetGatewayId":"igw-1","VpcId":"vpc-1"}']);
  assert.equal(ec2InternetGateway.plan(a, { aws, vpcId: 'vpc-1', gateway: { ...gateway, attachedTo: 'vpc-1' } }).changes, []);
  assert.throws(() => ec2InternetGateway.plan(a, { aws, vpcId: 'vpc-1', gateway: { ...gateway, attachedTo: 'vpc-9' } }), /attached to vpc-9, not to VPC redis-vpc \(project redis-lab\) \(vpc-1\)/);
});

const rtArgs = { name: 'redis-public-rt', project: 'redis-lab', vpc: 'redis-vpc', routes: [{ dest: '0.0.0.0/0', gateway: 'redis-igw' }], subnets: ['s-a', 's-b'] };

test('route table: exact routes and subnets — a stray route deleted, a subnet moved from another table, one disassociated', () => {
  const actual: RouteTableActual = {
    aws,
    vpcId: 'vpc-1',
    table: { id: 'rtb-1', routes: { '0.0.0.0/0': 'igw-1', '192.0.2.0/24': 'igw-1' }, associations: { 'subnet-a': 'assoc-a', 'subnet-x': 'assoc-x' }, tags: { Name: 'redis-public-rt', project: 'redis-lab' } },
    gateways: { 'redis-igw': 'igw-1' },
    subnets: { 's-a': { id: 'subnet-a', association: { id: 'assoc-a', tableId: 'rtb-1' } }, 's-b': { id: 'subnet-b', association: { id: 'assoc-b', tableId: 'rtb-main' } } },
  };
  const p = ec2RouteTable.plan(rtArgs, actual);
  assert.equal(descriptions(p), [
    'DeleteRoute 192.0.2.0/24 → igw-1 (not a wanted route)',
    'DisassociateRouteTable subnet-x (not a wanted subnet)',
    'DisassociateRouteTable subnet-b from rtb-main',
    'AssociateRouteTable subnet-b',
  ]);
  assert.equal(calls(p), [
    'DeleteRoute {"RouteTableId":"rtb-1","DestinationCidrBlock":"192.0.2.0/24"}',
    'DisassociateRouteTable {"AssociationId":"assoc-x"}',
    'DisassociateRouteTable {"AssociationId":"assoc-b"}',
    'AssociateRouteTable {"RouteTableId":"rtb-1","SubnetId":"subnet-b"}',
  ]);
  // A gateway that is not there is refused, never a route to '' (gather reports it as not there yet).
  assert.throws(() => ec2RouteTable.plan(rtArgs, { ...actual, gateways: { 'redis-igw': null } }), /internet gateway redis-igw \(project redis-lab\) does not exist: create it first \(ec2_internet_gateway\)/);
});

test('route table: none → CreateRouteTable; its routes and subnets in the next round', () => {
  const p = ec2RouteTable.plan(rtArgs, {
    aws,
    vpcId: 'vpc-1',
    table: null,
    gateways: { 'redis-igw': 'igw-1' },
    subnets: { 's-a': { id: 'subnet-a', association: null }, 's-b': { id: 'subnet-b', association: null } },
  });
  assert.equal(descriptions(p), [
    'CreateRouteTable in VPC vpc-1 tags Name=redis-public-rt,project=redis-lab (then CreateRoute 0.0.0.0/0 → igw-1; AssociateRouteTable subnet-a; AssociateRouteTable subnet-b)',
  ]);
  assert.equal(calls(p).length, 1);
});

test('against EC2: a check run on an empty account plans everything and creates nothing; each module changed, then not', async () => {
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
      ...descriptions(await checkPlan(ec2Vpc, ctx, vpcArgs)),
      ...(await pending(ec2Subnet, subnets[0]!)),
      ...(await pending(ec2InternetGateway, igw)),
      ...(await pending(ec2RouteTable, rt)),
    ];
    assert.ok(planned.includes('CreateVpc 10.0.0.0/16 tags Name=redis-vpc,project=redis-lab (then ModifyVpcAttribute EnableDnsHostnames=true)'), planned.join('\n'));
    assert.ok(planned.includes('CreateSubnet 10.0.1.0/24 in us-east-1a in VPC redis-vpc (not created yet) tags Name=redis-subnet-1a,project=redis-lab'), planned.join('\n'));
    assert.ok(planned.includes('ModifySubnetAttribute MapPublicIpOnLaunch=true'), planned.join('\n'));
    assert.ok(planned.includes('AttachInternetGateway to VPC redis-vpc (not created yet)'), planned.join('\n'));
    assert.ok(planned.includes('AssociateRouteTable redis-subnet-1c (not created yet)'), planned.join('\n'));
    assert.equal((await acct.ec2.describeVpcs({})).Vpcs, []);
    assert.equal((await acct.ec2.describeInternetGateways({})).InternetGateways, []);

    // Created with its tags in round one; DNS hostnames in round two (after a re-plan saw the new VPC).
    const vpc = await changedThenNot(ec2Vpc, ctx, vpcArgs);
    const { Vpcs = [] } = await acct.ec2.describeVpcs({});
    const vpcId = Vpcs[0]!.VpcId!;
    assert.equal(descriptions({ changes: vpc.applied }), [
      'CreateVpc 10.0.0.0/16 tags Name=redis-vpc,project=redis-lab (then ModifyVpcAttribute EnableDnsHostnames=true)',
      'ModifyVpcAttribute EnableDnsHostnames=true',
    ]);
    assert.equal(vpc.result?.result, { vpc_id: vpcId });
    assert.is((await acct.ec2.describeVpcAttribute({ VpcId: vpcId, Attribute: 'enableDnsHostnames' })).EnableDnsHostnames?.Value, true);

    for (const s of subnets) assert.is((await changedThenNot(ec2Subnet, ctx, s)).applied.length, 2, s.name);
    const gateway = await changedThenNot(ec2InternetGateway, ctx, igw);
    assert.equal(descriptions({ changes: gateway.applied }), [`CreateInternetGateway tags Name=redis-igw,project=redis-lab (then AttachInternetGateway to VPC ${vpcId})`, `AttachInternetGateway to VPC ${vpcId}`]);
    const table = await changedThenNot(ec2RouteTable, ctx, rt);
    assert.is(table.applied.length, 5, descriptions({ changes: table.applied }).join('\n'));

    const { RouteTables = [] } = await acct.ec2.describeRouteTables({ Filters: [{ Name: 'tag:Name', Values: ['redis-public-rt'] }] });
    assert.is(RouteTables[0]!.Associations?.length, 3);
    assert.equal(table.result?.result, { route_table_id: RouteTables[0]!.RouteTableId });
    assert.ok(RouteTables[0]!.Routes?.some((r) => r.DestinationCidrBlock === '0.0.0.0/0' && r.GatewayId === gateway.result?.result?.internet_gateway_id && r.State === 'active'));
    const { Subnets = [] } = await acct.ec2.describeSubnets({});
    assert.equal(Subnets.map((s) => `${s.CidrBlock} ${s.AvailabilityZone} ${s.MapPublicIpOnLaunch}`).sort(), ['10.0.1.0/24 us-east-1a true', '10.0.2.0/24 us-east-1b true', '10.0.3.0/24 us-east-1c true']);
  } finally {
    await acct.close();
  }
});

test('against EC2: a tag removed by hand is put back by one CreateTags of just that tag; a tag someone added stays', async () => {
  const acct = await testAccount();
  try {
    const ctx = acct.ctx();
    await apply(ec2Vpc, ctx, { ...vpcArgs, tags: { team: 'db' } });
    const vpcId = (await acct.ec2.describeVpcs({})).Vpcs![0]!.VpcId!;
    await acct.ec2.deleteTags({ Resources: [vpcId], Tags: [{ Key: 'team' }] });
    await acct.ec2.createTags({ Resources: [vpcId], Tags: [{ Key: 'owner', Value: 'ops' }] });
    const run = await changedThenNot(ec2Vpc, ctx, { ...vpcArgs, tags: { team: 'db' } });
    assert.equal(calls(run.planned), [`CreateTags {"Resources":["${vpcId}"],"Tags":[{"Key":"team","Value":"db"}]}`]);
    const { Tags = [] } = (await acct.ec2.describeVpcs({ VpcIds: [vpcId] })).Vpcs![0]!;
    assert.equal(Object.fromEntries(Tags.map((t) => [t.Key, t.Value])), { Name: 'redis-vpc', project: 'redis-lab', team: 'db', owner: 'ops' });
  } finally {
    await acct.close();
  }
});

test('against EC2: apply runs the operations as decoded, not the args: an edited plan\'s CIDR is what EC2 gets', async () => {
  const acct = await testAccount();
  try {
    const ctx = acct.ctx();
    const plan = ec2Vpc.plan(vpcArgs, await ec2Vpc.gather(ctx, vpcArgs));
    const text = encodeOperations(plan.changes.map((c) => c.op!)).replace('10.0.0.0/16', '10.7.0.0/16');
    await ec2Vpc.apply!(ctx, decodeOperations(text) as Ec2Op[]);
    assert.equal((await acct.ec2.describeVpcs({})).Vpcs?.map((v) => v.CidrBlock), ['10.7.0.0/16']);
    // The args still say 10.0.0.0/16: the next plan refuses rather than make a second VPC.
    await checkPlan(ec2Vpc, ctx, vpcArgs).then(
      () => assert.unreachable(),
      (e: Error) => assert.match(e.message, /has CIDR 10\.7\.0\.0\/16, not 10\.0\.0\.0\/16/),
    );
  } finally {
    await acct.close();
  }
});

test('against EC2: two VPCs with the one identity are an error naming both, and no third is made', async () => {
  const acct = await testAccount();
  try {
    const TagSpecifications = [{ ResourceType: 'vpc' as const, Tags: [{ Key: 'Name', Value: 'redis-vpc' }, { Key: 'project', Value: 'redis-lab' }] }];
    const ids: string[] = [];
    for (const CidrBlock of ['10.0.0.0/16', '10.1.0.0/16']) ids.push((await acct.ec2.createVpc({ CidrBlock, TagSpecifications })).Vpc!.VpcId!);
    await apply(ec2Vpc, acct.ctx(), vpcArgs).then(
      () => assert.unreachable(),
      (e: Error) => assert.is(e.message, `2 VPCs are named redis-vpc (project redis-lab): ${ids.join(', ')}. Delete or rename the extra one(s), then run again`),
    );
    assert.is((await acct.ec2.describeVpcs({})).Vpcs?.length, 2);
  } finally {
    await acct.close();
  }
});

test('against EC2: a subnet whose VPC still does not exist fails the run with what to do, and calls nothing', async () => {
  const acct = await testAccount();
  try {
    await apply(ec2Subnet, acct.ctx(), subnetArgs).then(
      () => assert.unreachable(),
      (e: Error) => {
        assert.instance(e, NotYetThere);
        assert.is(e.message, 'ec2_subnet: VPC redis-vpc (project redis-lab) does not exist: create it first (ec2_vpc)');
      },
    );
    assert.equal((await acct.ec2.describeSubnets({})).Subnets, []);
  } finally {
    await acct.close();
  }
});

test('EBS encryption by default: the call and the result it leaves, from given facts; on against EC2, then ok; off again', async () => {
  const p = ec2EbsDefaultEncryption.plan({}, { aws, region: 'us-east-1', enabled: false });
  assert.equal(calls(p), ['EnableEbsEncryptionByDefault {}']);
  assert.equal(ec2EbsDefaultEncryption.plan({}, { aws, region: 'us-east-1', enabled: true }).changes, []);
  const acct = await testAccount();
  try {
    const ctx = acct.ctx();
    const on = await changedThenNot(ec2EbsDefaultEncryption, ctx, {});
    assert.equal(descriptions(on.planned), ['EnableEbsEncryptionByDefault in us-east-1']);
    assert.equal(on.result?.result, { ebs_encryption_by_default: true });
    assert.is((await acct.ec2.getEbsEncryptionByDefault({})).EbsEncryptionByDefault, true);
    const off = await changedThenNot(ec2EbsDefaultEncryption, ctx, { enabled: false });
    assert.equal(off.result?.result, { ebs_encryption_by_default: false });
    assert.is((await acct.ec2.getEbsEncryptionByDefault({})).EbsEncryptionByDefault, false);
  } finally {
    await acct.close();
  }
});

test('ec2_vol_info: reads, never changes: no changes, the volumes in its result, filters applied', async () => {
  const acct = await testAccount();
  try {
    const ctx = acct.ctx();
    const { VolumeId } = await acct.ec2.createVolume({ AvailabilityZone: 'us-east-1a', Size: 8, TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'Name', Value: 'data' }] }] });
    await acct.ec2.createVolume({ AvailabilityZone: 'us-east-1a', Size: 9 });
    const p = await checkPlan(ec2VolInfo, ctx, { filters: { 'tag:Name': 'data' } });
    assert.equal(p.changes, []);
    const volumes = p.result?.volumes as { id: string; size: number; tags: object }[];
    assert.equal(volumes.map((v) => [v.id, v.size, v.tags]), [[VolumeId, 8, { Name: 'data' }]]);
    assert.equal((await apply(ec2VolInfo, ctx, {})).applied, []);
  } finally {
    await acct.close();
  }
});

test.run();
