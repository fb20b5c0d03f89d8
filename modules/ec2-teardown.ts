import type { EC2, Filter } from '@aws-sdk/client-ec2';
import { Type } from '@sinclair/typebox';
import { ec2Client } from './aws/client.js';
import { AwsError } from './aws/errors.js';
import { invalidateInventoryCache, projectCacheDir } from './aws/inventory-cache.js';
import { awsArgs, awsSettings } from './aws/module-args.js';
import { planOf, runSteps, type Step } from './aws/steps.js';
import { tagMap } from './aws/tags.js';
import { poll } from './aws/wait.js';
import { defineModule, type Vars } from '../runner/types.js';

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

export type TeardownActual = Partial<Record<TeardownKind, Doomed[]>>;

type NoState = Record<string, never>;

const timeoutMs = (args: TeardownArgs): number => (args.wait_timeout ?? 900) * 1000;
const label = (d: Doomed): string => (d.name === '' ? d.id : `${d.id} (${d.name})`);

function call(description: string, run: (ec2: EC2) => Promise<unknown>): Step<NoState> {
  return { description, run: async (ec2) => void (await run(ec2)) };
}

function stepsFor(kind: TeardownKind, found: readonly Doomed[], args: TeardownArgs): Step<NoState>[] {
  switch (kind) {
    case 'instances': {
      if (found.length === 0) return [];
      const ids = found.map((d) => d.id);
      return [
        call(`TerminateInstances ${found.map(label).join(', ')}`, (ec2) => ec2.terminateInstances({ InstanceIds: ids })),
        {
          description: 'wait until they are terminated',
          run: async (ec2) =>
            void (await poll(
              `instances ${ids.join(', ')} to terminate`,
              async (seen) => {
                const r = await ec2.describeInstances({ InstanceIds: ids });
                const left = (r.Reservations ?? []).flatMap((x) => x.Instances ?? []).filter((i) => i.State?.Name !== 'terminated');
                seen.last = left.map((i) => `${i.InstanceId} ${i.State?.Name}`).join(', ');
                return left.length === 0 ? true : null;
              },
              { timeoutMs: timeoutMs(args), firstDelayMs: 200, maxDelayMs: 5000 },
            )),
        },
      ];
    }
    case 'volumes': {
      const doomed = found.filter((d) => !d.goesWithInstance);
      if (doomed.length === 0) return [];
      const ids = doomed.map((d) => d.id);
      return [
        ...doomed.map((d) => call(`DeleteVolume ${label(d)}${d.detail === undefined ? '' : ` (${d.detail})`}`, (ec2) => ec2.deleteVolume({ VolumeId: d.id }))),
        {
          description: 'wait until the volumes are gone',
          run: async (ec2) =>
            void (await poll(
              `volumes ${ids.join(', ')} to be deleted`,
              async (seen) => {
                const { Volumes = [] } = await ec2.describeVolumes({ Filters: [{ Name: 'volume-id', Values: ids }] });
                seen.last = Volumes.map((v) => `${v.VolumeId} ${v.State}`).join(', ');
                return Volumes.length === 0 ? true : null;
              },
              { timeoutMs: timeoutMs(args), firstDelayMs: 100, maxDelayMs: 5000 },
            )),
        },
      ];
    }
    case 'snapshots':
      return found.map((d) => call(`DeleteSnapshot ${label(d)}`, (ec2) => ec2.deleteSnapshot({ SnapshotId: d.id })));
    case 'security_groups':
      return found.map((d) => call(`DeleteSecurityGroup ${label(d)}`, (ec2) => ec2.deleteSecurityGroup({ GroupId: d.id })));
    case 'route_tables':
      return found.flatMap((d) => [
        ...(d.links ?? []).map((a) => call(`DisassociateRouteTable ${a} (of ${d.id})`, (ec2) => ec2.disassociateRouteTable({ AssociationId: a }))),
        call(`DeleteRouteTable ${label(d)}`, (ec2) => ec2.deleteRouteTable({ RouteTableId: d.id })),
      ]);
    case 'internet_gateways':
      return found.flatMap((d) => [
        ...(d.links ?? []).map((vpc) => call(`DetachInternetGateway ${d.id} from ${vpc}`, (ec2) => ec2.detachInternetGateway({ InternetGatewayId: d.id, VpcId: vpc }))),
        call(`DeleteInternetGateway ${label(d)}`, (ec2) => ec2.deleteInternetGateway({ InternetGatewayId: d.id })),
      ]);
    case 'subnets':
      return found.map((d) => call(`DeleteSubnet ${label(d)}`, (ec2) => ec2.deleteSubnet({ SubnetId: d.id })));
    case 'vpcs':
      return found.map((d) => call(`DeleteVpc ${label(d)}`, (ec2) => ec2.deleteVpc({ VpcId: d.id })));
    case 'key_pairs':
      return found.map((d) => call(`DeleteKeyPair ${label(d)}`, (ec2) => ec2.deleteKeyPair({ KeyName: d.name })));
  }
}

export function teardownSteps(args: TeardownArgs, actual: TeardownActual): Step<NoState>[] {
  return TEARDOWN_ORDER.filter((k) => args.resources.includes(k)).flatMap((k) => stepsFor(k, actual[k] ?? [], args));
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
  return { deleted: Object.fromEntries(Object.entries(actual).map(([k, list]) => [k, (list ?? []).filter((d) => !d.goesWithInstance).map((d) => d.id)])) };
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
    const ec2 = await ec2Client(awsSettings(args, ctx.vars));
    const kinds = TEARDOWN_ORDER.filter((k) => args.resources.includes(k));
    const found = await Promise.all(kinds.map((k) => find(ec2, k, args.project)));
    return Object.fromEntries(kinds.map((k, i) => [k, found[i]]));
  },
  plan: (args, actual) => planOf(teardownSteps(args, actual), `nothing of project ${args.project} left: ${args.resources.join(', ')}`),
  async legacyApply(ctx, args, _plan, actual) {
    const ec2 = await ec2Client(awsSettings(args, ctx.vars));
    await runSteps(ec2, teardownSteps(args, actual), {});
    if (args.resources.includes('instances')) await invalidateInventoryCache(projectCacheDir(ctx.projectDir));
    return { result: resultOf(actual) };
  },
});
