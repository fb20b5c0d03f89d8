// VPC, subnets, internet gateway, route tables and security groups through the real SDK over HTTP.
import {
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateInternetGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteInternetGatewayCommand,
  DeleteRouteTableCommand,
  DeleteSecurityGroupCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  DetachInternetGatewayCommand,
  DisassociateRouteTableCommand,
  RevokeSecurityGroupIngressCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { failure, nameTag, testEc2, type TestEc2 } from './client.js';

let t: TestEc2;
let ec2: EC2Client;

test.before(async () => {
  t = await testEc2();
  ec2 = t.client();
});
test.after(async () => t.close());

test('the runbook network: VPC, three subnets, gateway, public route table, found again by tag filters', async () => {
  const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16', TagSpecifications: nameTag('vpc', 'redis-vpc', { project: 'redis-lab' }) }))).Vpc!;
  assert.match(vpc.VpcId!, /^vpc-[0-9a-f]{17}$/);
  assert.is(vpc.State, 'available');
  const subnets = [];
  for (const [cidr, az] of [['10.0.1.0/24', 'us-east-1a'], ['10.0.2.0/24', 'us-east-1b'], ['10.0.3.0/24', 'us-east-1c']]) {
    subnets.push((await ec2.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: cidr, AvailabilityZone: az, TagSpecifications: nameTag('subnet', `redis-subnet-${az.slice(-2)}`) }))).Subnet!);
  }
  assert.is(subnets[1].AvailableIpAddressCount, 251);
  const igw = (await ec2.send(new CreateInternetGatewayCommand({ TagSpecifications: nameTag('internet-gateway', 'redis-igw') }))).InternetGateway!;
  await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw.InternetGatewayId, VpcId: vpc.VpcId }));
  const rtb = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpc.VpcId, TagSpecifications: nameTag('route-table', 'redis-public-rt') }))).RouteTable!;
  await ec2.send(new CreateRouteCommand({ RouteTableId: rtb.RouteTableId, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw.InternetGatewayId }));
  for (const s of subnets) await ec2.send(new AssociateRouteTableCommand({ RouteTableId: rtb.RouteTableId, SubnetId: s.SubnetId }));

  const found = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag:Name', Values: ['redis-vpc'] }, { Name: 'tag:project', Values: ['redis-lab'] }] }));
  assert.equal(found.Vpcs!.map((v) => v.VpcId), [vpc.VpcId]);
  assert.equal((await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag:Name', Values: ['other'] }] }))).Vpcs, []);
  const inB = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }, { Name: 'availability-zone', Values: ['us-east-1b'] }] }));
  assert.equal(inB.Subnets!.map((s) => [s.CidrBlock, s.Tags]), [['10.0.2.0/24', [{ Key: 'Name', Value: 'redis-subnet-1b' }]]]);
  const wildcard = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'tag:Name', Values: ['redis-subnet-1?'] }] }));
  assert.is(wildcard.Subnets!.length, 3);

  const tables = (await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }] }))).RouteTables!;
  const main = tables.find((x) => x.Associations!.some((a) => a.Main))!;
  assert.equal(main.Routes!.map((r) => [r.DestinationCidrBlock, r.GatewayId]), [['10.0.0.0/16', 'local']], 'a VPC comes with its main route table');
  const pub = tables.find((x) => x.RouteTableId === rtb.RouteTableId)!;
  assert.equal(pub.Routes!.map((r) => [r.DestinationCidrBlock, r.GatewayId, r.State]), [['10.0.0.0/16', 'local', 'active'], ['0.0.0.0/0', igw.InternetGatewayId, 'active']]);
  assert.equal(pub.Associations!.map((a) => a.SubnetId).sort(), subnets.map((s) => s.SubnetId).sort());

  // Teardown in the wrong order fails as EC2 does; in reverse dependency order it succeeds.
  assert.is((await failure(ec2.send(new DeleteVpcCommand({ VpcId: vpc.VpcId })))).name, 'DependencyViolation');
  assert.is((await failure(ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: igw.InternetGatewayId })))).name, 'DependencyViolation');
  assert.is((await failure(ec2.send(new DeleteRouteTableCommand({ RouteTableId: rtb.RouteTableId })))).name, 'DependencyViolation');
  for (const a of pub.Associations!) await ec2.send(new DisassociateRouteTableCommand({ AssociationId: a.RouteTableAssociationId }));
  await ec2.send(new DeleteRouteTableCommand({ RouteTableId: rtb.RouteTableId }));
  for (const s of subnets) await ec2.send(new DeleteSubnetCommand({ SubnetId: s.SubnetId }));
  await ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: igw.InternetGatewayId, VpcId: vpc.VpcId }));
  await ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: igw.InternetGatewayId }));
  await ec2.send(new DeleteVpcCommand({ VpcId: vpc.VpcId }));
  assert.equal((await ec2.send(new DescribeVpcsCommand({}))).Vpcs, []);
  assert.equal((await ec2.send(new DescribeRouteTablesCommand({}))).RouteTables, [], 'the main route table goes with its VPC');
});

