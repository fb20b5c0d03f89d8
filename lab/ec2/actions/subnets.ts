// Subnets: a range inside their VPC's, not overlapping another subnet's, in one availability zone.
import type {
  CreateSubnetRequest,
  CreateSubnetResult,
  DeleteSubnetRequest,
  DescribeSubnetsRequest,
  DescribeSubnetsResult,
  ModifySubnetAttributeRequest,
  Subnet,
} from '@aws-sdk/client-ec2';
import type { SubnetRecord } from '../account.js';
import { zonesOf } from '../catalog.js';
import { cidrOrFail, contains, overlaps, parseCidr, size } from '../cidr.js';
import type { Ec2Context } from '../context.js';
import { Ec2Error } from '../ec2-error.js';
import { applyFilters } from '../filters.js';
import { newId } from '../ids.js';
import { noPagingWithIds, page } from '../paging.js';
import { find, findAll, required } from '../resources.js';
import { sdkTags, tagsFor } from '../tags.js';

function subnetView(ctx: Ec2Context, s: SubnetRecord): Subnet {
  const c = parseCidr(s.cidr);
  const used = Object.values(ctx.region.instances).filter((i) => i.subnetId === s.id && i.state !== 'terminated').length;
  return {
    SubnetId: s.id,
    VpcId: s.vpcId,
    CidrBlock: s.cidr,
    AvailabilityZone: s.az,
    AvailabilityZoneId: zonesOf(ctx.regionName).find((z) => z.name === s.az)?.id,
    State: 'available',
    AvailableIpAddressCount: (c === null ? 0 : size(c) - 5) - used,
    DefaultForAz: false,
    MapPublicIpOnLaunch: s.mapPublicIpOnLaunch,
    AssignIpv6AddressOnCreation: false,
    Ipv6CidrBlockAssociationSet: [],
    OwnerId: ctx.runtime.account.accountId,
    SubnetArn: `arn:aws:ec2:${ctx.regionName}:${ctx.runtime.account.accountId}:subnet/${s.id}`,
    Tags: sdkTags(s.tags),
  };
}

function zoneFor(ctx: Ec2Context, input: CreateSubnetRequest): string {
  const zones = zonesOf(ctx.regionName);
  if (input.AvailabilityZone === undefined && input.AvailabilityZoneId === undefined) return zones[0].name;
  const zone = zones.find((z) => z.name === input.AvailabilityZone || z.id === input.AvailabilityZoneId);
  if (zone === undefined) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value (${input.AvailabilityZone ?? input.AvailabilityZoneId}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: ${zones.map((z) => z.name).join(', ')}.`,
    );
  }
  return zone.name;
}

export function CreateSubnet(ctx: Ec2Context, input: CreateSubnetRequest): CreateSubnetResult {
  const vpc = find(ctx.region, 'vpcs', required(input.VpcId, 'VpcId'));
  const cidr = required(input.CidrBlock, 'CidrBlock');
  const c = cidrOrFail(cidr, 'cidrBlock');
  const vpcCidr = cidrOrFail(vpc.cidr, 'cidrBlock');
  if (!contains(vpcCidr, c) || c.prefix > 28) throw new Ec2Error('InvalidSubnet.Range', `The CIDR '${cidr}' is invalid.`);
  for (const other of Object.values(ctx.region.subnets)) {
    if (other.vpcId === vpc.id && overlaps(c, cidrOrFail(other.cidr, 'cidrBlock'))) {
      throw new Ec2Error('InvalidSubnet.Conflict', `The CIDR '${cidr}' conflicts with another subnet`);
    }
  }
  const subnet: SubnetRecord = { id: newId('subnet'), vpcId: vpc.id, cidr, az: zoneFor(ctx, input), mapPublicIpOnLaunch: false, tags: tagsFor(input.TagSpecifications, 'subnet') };
  ctx.region.subnets[subnet.id] = subnet;
  ctx.changed();
  return { Subnet: subnetView(ctx, subnet) };
}

export function DescribeSubnets(ctx: Ec2Context, input: DescribeSubnetsRequest): DescribeSubnetsResult {
  noPagingWithIds(input.SubnetIds, input.MaxResults, 'subnetIds');
  const records = input.SubnetIds?.length ? findAll(ctx.region, 'subnets', input.SubnetIds) : Object.values(ctx.region.subnets);
  const zoneId = (az: string): string | undefined => zonesOf(ctx.regionName).find((z) => z.name === az)?.id;
  const matching = applyFilters(records, input.Filters, {
    'subnet-id': (s) => [s.id],
    'vpc-id': (s) => [s.vpcId],
    'cidr-block': (s) => [s.cidr],
    cidr: (s) => [s.cidr],
    cidrBlock: (s) => [s.cidr],
    'availability-zone': (s) => [s.az],
    'availability-zone-id': (s) => [zoneId(s.az)],
    state: () => ['available'],
    'default-for-az': () => ['false'],
    'map-public-ip-on-launch': (s) => [String(s.mapPublicIpOnLaunch)],
    'owner-id': () => [ctx.runtime.account.accountId],
  });
  const p = page(matching, input.MaxResults, input.NextToken);
  return { Subnets: p.items.map((s) => subnetView(ctx, s)), NextToken: p.nextToken };
}

export function DeleteSubnet(ctx: Ec2Context, input: DeleteSubnetRequest): object {
  const subnet = find(ctx.region, 'subnets', required(input.SubnetId, 'SubnetId'));
  if (Object.values(ctx.region.instances).some((i) => i.subnetId === subnet.id && i.state !== 'terminated')) {
    throw new Ec2Error('DependencyViolation', `The subnet '${subnet.id}' has dependencies and cannot be deleted.`);
  }
  // Its route table associations go with it, as in EC2.
  for (const t of Object.values(ctx.region.routeTables)) t.associations = t.associations.filter((a) => a.subnetId !== subnet.id);
  delete ctx.region.subnets[subnet.id];
  ctx.changed();
  return {};
}

export function ModifySubnetAttribute(ctx: Ec2Context, input: ModifySubnetAttributeRequest): object {
  const subnet = find(ctx.region, 'subnets', required(input.SubnetId, 'SubnetId'));
  const map = input.MapPublicIpOnLaunch?.Value;
  if (map === undefined) throw new Ec2Error('InvalidParameterCombination', 'The emulator supports the MapPublicIpOnLaunch attribute only');
  subnet.mapPublicIpOnLaunch = map;
  ctx.changed();
  return {};
}
