// VPCs. A new VPC comes with its main route table (the local route) and its default security group,
// as in EC2; deleting it removes those and fails while anything else still lives in it.
import type {
  CreateVpcRequest,
  CreateVpcResult,
  DeleteVpcRequest,
  DescribeVpcAttributeRequest,
  DescribeVpcAttributeResult,
  DescribeVpcsRequest,
  DescribeVpcsResult,
  ModifyVpcAttributeRequest,
  Vpc,
} from '@aws-sdk/client-ec2';
import type { VpcRecord } from '../account.js';
import { cidrOrFail } from '../cidr.js';
import type { Ec2Context } from '../context.js';
import { Ec2Error } from '../ec2-error.js';
import { applyFilters } from '../filters.js';
import { newId, stableId } from '../ids.js';
import { page, noPagingWithIds } from '../paging.js';
import { find, findAll, required } from '../resources.js';
import { sdkTags, tagsFor } from '../tags.js';
import { defaultSecurityGroup } from './security-groups.js';

function vpcView(ctx: Ec2Context, v: VpcRecord): Vpc {
  return {
    VpcId: v.id,
    CidrBlock: v.cidr,
    State: 'available',
    DhcpOptionsId: v.dhcpOptionsId,
    InstanceTenancy: 'default',
    IsDefault: false,
    OwnerId: ctx.runtime.account.accountId,
    CidrBlockAssociationSet: [{ AssociationId: `vpc-cidr-assoc-${v.id.slice(4)}`, CidrBlock: v.cidr, CidrBlockState: { State: 'associated' } }],
    Tags: sdkTags(v.tags),
  };
}

export function CreateVpc(ctx: Ec2Context, input: CreateVpcRequest): CreateVpcResult {
  const cidr = required(input.CidrBlock, 'CidrBlock');
  const c = cidrOrFail(cidr, 'cidrBlock');
  if (c.prefix < 16 || c.prefix > 28) throw new Ec2Error('InvalidVpc.Range', `The CIDR '${cidr}' is invalid.`);
  const vpc: VpcRecord = {
    id: newId('vpc'),
    cidr,
    dhcpOptionsId: stableId('dopt', ctx.regionName),
    enableDnsSupport: true,
    enableDnsHostnames: false,
    tags: tagsFor(input.TagSpecifications, 'vpc'),
  };
  ctx.region.vpcs[vpc.id] = vpc;
  const main = newId('rtb');
  ctx.region.routeTables[main] = {
    id: main,
    vpcId: vpc.id,
    routes: [{ destination: cidr, gatewayId: 'local', origin: 'CreateRouteTable' }],
    associations: [{ id: newId('rtbassoc'), subnetId: null, main: true }],
    tags: [],
  };
  const sg = defaultSecurityGroup(vpc.id);
  ctx.region.securityGroups[sg.id] = sg;
  ctx.changed();
  return { Vpc: vpcView(ctx, vpc) };
}

export function DescribeVpcs(ctx: Ec2Context, input: DescribeVpcsRequest): DescribeVpcsResult {
  noPagingWithIds(input.VpcIds, input.MaxResults, 'vpcIds');
  const records = input.VpcIds?.length ? findAll(ctx.region, 'vpcs', input.VpcIds) : Object.values(ctx.region.vpcs);
  const matching = applyFilters(records, input.Filters, {
    'vpc-id': (v) => [v.id],
    cidr: (v) => [v.cidr],
    'cidr-block-association.cidr-block': (v) => [v.cidr],
    'cidr-block-association.state': () => ['associated'],
    state: () => ['available'],
    'is-default': () => ['false'],
    'owner-id': () => [ctx.runtime.account.accountId],
    'dhcp-options-id': (v) => [v.dhcpOptionsId],
  });
  const p = page(matching, input.MaxResults, input.NextToken);
  return { Vpcs: p.items.map((v) => vpcView(ctx, v)), NextToken: p.nextToken };
}

export function DeleteVpc(ctx: Ec2Context, input: DeleteVpcRequest): object {
  const vpc = find(ctx.region, 'vpcs', required(input.VpcId, 'VpcId'));
  const r = ctx.region;
  const inUse =
    Object.values(r.subnets).some((s) => s.vpcId === vpc.id) ||
    Object.values(r.internetGateways).some((g) => g.vpcId === vpc.id) ||
    Object.values(r.routeTables).some((t) => t.vpcId === vpc.id && !t.associations.some((a) => a.main)) ||
    Object.values(r.securityGroups).some((g) => g.vpcId === vpc.id && g.name !== 'default');
  if (inUse) throw new Ec2Error('DependencyViolation', `The vpc '${vpc.id}' has dependencies and cannot be deleted.`);
  for (const t of Object.values(r.routeTables)) if (t.vpcId === vpc.id) delete r.routeTables[t.id];
  for (const g of Object.values(r.securityGroups)) if (g.vpcId === vpc.id) delete r.securityGroups[g.id];
  delete r.vpcs[vpc.id];
  ctx.changed();
  return { Return: true };
}

export function ModifyVpcAttribute(ctx: Ec2Context, input: ModifyVpcAttributeRequest): object {
  const vpc = find(ctx.region, 'vpcs', required(input.VpcId, 'VpcId'));
  const support = input.EnableDnsSupport?.Value;
  const hostnames = input.EnableDnsHostnames?.Value;
  if ((support === undefined) === (hostnames === undefined)) {
    throw new Ec2Error('InvalidParameterCombination', 'Exactly one of EnableDnsSupport and EnableDnsHostnames must be given');
  }
  if (support !== undefined) vpc.enableDnsSupport = support;
  if (hostnames !== undefined) vpc.enableDnsHostnames = hostnames;
  ctx.changed();
  return {};
}

export function DescribeVpcAttribute(ctx: Ec2Context, input: DescribeVpcAttributeRequest): DescribeVpcAttributeResult {
  const vpc = find(ctx.region, 'vpcs', required(input.VpcId, 'VpcId'));
  switch (required(input.Attribute, 'Attribute')) {
    case 'enableDnsSupport':
      return { VpcId: vpc.id, EnableDnsSupport: { Value: vpc.enableDnsSupport } };
    case 'enableDnsHostnames':
      return { VpcId: vpc.id, EnableDnsHostnames: { Value: vpc.enableDnsHostnames } };
    default:
      throw new Ec2Error('InvalidParameterValue', `Value (${input.Attribute}) for parameter attribute is invalid.`);
  }
}