test('subnets must fit their VPC, not overlap, and be in one of the region zones', async () => {
  const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.1.0.0/16' }))).Vpc!;
  await ec2.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: '10.1.1.0/24', AvailabilityZone: 'us-east-1a' }));
  const outside = await failure(ec2.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: '10.2.1.0/24', AvailabilityZone: 'us-east-1a' })));
  assert.is(outside.name, 'InvalidSubnet.Range');
  const overlap = await failure(ec2.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: '10.1.1.128/25', AvailabilityZone: 'us-east-1b' })));
  assert.is(overlap.name, 'InvalidSubnet.Conflict');
  const zone = await failure(ec2.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: '10.1.9.0/24', AvailabilityZone: 'us-west-2a' })));
  assert.is(zone.name, 'InvalidParameterValue');
  assert.match(zone.message, /us-east-1a, us-east-1b, us-east-1c/);
  const missing = await failure(ec2.send(new CreateSubnetCommand({ VpcId: 'vpc-0000000000000000a', CidrBlock: '10.1.2.0/24' })));
  assert.is(missing.name, 'InvalidVpcID.NotFound');
  assert.is(missing.message, "The vpc ID 'vpc-0000000000000000a' does not exist");
  assert.is(missing.$metadata?.httpStatusCode, 400);
});

test('security group rules: the wanted set is added, duplicates refused, one rule revoked, the group described back', async () => {
  const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.3.0.0/16' }))).Vpc!;
  const sg = await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpc.VpcId, GroupName: 'redis-cluster-sg', Description: 'Redis cluster' }));
  assert.match(sg.GroupId!, /^sg-[0-9a-f]{17}$/);
  const added = await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: sg.GroupId,
      IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '203.0.113.7/32', Description: 'admin' }] },
        { IpProtocol: 'tcp', FromPort: 6379, ToPort: 6379, IpRanges: [{ CidrIp: '10.3.0.0/16' }] },
        { IpProtocol: 'tcp', FromPort: 16379, ToPort: 16379, IpRanges: [{ CidrIp: '10.3.0.0/16' }], UserIdGroupPairs: [{ GroupId: sg.GroupId }] },
      ],
    }),
  );
  assert.is(added.SecurityGroupRules!.length, 4);
  assert.ok(added.SecurityGroupRules!.every((r) => /^sgr-[0-9a-f]{17}$/.test(r.SecurityGroupRuleId!) && r.IsEgress === false));
  const dup = await failure(ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: sg.GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '203.0.113.7/32' }] }] })));
  assert.is(dup.name, 'InvalidPermission.Duplicate');
  // The drift case: an SSH rule opened to the world by hand, then taken back.
  await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: sg.GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
  const open = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'ip-permission.cidr', Values: ['0.0.0.0/0'] }, { Name: 'vpc-id', Values: [vpc.VpcId!] }] }));
  assert.equal(open.SecurityGroups!.map((g) => g.GroupName), ['redis-cluster-sg']);
  await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: sg.GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
  const gone = await failure(ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: sg.GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] })));
  assert.is(gone.name, 'InvalidPermission.NotFound');

  const [g] = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [sg.GroupId!] }))).SecurityGroups!;
  assert.equal(
    g.IpPermissions!.map((p) => [p.IpProtocol, p.FromPort, p.ToPort, p.IpRanges!.map((r) => r.CidrIp), p.UserIdGroupPairs!.map((u) => u.GroupId)]),
    [
      ['tcp', 22, 22, ['203.0.113.7/32'], []],
      ['tcp', 6379, 6379, ['10.3.0.0/16'], []],
      ['tcp', 16379, 16379, ['10.3.0.0/16'], [sg.GroupId]],
    ],
  );
  assert.is(g.IpPermissions![0].IpRanges![0].Description, 'admin');
  assert.equal(g.IpPermissionsEgress!.map((p) => [p.IpProtocol, p.IpRanges!.map((r) => r.CidrIp)]), [['-1', ['0.0.0.0/0']]], 'a new group may send anywhere');
  const dupName = await failure(ec2.send(new CreateSecurityGroupCommand({ VpcId: vpc.VpcId, GroupName: 'redis-cluster-sg', Description: 'again' })));
  assert.is(dupName.name, 'InvalidGroup.Duplicate');
  const defaults = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }, { Name: 'group-name', Values: ['default'] }] }));
  assert.is(defaults.SecurityGroups!.length, 1, 'a VPC comes with its default group');
  assert.is((await failure(ec2.send(new DeleteSecurityGroupCommand({ GroupId: defaults.SecurityGroups![0].GroupId })))).name, 'CannotDelete');
  await ec2.send(new DeleteSecurityGroupCommand({ GroupId: sg.GroupId }));
  assert.is((await failure(ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [sg.GroupId!] })))).name, 'InvalidGroup.NotFound');
});

test('an unknown filter name is an error, not an empty answer', async () => {
  const e = await failure(ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag-nmae', Values: ['x'] }] })));
  assert.is(e.name, 'InvalidParameterValue');
  assert.is(e.message, "The filter 'tag-nmae' is invalid");
});

test.run();
