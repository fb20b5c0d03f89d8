// What ebs_encrypt reads from EC2 about one instance: the instance (found by its Name and project tags,
// transitions waited out), the volume at its root device, and the pieces of a migration of it, found by
// the tag rplay:encrypts=<the volume being replaced>.
import type { EC2, Instance, Snapshot, Volume } from '@aws-sdk/client-ec2';
import { ENCRYPTS_TAG, volumeToReplace, type InstanceFacts, type MigrationFacts, type SnapshotFacts, type VolumeFacts } from './ebs-encrypt-plan.js';
import { AwsError } from './errors.js';
import { identityFilters, identityText, tagMap } from './tags.js';
import { poll } from './wait.js';

export interface InstanceIdentity {
  name: string;
  project?: string;
}

const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];
/** Gone, or going: never a migration's piece. */
const GONE = ['deleting', 'deleted'];

export function instanceFacts(i: Instance, name: string): InstanceFacts {
  return {
    id: i.InstanceId ?? '?',
    name,
    state: i.State?.Name ?? 'unknown',
    az: i.Placement?.AvailabilityZone ?? '?',
    rootDevice: i.RootDeviceName ?? '/dev/sda1',
    ...(i.PublicIpAddress === undefined ? {} : { publicIp: i.PublicIpAddress }),
    ...(i.PrivateIpAddress === undefined ? {} : { privateIp: i.PrivateIpAddress }),
    ...(i.LaunchTime === undefined ? {} : { launchedAt: i.LaunchTime.toISOString() }),
    tags: tagMap(i.Tags),
  };
}

export function volumeFacts(v: Volume): VolumeFacts {
  const a = v.Attachments?.[0];
  return {
    id: v.VolumeId ?? '?',
    encrypted: v.Encrypted ?? false,
    ...(v.KmsKeyId === undefined ? {} : { kmsKeyId: v.KmsKeyId }),
    az: v.AvailabilityZone ?? '?',
    size: v.Size ?? 0,
    ...(v.VolumeType === undefined ? {} : { type: v.VolumeType }),
    ...(v.Iops === undefined ? {} : { iops: v.Iops }),
    ...(v.Throughput === undefined ? {} : { throughput: v.Throughput }),
    state: v.State ?? 'unknown',
    ...(a === undefined ? {} : { attachment: { instanceId: a.InstanceId ?? '?', device: a.Device ?? '?', state: a.State ?? '?' } }),
    ...(v.CreateTime === undefined ? {} : { createdAt: v.CreateTime.toISOString() }),
    tags: tagMap(v.Tags),
  };
}

function snapshotFacts(s: Snapshot): SnapshotFacts {
  return {
    id: s.SnapshotId ?? '?',
    state: s.State ?? 'unknown',
    encrypted: s.Encrypted ?? false,
    ...(s.StartTime === undefined ? {} : { startedAt: s.StartTime.toISOString() }),
    tags: tagMap(s.Tags),
  };
}

export async function describeInstance(ec2: EC2, id: string): Promise<Instance> {
  const r = await ec2.describeInstances({ InstanceIds: [id] });
  const i = r.Reservations?.[0]?.Instances?.[0];
  if (i === undefined) throw new AwsError(`instance ${id} is not described by EC2`);
  return i;
}

/** Polls until the instance is in one of `states`; terminated on the way is an error. */
export async function settleInstance(ec2: EC2, id: string, what: string, states: readonly string[], timeoutMs: number): Promise<Instance> {
  return poll(
    `instance ${what} to be ${states.join(' or ')}`,
    async (seen) => {
      const i = await describeInstance(ec2, id);
      const state = i.State?.Name ?? 'unknown';
      seen.last = state;
      if (state === 'terminated' || state === 'shutting-down') throw new AwsError(`instance ${what} went ${state}`);
      return states.includes(state) ? i : null;
    },
    { timeoutMs, firstDelayMs: 100, maxDelayMs: 5000 },
  );
}

/** The one live instance with this identity, once it is running or stopped. */
export async function findInstance(ec2: EC2, id: InstanceIdentity, timeoutMs: number): Promise<Instance> {
  const r = await ec2.describeInstances({ Filters: [...identityFilters(id.name, id.project), { Name: 'instance-state-name', Values: LIVE_STATES }] });
  const found = (r.Reservations ?? []).flatMap((x) => x.Instances ?? []);
  const who = identityText(id.name, id.project);
  if (found.length === 0) throw new AwsError(`no instance is named ${who}`);
  if (found.length > 1) throw new AwsError(`${found.length} instances are named ${who}: ${found.map((i) => i.InstanceId).join(', ')}. Terminate or rename the extra one(s), then run again`);
  const i = found[0];
  const state = i.State?.Name;
  if (state === 'running' || state === 'stopped') return i;
  return settleInstance(ec2, i.InstanceId ?? '?', `${i.InstanceId} (${id.name})`, ['running', 'stopped'], timeoutMs);
}

async function volumes(ec2: EC2, filters: { Name: string; Values: string[] }[]): Promise<VolumeFacts[]> {
  const { Volumes = [] } = await ec2.describeVolumes({ Filters: filters });
  return Volumes.map(volumeFacts).filter((v) => !GONE.includes(v.state));
}

export async function gatherMigration(ec2: EC2, id: InstanceIdentity, timeoutMs: number): Promise<MigrationFacts> {
  const raw = await findInstance(ec2, id, timeoutMs);
  const instance = instanceFacts(raw, id.name);
  const rootId = raw.BlockDeviceMappings?.find((b) => b.DeviceName === instance.rootDevice)?.Ebs?.VolumeId;
  const [root = null] = rootId === undefined ? [] : await volumes(ec2, [{ Name: 'volume-id', Values: [rootId] }]);
  const originalId = volumeToReplace(instance, root);
  if (originalId === null) return { instance, root, original: null, snapshots: [], volumes: [] };
  const byTag = [{ Name: `tag:${ENCRYPTS_TAG}`, Values: [originalId] }];
  const [[original = null], tagged, { Snapshots = [] }] = await Promise.all([
    originalId === root?.id ? Promise.resolve([root]) : volumes(ec2, [{ Name: 'volume-id', Values: [originalId] }]),
    volumes(ec2, byTag),
    ec2.describeSnapshots({ OwnerIds: ['self'], Filters: byTag }),
  ]);
  return { instance, root, original, snapshots: Snapshots.map(snapshotFacts), volumes: tagged };
}
