// Route tables: the local route every table has, routes to internet gateways, subnet associations
// (a subnet has at most one explicit table; without one it uses its VPC's main table).
import type {
  AssociateRouteTableRequest,
  AssociateRouteTableResult,
  CreateRouteRequest,
  CreateRouteResult,
  CreateRouteTableRequest,
  CreateRouteTableResult,
  DeleteRouteRequest,
  DeleteRouteTableRequest,
  DescribeRouteTablesRequest,
  DescribeRouteTablesResult,
  DisassociateRouteTableRequest,
  RouteTable,
} from '@aws-sdk/client-ec2';
import type { RouteTableRecord } from '../account.js';
import { cidrOrFail } from '../cidr.js';
import type { Ec2Context } from '../context.js';
import { Ec2Error } from '../ec2-error.js';
import { applyFilters } from '../filters.js';
import { newId } from '../ids.js';
import { noPagingWithIds, page } from '../paging.js';
import { find, findAll, required } from '../resources.js';
import { sdkTags, tagsFor } from '../tags.js';

function tableView(ctx: Ec2Context, t: RouteTableRecord): RouteTable {
  return {
    RouteTableId: t.id,
    VpcId: t.vpcId,
    OwnerId: ctx.runtime.account.accountId,
    Routes: t.routes.map((r) => ({
      DestinationCidrBlock: r.destination,
      GatewayId: r.gatewayId,
      Origin: r.origin,
      // A route to a gateway that was detached or deleted goes nowhere, as EC2 reports it.
      State: r.gatewayId === 'local' || ctx.region.internetGateways[r.gatewayId]?.vpcId === t.vpcId ? 'active' : 'blackhole',
    })),
    Associations: t.associations.map((a) => ({
      RouteTableAssociationId: a.id,
      RouteTableId: t.id,
      SubnetId: a.subnetId ?? undefined,
      Main: a.main,
      AssociationState: { State: 'associated' },
    })),
    PropagatingVgws: [],
    Tags: sdkTags(t.tags),
  };
}

export function CreateRouteTable(ctx: Ec2Context, input: CreateRouteTableRequest): CreateRouteTableResult {
  const vpc = find(ctx.region, 'vpcs', required(input.VpcId, 'VpcId'));
  const t: RouteTableRecord = {
    id: newId('rtb'),
    vpcId: vpc.id,
    routes: [{ destination: vpc.cidr, gatewayId: 'local', origin: 'CreateRouteTable' }],
    associations: [],
    tags: tagsFor(input.TagSpecifications, 'route-table'),
  };
  ctx.region.routeTables[t.id] = t;
  ctx.changed();
  return { RouteTable: tableView(ctx, t) };
}

export function CreateRoute(ctx: Ec2Context, input: CreateRouteRequest): CreateRouteResult {
  const t = find(ctx.region, 'routeTables', required(input.RouteTableId, 'RouteTableId'));
  const destination = required(input.DestinationCidrBlock, 'DestinationCidrBlock');
  cidrOrFail(destination, 'destinationCidrBlock');
  const gatewayId = required(input.GatewayId, 'GatewayId');
  const g = find(ctx.region, 'internetGateways', gatewayId);
  if (g.vpcId !== t.vpcId) throw new Ec2Error('InvalidParameterValue', `route table ${t.id} and network gateway ${g.id} belong to different networks`);
  if (t.routes.some((r) => r.destination === destination)) {
    throw new Ec2Error('RouteAlreadyExists', `The route identified by ${destination} already exists.`);
  }
  t.routes.push({ destination, gatewayId, origin: 'CreateRoute' });
  ctx.changed();
  return { Return: true };
}

export function DeleteRoute(ctx: Ec2Context, input: DeleteRouteRequest): object {
  const t = find(ctx.region, 'routeTables', required(input.RouteTableId, 'RouteTableId'));
  const destination = required(input.DestinationCidrBlock, 'DestinationCidrBlock');
  const route = t.routes.find((r) => r.destination === destination);
  if (route === undefined || route.gatewayId === 'local') {
    throw new Ec2Error('InvalidRoute.NotFound', `no route with destination-cidr-block ${destination} in route table ${t.id}`);
  }
  t.routes = t.routes.filter((r) => r !== route);
  ctx.changed();
  return {};
}

export function AssociateRouteTable(ctx: Ec2Context, input: AssociateRouteTableRequest): AssociateRouteTableResult {
  const t = find(ctx.region, 'routeTables', required(input.RouteTableId, 'RouteTableId'));
  const subnet = find(ctx.region, 'subnets', required(input.SubnetId, 'SubnetId'));
  if (subnet.vpcId !== t.vpcId) throw new Ec2Error('InvalidParameterValue', `Route table ${t.id} and subnet ${subnet.id} belong to different networks`);
  const existing = Object.values(ctx.region.routeTables).find((x) => x.associations.some((a) => a.subnetId === subnet.id));
  if (existing !== undefined) {
    throw new Ec2Error('Resource.AlreadyAssociated', `the specified association for route table ${existing.id} conflicts with an existing association`);
  }
  const association = { id: newId('rtbassoc'), subnetId: subnet.id, main: false };
  t.associations.push(association);
  ctx.changed();
  return { AssociationId: association.id, AssociationState: { State: 'associated' } };
}

export function DisassociateRouteTable(ctx: Ec2Context, input: DisassociateRouteTableRequest): object {
  const id = required(input.AssociationId, 'AssociationId');
  const t = Object.values(ctx.region.routeTables).find((x) => x.associations.some((a) => a.id === id));
  if (t === undefined) throw new Ec2Error('InvalidAssociationID.NotFound', `The association ID '${id}' does not exist`);
  if (t.associations.some((a) => a.id === id && a.main)) {
    throw new Ec2Error('InvalidParameterValue', `cannot disassociate the main route table association ${id}`);
  }
  t.associations = t.associations.filter((a) => a.id !== id);
  ctx.changed();
  return {};
}

export function DeleteRouteTable(ctx: Ec2Context, input: DeleteRouteTableRequest): object {
  const t = find(ctx.region, 'routeTables', required(input.RouteTableId, 'RouteTableId'));
  if (t.associations.length > 0) throw new Ec2Error('DependencyViolation', `The routeTable '${t.id}' has dependencies and cannot be deleted.`);
  delete ctx.region.routeTables[t.id];
  ctx.changed();
  return {};
}

export function DescribeRouteTables(ctx: Ec2Context, input: DescribeRouteTablesRequest): DescribeRouteTablesResult {
  noPagingWithIds(input.RouteTableIds, input.MaxResults, 'routeTableIds');
  const ids = input.RouteTableIds;
  const records = ids?.length ? findAll(ctx.region, 'routeTables', ids) : Object.values(ctx.region.routeTables);
  const matching = applyFilters(records, input.Filters, {
    'route-table-id': (t) => [t.id],
    'vpc-id': (t) => [t.vpcId],
    'association.main': (t) => [String(t.associations.some((a) => a.main))],
    'association.subnet-id': (t) => t.associations.map((a) => a.subnetId),
    'association.route-table-association-id': (t) => t.associations.map((a) => a.id),
    'route.destination-cidr-block': (t) => t.routes.map((r) => r.destination),
    'route.gateway-id': (t) => t.routes.map((r) => r.gatewayId),
    'owner-id': () => [ctx.runtime.account.accountId],
  });
  const p = page(matching, input.MaxResults, input.NextToken);
  return { RouteTables: p.items.map((t) => tableView(ctx, t)), NextToken: p.nextToken };
}
