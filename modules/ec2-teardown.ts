import type { EC2, Filter } from '@aws-sdk/client-ec2';
import { Type } from '@sinclair/typebox';
import { ec2Client } from './aws/client.js';
import { AwsError } from './aws/errors.js';
import { call, held, revealed, type Ec2Op, type Ec2Step, type HeldSettings } from './aws/ec2-operation.js';
import { applyEc2, type Ec2Change } from './aws/ec2-plan.js';
import { awsArgs, awsSettings } from './aws/module-args.js';
import { tagMap } from './aws/tags.js';
import { defineModule, type Plan, type Vars } from '../runner/types.js';

/** What can be torn down, in the order that leaves no dependency behind (the runbook's "Terminate When Done"). */
export const TEARDOWN_ORDER = ['instances', 'volumes', 'snapshots', 'security_groups', 'route_tables', 'internet_gateways', 'subnets', 'vpcs', 'key_pairs'] as const;
export type TeardownKind = (typeof TEARDOWN_ORDER)[number];

const schema = Type.Object(
  {
    /** Everything tagged project=<this> in the region goes; nothing else is touched. */
    project: Type.String({ minLength: 1 }),
    /** Which kinds of resources this task deletes (run in TEARDOWN_ORDER whatever the order here). */
    resources: Type.Array(Type.Union(TEARDOWN_ORDER.map((k) => Type.Literal(k))), { minItems: 1, uniqueItems: true }),
    /** Seconds to wait for instances to terminate and volumes to go (default 900). */
    wait_timeout: Type.Optional(Type.Integer({ minimum: 1 })),
    ...awsArgs,
  },
  { additionalProperties: false },
);

type TeardownArgs = typeof schema.static;

/** One resource to delete: its id, a name for people, and what it still hangs on. */
export interface Doomed {
  id: string;
  name: string;
  /** instances: state; volumes: the instance it is attached to (and whether it goes with it). */
  detail?: string;
  /** route tables: subnet association ids; internet gateways: the VPCs it is attached to. */
  links?: string[];
  /** A volume attached with DeleteOnTermination: it goes with its instance, no call of its own. */
  goesWithInstance?: boolean;
}

export interface TeardownActual {
  aws: HeldSettings;
  found: Partial<Record<TeardownKind, Doomed[]>>;
}

const label = (d: Doomed): string => (d.name === '' ? d.id : `${d.id} (${d.name})`);

function changesFor(kind: TeardownKind, found: readonly Doomed[], op: (steps: Ec2Step[]) => Ec2Op): Ec2Change[] {
  const one = (description: string, step: Ec2Step): Ec2Change => ({ description, op: op([step]) });
  switch (kind) {
    case 'instances': {
      if (found.length === 0) return [];
      // One already shutting down (an earlier run's) is only waited for.
      const live = found.filter((d) => d.detail !== 'shutting-down');
      return [
        ...(live.length === 0 ? [] : [one(`TerminateInstances ${live.map(label).join(', ')}`, call('TerminateInstances', { InstanceIds: live.map((d) => d.id) }))]),
        one(live.length === found.length ? 'wait until they are terminated' : `wait until ${found.map(label).join(', ')} ${found.length === 1 ? 'is' : 'are'} terminated`, { do: 'wait-gone', what: 'instances', ids: found.map((d) => d.id) }),
      ];
    }
    case 'volumes': {
      const doomed = found.filter((d) => !d.goesWithInstance);
      if (doomed.length === 0) return [];
      return [
        ...doomed.map((d) => one(`DeleteVolume ${label(d)}${d.detail === undefined ? '' : ` (${d.detail})`}`, call('DeleteVolume', { VolumeId: d.id }))),
        one('wait until the volumes are gone', { do: 'wait-gone', what: 'volumes', ids: doomed.map((d) => d.id) }),
      ];
    }
    case 'snapshots':
      return found.map((d) => one(`DeleteSnapshot ${label(d)}`, call('DeleteSnapshot', { SnapshotId: d.id })));
    case 'security_groups':
      return found.map((d) => one(`DeleteSecurityGroup ${label(d)}`, call('DeleteSecurityGroup', { GroupId: d.id })));
    case 'route_tables':
      return found.flatMap((d) => [
        ...(d.links ?? []).map((a) => one(`DisassociateRouteTable ${a} (of ${d.id})`, call('DisassociateRouteTable', { AssociationId: a }))),
        one(`DeleteRouteTable ${label(d)}`, call('DeleteRouteTable', { RouteTableId: d.id })),
      ]);
    case 'internet_gateways':
      return found.flatMap((d) => [
        ...(d.links ?? []).map((vpc) => one(`DetachInternetGateway ${d.id} from ${vpc}`, call('DetachInternetGateway', { InternetGatewayId: d.id, VpcId: vpc }))),
        one(`DeleteInternetGateway ${label(d)}`, call('DeleteInternetGateway', { InternetGatewayId: d.id })),
      ]);
    case 'subnets':
      return found.map((d) => one(`DeleteSubnet ${label(d)}`, call('DeleteSubnet', { SubnetId: d.id })));
    case 'vpcs':
      return found.map((d) => one(`DeleteVpc ${label(d)}`, call('DeleteVpc', { VpcId: d.id })));
    case 'key_pairs':
      return found.map((d) => one(`DeleteKeyPair ${label(d)}`, call('DeleteKeyPair', { KeyName: d.name })));
  }
}

/**
 * Every deletion, in dependency order, in one round: the ids are all known, and the waits between
 * them (instances terminated before their groups go) are operations. A plan that waits is followed
 * by a re-plan, which must then find nothing of the project left.
 */
