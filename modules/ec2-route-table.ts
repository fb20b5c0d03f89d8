import type { EC2 } from '@aws-sdk/client-ec2';
import { Type } from '@sinclair/typebox';
import { ec2Client } from './aws/client.js';
import { AwsError } from './aws/errors.js';
import { findInternetGateway, findRouteTable, findSubnet, findVpc } from './aws/lookup.js';
import { awsArgs, awsSettings, Cidr, resourceArgs } from './aws/module-args.js';
import { made, planOf, runSteps, type Step } from './aws/steps.js';
import { identityText, missingTags, sdkTags, tagMap, tagSpecifications, tagText, wantedTags, type TagMap } from './aws/tags.js';
import { defineModule, NotYetThere, type Vars } from '../runner/types.js';

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

export interface RouteTableActual {
  vpcId: string | null;
  table: {
    id: string;
    /** Routes made by CreateRoute: destination → gateway id. */
    routes: Record<string, string>;
    /** Subnet associations (not the main one): subnet id → association id. */
    associations: Record<string, string>;
    tags: TagMap;
  } | null;
  /** Gateway as written in routes → its id (null: does not exist). */
  gateways: Record<string, string | null>;
  /** Subnet name → its id and its explicit association with any table (null: subnet does not exist). */
  subnets: Record<string, { id: string; association: { id: string; tableId: string } | null } | null>;
}

interface RouteTableState {
  tableId?: string;
}

const isGatewayId = (g: string): boolean => /^igw-[0-9a-f]+$/.test(g);

