// Internet gateways: created detached, attached to at most one VPC, deleted only when detached.
import type {
  AttachInternetGatewayRequest,
  AttachmentStatus,
  CreateInternetGatewayRequest,
  CreateInternetGatewayResult,
  DeleteInternetGatewayRequest,
  DescribeInternetGatewaysRequest,
  DescribeInternetGatewaysResult,
  DetachInternetGatewayRequest,
  InternetGateway,
} from '@aws-sdk/client-ec2';
import type { InternetGatewayRecord } from '../account.js';
import type { Ec2Context } from '../context.js';
import { Ec2Error } from '../ec2-error.js';
import { applyFilters } from '../filters.js';
import { newId } from '../ids.js';
import { noPagingWithIds, page } from '../paging.js';
import { find, findAll, required } from '../resources.js';
import { sdkTags, tagsFor } from '../tags.js';

function gatewayView(ctx: Ec2Context, g: InternetGatewayRecord): InternetGateway {
  return {
    InternetGatewayId: g.id,
    OwnerId: ctx.runtime.account.accountId,
    // EC2 reports an attached gateway as 'available', a value the SDK's enum type does not list.
    Attachments: g.vpcId === null ? [] : [{ VpcId: g.vpcId, State: 'available' as AttachmentStatus }],
    Tags: sdkTags(g.tags),
  };
}

export function CreateInternetGateway(ctx: Ec2Context, input: CreateInternetGatewayRequest): CreateInternetGatewayResult {
  const g: InternetGatewayRecord = { id: newId('igw'), vpcId: null, tags: tagsFor(input.TagSpecifications, 'internet-gateway') };
  ctx.region.internetGateways[g.id] = g;
  ctx.changed();
  return { InternetGateway: gatewayView(ctx, g) };
}

export function AttachInternetGateway(ctx: Ec2Context, input: AttachInternetGatewayRequest): object {
  const g = find(ctx.region, 'internetGateways', required(input.InternetGatewayId, 'InternetGatewayId'));
  const vpc = find(ctx.region, 'vpcs', required(input.VpcId, 'VpcId'));
  if (g.vpcId !== null) throw new Ec2Error('Resource.AlreadyAssociated', `resource ${g.id} is already attached to network ${g.vpcId}`);
  const other = Object.values(ctx.region.internetGateways).find((x) => x.vpcId === vpc.id);
  if (other !== undefined) throw new Ec2Error('InvalidParameterValue', `Network ${vpc.id} already has an internet gateway attached`);
  g.vpcId = vpc.id;
  ctx.changed();
  return {};
}

export function DetachInternetGateway(ctx: Ec2Context, input: DetachInternetGatewayRequest): object {
  const g = find(ctx.region, 'internetGateways', required(input.InternetGatewayId, 'InternetGatewayId'));
  const vpcId = required(input.VpcId, 'VpcId');
  if (g.vpcId !== vpcId) throw new Ec2Error('Gateway.NotAttached', `resource ${g.id} is not attached to network ${vpcId}`);
  g.vpcId = null;
  ctx.changed();
  return {};
}

export function DeleteInternetGateway(ctx: Ec2Context, input: DeleteInternetGatewayRequest): object {
  const g = find(ctx.region, 'internetGateways', required(input.InternetGatewayId, 'InternetGatewayId'));
  if (g.vpcId !== null) throw new Ec2Error('DependencyViolation', `The internetGateway '${g.id}' has dependencies and cannot be deleted.`);
  delete ctx.region.internetGateways[g.id];
  ctx.changed();
  return {};
}

export function DescribeInternetGateways(ctx: Ec2Context, input: DescribeInternetGatewaysRequest): DescribeInternetGatewaysResult {
  noPagingWithIds(input.InternetGatewayIds, input.MaxResults, 'internetGatewayIds');
  const ids = input.InternetGatewayIds;
  const records = ids?.length ? findAll(ctx.region, 'internetGateways', ids) : Object.values(ctx.region.internetGateways);
  const matching = applyFilters(records, input.Filters, {
    'internet-gateway-id': (g) => [g.id],
    'attachment.vpc-id': (g) => [g.vpcId],
    'attachment.state': (g) => [g.vpcId === null ? null : 'available'],
    'owner-id': () => [ctx.runtime.account.accountId],
  });
  const p = page(matching, input.MaxResults, input.NextToken);
  return { InternetGateways: p.items.map((g) => gatewayView(ctx, g)), NextToken: p.nextToken };
}
