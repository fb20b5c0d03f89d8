// Instances found by their Name tags (+ project tag) in one DescribeInstances call, with the volumes
// attached to each: what snapshots, restores and backups of a node start from.
import type { EC2, Instance } from '@aws-sdk/client-ec2';
import { AwsError } from './errors.js';
import { identityText, tagMap, type TagMap } from './tags.js';

export interface NamedInstance {
  name: string;
  id: string;
  state: string;
  az: string;
  privateIp?: string;
  publicIp?: string;
  rootDevice: string;
  /** device → volume id, as attached now. */
  volumes: Record<string, string>;
  tags: TagMap;
}

const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];

export function namedInstance(name: string, i: Instance): NamedInstance {
  const volumes: Record<string, string> = {};
  for (const m of i.BlockDeviceMappings ?? []) if (m.DeviceName !== undefined && m.Ebs?.VolumeId !== undefined) volumes[m.DeviceName] = m.Ebs.VolumeId;
  return {
    name,
    id: i.InstanceId ?? '?',
    state: i.State?.Name ?? 'unknown',
    az: i.Placement?.AvailabilityZone ?? '?',
    ...(i.PrivateIpAddress === undefined ? {} : { privateIp: i.PrivateIpAddress }),
    ...(i.PublicIpAddress === undefined ? {} : { publicIp: i.PublicIpAddress }),
    rootDevice: i.RootDeviceName ?? '/dev/sda1',
    volumes,
    tags: tagMap(i.Tags),
  };
}

/**
 * The live (not terminated) instance of each name; null for a name no instance has. Two instances
 * with one name are an error naming both: which one is meant is for a person to say.
 */
export async function instancesByName(ec2: EC2, names: readonly string[], project: string | undefined): Promise<Map<string, NamedInstance | null>> {
  const out = new Map<string, NamedInstance | null>(names.map((n) => [n, null]));
  if (names.length === 0) return out;
  const r = await ec2.describeInstances({
    Filters: [
      { Name: 'tag:Name', Values: [...names] },
      ...(project === undefined ? [] : [{ Name: 'tag:project', Values: [project] }]),
      { Name: 'instance-state-name', Values: LIVE_STATES },
    ],
  });
  const found = (r.Reservations ?? []).flatMap((x) => x.Instances ?? []);
  for (const name of names) {
    const same = found.filter((i) => tagMap(i.Tags).Name === name);
    if (same.length > 1) {
      throw new AwsError(`${same.length} instances are named ${identityText(name, project)}: ${same.map((i) => i.InstanceId).join(', ')}. Terminate or rename the extra one(s), then run again`);
    }
    if (same[0] !== undefined) out.set(name, namedInstance(name, same[0]));
  }
  return out;
}
