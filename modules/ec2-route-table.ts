import type { EC2 } from '@aws-sdk/client-ec2';
import { Type } from '@sinclair/typebox';
import { ec2Client } from './aws/client.js';
import { call, callsOp, held, made, type Ec2Op, type HeldSettings } from './aws/ec2-operation.js';
import { applyEc2, createPlan, known, planOf, wouldText, type Ec2Change } from './aws/ec2-plan.js';
import { AwsError } from './aws/errors.js';
import { findInternetGateway, findRouteTable, findSubnet, findVpc } from './aws/lookup.js';
import { awsArgs, awsSettings, Cidr, resourceArgs } from './aws/module-args.js';
import { createTagsFor, identityText, tagMap, tagSpecifications, tagText, wantedTags, type TagMap } from './aws/tags.js';
import { defineModule, NotYetThere, type Plan, type Vars } from '../runner/types.js';

const schema = Type.Object(
  {
    ...resourceArgs,
    /** The VPC's Name tag (same project). */
    vpc: Type.String({ minLength: 1 }),
    /** The routes besides the VPC's local one, exactly: others are deleted. */
    routes: Type.Array(
      Type.Object(
        {
          dest: Cidr,
          /** An internet gateway's Name tag (same project), or its id (igw-…). */
          gateway: Type.String({ minLength: 1 }),
        },
        { additionalProperties: false },
      ),
    ),
    /** Names of the subnets that use this table, exactly: others are disassociated. */
    subnets: Type.Array(Type.String({ minLength: 1 })),
    ...awsArgs,
  },
  { additionalProperties: false },
);

type RouteTableArgs = typeof schema.static;

export interface TableFacts {
  id: string;
  /** Routes made by CreateRoute: destination → gateway id. */
  routes: Record<string, string>;
  /** Subnet associations (not the main one): subnet id → association id. */
  associations: Record<string, string>;
  tags: TagMap;
}

export interface RouteTableActual {
  aws: HeldSettings;
  vpcId: string;
  table: TableFacts | null;
  /** Gateway as written in routes → its id (null: does not exist). */
  gateways: Record<string, string | null>;
  /** Subnet name → its id and its explicit association with any table (null: subnet does not exist). */
  subnets: Record<string, { id: string; association: { id: string; tableId: string } | null } | null>;
}

const isGatewayId = (g: string): boolean => /^igw-[0-9a-f]+$/.test(g);

/**
 * What is still missing (a gateway, a subnet) in a plan: refused, or, for check mode's account of
 * what a task would do once earlier tasks made them, written "(not created yet)".
 */
type Absent = 'refuse' | 'preview';

function present<T>(value: T | null, what: string, maker: string, absent: Absent): T | null {
  if (value === null && absent === 'refuse') throw new AwsError(`${what} does not exist: create it first (${maker})`);
  return value;
}