export function routeTableSteps(args: RouteTableArgs, actual: RouteTableActual): Step<RouteTableState>[] {
  const tags = wantedTags(args.name, args.project, args.tags);
  const { table } = actual;
  const steps: Step<RouteTableState>[] = [];
  const tableId = (s: RouteTableState): string => made(s.tableId, 'the route table id');

  if (table === null) {
    steps.push({
      description: `CreateRouteTable in VPC ${actual.vpcId ?? `${args.vpc} (not created yet)`} tags ${tagText(tags)}`,
      async run(ec2, s) {
        if (actual.vpcId === null) throw new AwsError(`VPC ${identityText(args.vpc, args.project)} does not exist: create it first (ec2_vpc)`);
        const r = await ec2.createRouteTable({ VpcId: actual.vpcId, TagSpecifications: tagSpecifications(['route-table'], tags) });
        s.tableId = made(r.RouteTable?.RouteTableId, 'the new route table id');
      },
    });
  } else {
    const lacking = missingTags(tags, table.tags);
    if (Object.keys(lacking).length > 0) {
      steps.push({ description: `CreateTags ${table.id} ${tagText(lacking)}`, run: async (ec2) => void (await ec2.createTags({ Resources: [table.id], Tags: sdkTags(lacking) })) });
    }
  }

  // Routes: exactly the wanted ones (the local route is the VPC's own and never listed).
  const have = table?.routes ?? {};
  const wanted = new Map(args.routes.map((r) => [r.dest, r.gateway]));
  for (const [dest, gatewayId] of Object.entries(have)) {
    const want = wanted.get(dest);
    const wantId = want === undefined ? undefined : isGatewayId(want) ? want : actual.gateways[want];
    if (want !== undefined && wantId === gatewayId) continue;
    steps.push({
      description: `DeleteRoute ${dest} → ${gatewayId}${want === undefined ? ' (not a wanted route)' : ` (wanted → ${want})`}`,
      run: async (ec2, s) => void (await ec2.deleteRoute({ RouteTableId: tableId(s), DestinationCidrBlock: dest })),
    });
  }
  for (const [dest, gateway] of wanted) {
    const gatewayId = isGatewayId(gateway) ? gateway : actual.gateways[gateway] ?? null;
    if (gatewayId !== null && have[dest] === gatewayId) continue;
    steps.push({
      description: `CreateRoute ${dest} → ${gatewayId ?? `${gateway} (not created yet)`}`,
      async run(ec2, s) {
        if (gatewayId === null) throw new AwsError(`internet gateway ${identityText(gateway, args.project)} does not exist: create it first (ec2_internet_gateway)`);
        await ec2.createRoute({ RouteTableId: tableId(s), DestinationCidrBlock: dest, GatewayId: gatewayId });
      },
    });
  }

  // Associations: exactly the wanted subnets; a subnet that uses another table is moved here.
  const wantedSubnetIds = new Set(args.subnets.map((n) => actual.subnets[n]?.id).filter((id): id is string => id !== undefined));
  for (const [subnetId, associationId] of Object.entries(table?.associations ?? {})) {
    if (wantedSubnetIds.has(subnetId)) continue;
    steps.push({ description: `DisassociateRouteTable ${subnetId} (not a wanted subnet)`, run: async (ec2) => void (await ec2.disassociateRouteTable({ AssociationId: associationId })) });
  }
  for (const name of args.subnets) {
    const subnet = actual.subnets[name] ?? null;
    if (subnet !== null && table !== null && table.associations[subnet.id] !== undefined) continue;
    if (subnet?.association != null) {
      const { id, tableId: other } = subnet.association;
      steps.push({ description: `DisassociateRouteTable ${subnet.id} from ${other}`, run: async (ec2) => void (await ec2.disassociateRouteTable({ AssociationId: id })) });
    }
    steps.push({
      description: `AssociateRouteTable ${subnet?.id ?? `${name} (not created yet)`}`,
      async run(ec2, s) {
        if (subnet === null) throw new AwsError(`subnet ${identityText(name, args.project)} does not exist: create it first (ec2_subnet)`);
        await ec2.associateRouteTable({ RouteTableId: tableId(s), SubnetId: subnet.id });
      },
    });
  }
  return steps;
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

const resultOf = (tableId: string | undefined): Vars => (tableId === undefined ? {} : { route_table_id: tableId });

/** The facts, unless a gateway or subnet the table names is not there yet (earlier tasks make them). */
function pendingOr(args: RouteTableArgs, actual: RouteTableActual, absent: string[]): RouteTableActual {
  if (absent.length === 0) return actual;
  const steps = routeTableSteps(args, actual);
  const them = absent.length > 1 ? ['do', 'them'] : ['does', 'it'];
  throw new NotYetThere(`ec2_route_table: ${absent.join(', ')} ${them[0]} not exist: create ${them[1]} first`, absent.join(', '), { would: steps.map((st) => st.description).join('; ') });
}

/** A route table found by its Name (+ project) tag: exactly its routes and its subnets. */
export const ec2RouteTable = defineModule({
  name: 'ec2_route_table',
  schema,
  async gather(ctx, args): Promise<RouteTableActual> {
    const ec2 = await ec2Client(awsSettings(args, ctx.vars));
    const [vpc, gateways] = await Promise.all([findVpc(ec2, { name: args.vpc, project: args.project }), gatherGateways(ec2, args)]);
    if (vpc === null) {
      const steps = routeTableSteps(args, { vpcId: null, table: null, gateways, subnets: Object.fromEntries(args.subnets.map((n) => [n, null])) });
      throw new NotYetThere(`ec2_route_table: VPC ${identityText(args.vpc, args.project)} does not exist: create it first (ec2_vpc)`, `VPC ${args.vpc}`, { would: steps.map((st) => st.description).join('; ') });
    }
    const vpcId = made(vpc.VpcId, 'the VPC id');
    const [t, subnets] = await Promise.all([findRouteTable(ec2, args, vpcId), gatherSubnets(ec2, args, vpcId)]);
    // Gateways and subnets the routes and associations name are earlier tasks' (ec2_internet_gateway, ec2_subnet).
    const absent = [...Object.entries(gateways).filter(([, id]) => id === null).map(([n]) => `internet gateway ${n}`), ...Object.entries(subnets).filter(([, s]) => s === null).map(([n]) => `subnet ${n}`)];
    if (t === null) return pendingOr(args, { vpcId, table: null, gateways, subnets }, absent);
    const routes: Record<string, string> = {};
    for (const r of t.Routes ?? []) if (r.Origin === 'CreateRoute' && r.DestinationCidrBlock !== undefined) routes[r.DestinationCidrBlock] = r.GatewayId ?? r.NatGatewayId ?? r.NetworkInterfaceId ?? '?';
    const associations: Record<string, string> = {};
    for (const a of t.Associations ?? []) if (!a.Main && a.SubnetId !== undefined && a.RouteTableAssociationId !== undefined) associations[a.SubnetId] = a.RouteTableAssociationId;
    return pendingOr(args, { vpcId, table: { id: made(t.RouteTableId, 'the route table id'), routes, associations, tags: tagMap(t.Tags) }, gateways, subnets }, absent);
  },
  plan: (args, actual) => planOf(routeTableSteps(args, actual), `route table ${actual.table?.id} is as wanted`, resultOf(actual.table?.id)),
  async legacyApply(ctx, args, _plan, actual) {
    const ec2 = await ec2Client(awsSettings(args, ctx.vars));
    const s = await runSteps(ec2, routeTableSteps(args, actual), { tableId: actual.table?.id });
    return { result: resultOf(s.tableId) };
  },
});
