// The EC2 resources the instance modules share (ec2_instance, ec2_root_volume, ebs_encrypt,
// ec2_snapshot): an instance and a volume as gathered (described once, never waited for), and the
// planned steps on them — stop, start, wait for a state, detach and attach a root volume — as
// operation steps (ec2-operation.ts) each module puts under its own words.
import type { EC2, Instance, Volume } from '@aws-sdk/client-ec2';
import { AwsError } from './errors.js';
import { call, type Ec2Step, type Id } from './ec2-operation.js';
import { identityFilters, identityText, tagMap, type TagMap } from './tags.js';

/** An instance as EC2 describes it. */
export interface InstanceFacts {
  /** Its Name tag ('' when it has none). */
  name: string;
  id: string;
  /** pending, running, stopping, stopped (live ones; shutting-down, terminated otherwise). */
  state: string;
  az: string;
  privateIp?: string;
  publicIp?: string;
  rootDevice: string;
  /** device → volume id, as attached now. */
  volumes: Record<string, string>;
  /** ISO time of the last start (EC2's LaunchTime moves with every start). */
  launchedAt?: string;
  /** Why EC2 moved it last (a launch that failed). */
  stateReason?: string;
  tags: TagMap;
}

/** A volume as EC2 describes it. */
export interface VolumeFacts {
  id: string;
  /** creating, available, in-use, deleting, error. */
  state: string;
  encrypted: boolean;
  kmsKeyId?: string;
  az: string;
  size: number;
  type?: string;
  iops?: number;
  throughput?: number;
  /** The snapshot it was made from. */
  snapshotId?: string;
  attachment?: { instanceId: string; device: string; state: string };
  /** ISO time. */
  createdAt?: string;
  tags: TagMap;
}

export const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];
/** The states EC2 moves an instance out of by itself, and where each lands. */
export const IN_PASSING: Readonly<Record<string, 'running' | 'stopped'>> = { pending: 'running', stopping: 'stopped' };

export function instanceFacts(i: Instance): InstanceFacts {
  const volumes: Record<string, string> = {};
  for (const m of i.BlockDeviceMappings ?? []) if (m.DeviceName !== undefined && m.Ebs?.VolumeId !== undefined) volumes[m.DeviceName] = m.Ebs.VolumeId;
  const tags = tagMap(i.Tags);
  return {
    name: tags.Name ?? '',
    id: i.InstanceId ?? '?',
    state: i.State?.Name ?? 'unknown',
    az: i.Placement?.AvailabilityZone ?? '?',
    ...(i.PrivateIpAddress === undefined ? {} : { privateIp: i.PrivateIpAddress }),
    ...(i.PublicIpAddress === undefined ? {} : { publicIp: i.PublicIpAddress }),
    rootDevice: i.RootDeviceName ?? '/dev/sda1',
    volumes,
    ...(i.LaunchTime === undefined ? {} : { launchedAt: new Date(i.LaunchTime).toISOString() }),
    ...(i.StateReason?.Message === undefined ? {} : { stateReason: i.StateReason.Message }),
    tags,
  };
}

export function volumeFacts(v: Volume): VolumeFacts {
  const a = v.Attachments?.[0];
  return {
    id: v.VolumeId ?? '?',
    state: v.State ?? 'unknown',
    encrypted: v.Encrypted ?? false,
    ...(v.KmsKeyId === undefined ? {} : { kmsKeyId: v.KmsKeyId }),
    az: v.AvailabilityZone ?? '?',
    size: v.Size ?? 0,
    ...(v.VolumeType === undefined ? {} : { type: v.VolumeType }),
    ...(v.Iops === undefined ? {} : { iops: v.Iops }),
    ...(v.Throughput === undefined ? {} : { throughput: v.Throughput }),
    ...(v.SnapshotId === undefined || v.SnapshotId === '' ? {} : { snapshotId: v.SnapshotId }),
    ...(a === undefined ? {} : { attachment: { instanceId: a.InstanceId ?? '?', device: a.Device ?? '?', state: a.State ?? '?' } }),
    ...(v.CreateTime === undefined ? {} : { createdAt: new Date(v.CreateTime).toISOString() }),
    tags: tagMap(v.Tags),
  };
}

/** The live instances with this Name (+ project) tag, any number: what to do about two is the module's to say. */
export async function instancesNamed(ec2: EC2, name: string, project: string | undefined): Promise<InstanceFacts[]> {
  const r = await ec2.describeInstances({ Filters: [...identityFilters(name, project), { Name: 'instance-state-name', Values: LIVE_STATES }] });
  return (r.Reservations ?? []).flatMap((x) => x.Instances ?? []).map(instanceFacts);
}

/**
 * The live (not terminated) instance of each name, in one call; null for a name no instance has. Two
 * instances with one name are an error naming both: which one is meant is for a person to say.
 */
export async function instancesByName(ec2: EC2, names: readonly string[], project: string | undefined): Promise<Map<string, InstanceFacts | null>> {
  const out = new Map<string, InstanceFacts | null>(names.map((n) => [n, null]));
  if (names.length === 0) return out;
  const r = await ec2.describeInstances({
    Filters: [{ Name: 'tag:Name', Values: [...names] }, ...(project === undefined ? [] : [{ Name: 'tag:project', Values: [project] }]), { Name: 'instance-state-name', Values: LIVE_STATES }],
  });
  const found = (r.Reservations ?? []).flatMap((x) => x.Instances ?? []).map(instanceFacts);
  for (const name of names) {
    const same = found.filter((i) => i.name === name);
    if (same.length > 1) {
      throw new AwsError(`${same.length} instances are named ${identityText(name, project)}: ${same.map((i) => i.id).join(', ')}. Terminate or rename the extra one(s), then run again`);
    }
    if (same[0] !== undefined) out.set(name, same[0]);
  }
  return out;
}

export async function describeVolumes(ec2: EC2, filters: { Name: string; Values: string[] }[]): Promise<VolumeFacts[]> {
  const { Volumes = [] } = await ec2.describeVolumes({ Filters: filters });
  return Volumes.map(volumeFacts);
}

// The steps on an instance and its root volume, as every module plans them.

export const waitInstance = (id: Id, until: 'running' | 'stopped'): Ec2Step => ({ do: 'wait-instance', id, until });
export const waitVolume = (id: Id, until: 'available' | 'attached'): Ec2Step => ({ do: 'wait-volume', id, until });
export const startCall = (id: Id): Ec2Step => call('StartInstances', { InstanceIds: [id] });
export const stopCall = (id: Id): Ec2Step => call('StopInstances', { InstanceIds: [id] });
export const detachCall = (volume: Id, instance: Id): Ec2Step => call('DetachVolume', { VolumeId: volume, InstanceId: instance });
export const attachCall = (volume: Id, instance: Id, device: string): Ec2Step => call('AttachVolume', { VolumeId: volume, InstanceId: instance, Device: device });

/** How a module that starts an instance checks it is reachable; null: it does not. */
export interface SshCheck {
  address: 'public' | 'private';
  port: number;
}

export const sshWait = (instance: Id, ssh: SshCheck): Ec2Step => ({ do: 'wait-ssh', instance, address: ssh.address, port: ssh.port });

/** "i-1 is pending; would wait for running": what a plan (and check mode) says of an instance in passing. */
export function inPassing(i: InstanceFacts): { until: 'running' | 'stopped'; description: string } | null {
  const until = IN_PASSING[i.state];
  return until === undefined ? null : { until, description: `wait until ${i.id} (${i.name}) is ${until} (it is ${i.state})` };
}