function tableChanges(args: RouteTableArgs, actual: RouteTableActual, table: TableFacts, absent: Absent): Ec2Change[] {
  const { aws } = actual;
  const changes: Ec2Change[] = [];
  const tagging = createTagsFor(table.id, wantedTags(args.name, args.project, args.tags), table.tags);
  if (tagging !== null) changes.push({ description: tagging.description, op: callsOp(aws, [tagging.step]) });

  // Routes: exactly the wanted ones (the local route is the VPC's own and never listed).
  const gatewayOf = (g: string): string | null =>
    isGatewayId(g) ? g : present(actual.gateways[g] ?? null, `internet gateway ${identityText(g, args.project)}`, 'ec2_internet_gateway', absent);
  const wanted = new Map(args.routes.map((r) => [r.dest, r.gateway]));
  for (const [dest, gatewayId] of Object.entries(table.routes)) {
    const want = wanted.get(dest);
    if (want !== undefined && gatewayOf(want) === gatewayId) continue;
    changes.push({
      description: `DeleteRoute ${dest} → ${gatewayId}${want === undefined ? ' (not a wanted route)' : ` (wanted → ${want})`}`,
      op: callsOp(aws, [call('DeleteRoute', { RouteTableId: table.id, DestinationCidrBlock: dest })]),
    });
  }
  for (const [dest, gateway] of wanted) {
    const gatewayId = gatewayOf(gateway);
    if (gatewayId !== null && table.routes[dest] === gatewayId) continue;
    changes.push({
      description: `CreateRoute ${dest} → ${gatewayId ?? `${gateway} (not created yet)`}`,
      op: callsOp(aws, [call('CreateRoute', { RouteTableId: table.id, DestinationCidrBlock: dest, GatewayId: gatewayId ?? '' })]),
    });
  }

  // Associations: exactly the wanted subnets; a subnet that uses another table is moved here.
  const subnetOf = (name: string) => present(actual.subnets[name] ?? null, `subnet ${identityText(name, args.project)}`, 'ec2_subnet', absent);
  const wantedSubnetIds = new Set(args.subnets.map((n) => subnetOf(n)?.id).filter((id): id is string => id !== undefined));
  for (const [subnetId, associationId] of Object.entries(table.associations)) {
    if (wantedSubnetIds.has(subnetId)) continue;
    changes.push({ description: `DisassociateRouteTable ${subnetId} (not a wanted subnet)`, op: callsOp(aws, [call('DisassociateRouteTable', { AssociationId: associationId })]) });
  }
  for (const name of args.subnets) {
    const subnet = subnetOf(name);
    if (subnet !== null && table.associations[subnet.id] !== undefined) continue;
    if (subnet?.association != null) {
      const { id, tableId: other } = subnet.association;
      changes.push({ description: `DisassociateRouteTable ${subnet.id} from ${other}`, op: callsOp(aws, [call('DisassociateRouteTable', { AssociationId: id })]) });
    }
    changes.push({
      description: `AssociateRouteTable ${subnet?.id ?? `${name} (not created yet)`}`,
      op: callsOp(aws, [call('AssociateRouteTable', { RouteTableId: table.id, SubnetId: subnet?.id ?? '' })]),
    });
  }
  return changes;
}

function creation(args: RouteTableArgs, actual: RouteTableActual, vpcText: string, absent: Absent): [Ec2Change, Ec2Change[]] {
  const tags = wantedTags(args.name, args.project, args.tags);
  const create: Ec2Change = {
    description: `CreateRouteTable in VPC ${vpcText} tags ${tagText(tags)}`,
    op: callsOp(actual.aws, [call('CreateRouteTable', { VpcId: actual.vpcId, TagSpecifications: tagSpecifications(['route-table'], tags) }, { table: 'RouteTable.RouteTableId' })], {
      route_table_id: made('table'),
    }),
  };
  // A new table has only the VPC's local route and no subnets.
  return [create, tableChanges(args, actual, { id: 'the new route table', routes: {}, associations: {}, tags }, absent)];
}

export function routeTablePlan(args: RouteTableArgs, actual: RouteTableActual): Plan<Ec2Op> {
  const { table } = actual;
  if (table === null) {
    const [create, then] = creation(args, actual, actual.vpcId, 'refuse');
    return createPlan(create, then);
  }
  return planOf(tableChanges(args, actual, table, 'refuse'), `route table ${table.id} is as wanted`, resultOf(table.id));
}

async function gatherGateways(ec2: EC2, args: RouteTableArgs): Promise<Record<string, string | null>> {
  const names = [...new Set(args.routes.map((r) => r.gateway).filter((g) => !isGatewayId(g)))];
  const found = await Promise.all(names.map((name) => findInternetGateway(ec2, { name, project: args.project })));
  return Object.fromEntries(names.map((n, i) => [n, found[i]?.InternetGatewayId ?? null]));
}