export function teardownPlan(args: TeardownArgs, actual: TeardownActual): Plan<Ec2Op> {
  const op = (steps: Ec2Step[]): Ec2Op => ({ kind: 'ec2', aws: revealed(actual.aws), timeoutMs: (args.wait_timeout ?? 900) * 1000, steps });
  const changes = TEARDOWN_ORDER.filter((k) => args.resources.includes(k)).flatMap((k) => changesFor(k, actual.found[k] ?? [], op));
  // What was deleted is reported once all of it is.
  const last = changes.at(-1)?.op;
  if (last !== undefined) last.result = resultOf(actual);
  return {
    changes,
    ...(changes.some((c) => c.op?.steps.some((s) => s.do === 'wait-gone')) ? { replan: true } : {}),
    msg: changes.length === 0 ? `nothing of project ${args.project} left: ${args.resources.join(', ')}` : undefined,
  };
}

const nameOf = (tags: { Key?: string; Value?: string }[] | undefined): string => tagMap(tags).Name ?? '';

/** The project's resources of one kind, as EC2 describes them now. */
async function find(ec2: EC2, kind: TeardownKind, project: string): Promise<Doomed[]> {
  const Filters: Filter[] = [{ Name: 'tag:project', Values: [project] }];
  switch (kind) {
    case 'instances': {
      const r = await ec2.describeInstances({ Filters: [...Filters, { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped', 'shutting-down'] }] });
      return (r.Reservations ?? []).flatMap((x) => x.Instances ?? []).map((i) => ({ id: i.InstanceId ?? '?', name: nameOf(i.Tags), detail: i.State?.Name }));
    }
    case 'volumes': {
      const { Volumes = [] } = await ec2.describeVolumes({ Filters });
      return Volumes.filter((v) => v.State !== 'deleting').map((v) => {
        const a = v.Attachments?.[0];
        if (a === undefined) return { id: v.VolumeId ?? '?', name: nameOf(v.Tags) };
        return { id: v.VolumeId ?? '?', name: nameOf(v.Tags), detail: `attached to ${a.InstanceId}`, goesWithInstance: a.DeleteOnTermination === true };
      });
    }
    case 'snapshots': {
      const { Snapshots = [] } = await ec2.describeSnapshots({ OwnerIds: ['self'], Filters });
      return Snapshots.map((s) => ({ id: s.SnapshotId ?? '?', name: nameOf(s.Tags) }));
    }
    case 'security_groups': {
      const { SecurityGroups = [] } = await ec2.describeSecurityGroups({ Filters });
      return SecurityGroups.filter((g) => g.GroupName !== 'default').map((g) => ({ id: g.GroupId ?? '?', name: g.GroupName ?? '' }));
    }
    case 'route_tables': {
      const { RouteTables = [] } = await ec2.describeRouteTables({ Filters });
      // A VPC's main table goes with the VPC.
      return RouteTables.filter((t) => !(t.Associations ?? []).some((a) => a.Main)).map((t) => ({
        id: t.RouteTableId ?? '?',
        name: nameOf(t.Tags),
        links: (t.Associations ?? []).flatMap((a) => (a.RouteTableAssociationId === undefined ? [] : [a.RouteTableAssociationId])),
      }));
    }
    case 'internet_gateways': {
      const { InternetGateways = [] } = await ec2.describeInternetGateways({ Filters });
      return InternetGateways.map((g) => ({ id: g.InternetGatewayId ?? '?', name: nameOf(g.Tags), links: (g.Attachments ?? []).flatMap((a) => (a.VpcId === undefined ? [] : [a.VpcId])) }));
    }
    case 'subnets': {
      const { Subnets = [] } = await ec2.describeSubnets({ Filters });
      return Subnets.map((s) => ({ id: s.SubnetId ?? '?', name: nameOf(s.Tags) }));
    }
    case 'vpcs': {
      const { Vpcs = [] } = await ec2.describeVpcs({ Filters });
      return Vpcs.map((v) => ({ id: v.VpcId ?? '?', name: nameOf(v.Tags) }));
    }
    case 'key_pairs': {
      const { KeyPairs = [] } = await ec2.describeKeyPairs({ Filters });
      return KeyPairs.map((k) => ({ id: k.KeyPairId ?? '?', name: k.KeyName ?? '' }));
    }
  }
}

function resultOf(actual: TeardownActual): Vars {
  return { deleted: Object.fromEntries(Object.entries(actual.found).map(([k, list]) => [k, (list ?? []).filter((d) => !d.goesWithInstance).map((d) => d.id)])) };
}

/**
 * The runbook's "Terminate When Done": deletes the project's resources (tag project=…) of the given
 * kinds, in the order that leaves nothing behind — instances (waited until terminated), volumes,
 * snapshots, security groups, route tables, internet gateways, subnets, VPCs, key pairs. Resources
 * without the project tag are never touched; a region with nothing of the project left is ok.
 */
export const ec2Teardown = defineModule({
  name: 'ec2_teardown',
  schema,
  async gather(ctx, args): Promise<TeardownActual> {
    if (args.project.includes('*') || args.project.includes('?')) throw new AwsError(`project '${args.project}' has a wildcard: teardown names one project exactly`);
    const settings = awsSettings(args, ctx.vars);
    const ec2 = await ec2Client(settings);
    const kinds = TEARDOWN_ORDER.filter((k) => args.resources.includes(k));
    const found = await Promise.all(kinds.map((k) => find(ec2, k, args.project)));
    return { aws: held(settings), found: Object.fromEntries(kinds.map((k, i) => [k, found[i]])) };
  },
  plan: teardownPlan,
  // Terminating instances empties the inventory cache (runEc2Operations).
  apply: applyEc2,
});