async function gatherSubnets(ec2: EC2, args: RouteTableArgs, vpcId: string): Promise<RouteTableActual['subnets']> {
  const found = await Promise.all(args.subnets.map((name) => findSubnet(ec2, { name, project: args.project }, vpcId)));
  const ids = found.flatMap((s) => (s?.SubnetId === undefined ? [] : [s.SubnetId]));
  const associations = new Map<string, { id: string; tableId: string }>();
  if (ids.length > 0) {
    const { RouteTables = [] } = await ec2.describeRouteTables({ Filters: [{ Name: 'association.subnet-id', Values: ids }] });
    for (const t of RouteTables) {
      for (const a of t.Associations ?? []) {
        if (a.SubnetId !== undefined && a.RouteTableAssociationId !== undefined) associations.set(a.SubnetId, { id: a.RouteTableAssociationId, tableId: t.RouteTableId ?? '' });
      }
    }
  }
  return Object.fromEntries(
    args.subnets.map((name, i) => {
      const id = found[i]?.SubnetId;
      return [name, id === undefined ? null : { id, association: associations.get(id) ?? null }];
    }),
  );
}

const resultOf = (tableId: string): Vars => ({ route_table_id: tableId });

/** A route table found by its Name (+ project) tag: exactly its routes and its subnets. */
export const ec2RouteTable = defineModule({
  name: 'ec2_route_table',
  schema,
  async gather(ctx, args): Promise<RouteTableActual> {
    const settings = awsSettings(args, ctx.vars);
    const ec2 = await ec2Client(settings);
    const aws = held(settings);
    const [vpc, gateways] = await Promise.all([findVpc(ec2, { name: args.vpc, project: args.project }), gatherGateways(ec2, args)]);
    if (vpc === null) {
      const pending: RouteTableActual = { aws, vpcId: '', table: null, gateways, subnets: Object.fromEntries(args.subnets.map((n) => [n, null])) };
      const would = wouldText(...creation(args, pending, `${args.vpc} (not created yet)`, 'preview'));
      throw new NotYetThere(`ec2_route_table: VPC ${identityText(args.vpc, args.project)} does not exist: create it first (ec2_vpc)`, `VPC ${args.vpc}`, { would });
    }
    const vpcId = known(vpc.VpcId, 'VPC id');
    const [t, subnets] = await Promise.all([findRouteTable(ec2, args, vpcId), gatherSubnets(ec2, args, vpcId)]);
    let table: TableFacts | null = null;
    if (t !== null) {
      const routes: Record<string, string> = {};
      for (const r of t.Routes ?? []) if (r.Origin === 'CreateRoute' && r.DestinationCidrBlock !== undefined) routes[r.DestinationCidrBlock] = r.GatewayId ?? r.NatGatewayId ?? r.NetworkInterfaceId ?? '?';
      const associations: Record<string, string> = {};
      for (const a of t.Associations ?? []) if (!a.Main && a.SubnetId !== undefined && a.RouteTableAssociationId !== undefined) associations[a.SubnetId] = a.RouteTableAssociationId;
      table = { id: known(t.RouteTableId, 'route table id'), routes, associations, tags: tagMap(t.Tags) };
    }
    const actual: RouteTableActual = { aws, vpcId, table, gateways, subnets };
    // Gateways and subnets the routes and associations name are earlier tasks' (ec2_internet_gateway, ec2_subnet).
    const absent = [...Object.entries(gateways).filter(([, id]) => id === null).map(([n]) => `internet gateway ${n}`), ...Object.entries(subnets).filter(([, s]) => s === null).map(([n]) => `subnet ${n}`)];
    if (absent.length > 0) {
      const would = table === null ? wouldText(...creation(args, actual, vpcId, 'preview')) : tableChanges(args, actual, table, 'preview').map((c) => c.description).join('; ');
      const them = absent.length > 1 ? ['do', 'them'] : ['does', 'it'];
      throw new NotYetThere(`ec2_route_table: ${absent.join(', ')} ${them[0]} not exist: create ${them[1]} first`, absent.join(', '), { would });
    }
    return actual;
  },
  plan: routeTablePlan,
  apply: applyEc2,
});
