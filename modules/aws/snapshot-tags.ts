// The tags that make a snapshot rplay's: which instance and device it is of, under which label
// (a date or a run id), when, and the instance's private address then (a cluster restored on new
// addresses maps its nodes.conf from it). Pruning and restores select snapshots by these tags only,
// so a snapshot someone took by hand is never touched.
import type { Snapshot } from '@aws-sdk/client-ec2';
import { tagMap, type TagMap } from './tags.js';

export const SNAPSHOT_OF = 'rplay:snapshot-of';
export const LABEL = 'rplay:label';
export const DEVICE = 'rplay:device';
export const CREATED = 'rplay:created';
export const ADDRESS = 'rplay:address';
/** On a copy: "<region>/<snapshot id>" of the snapshot it was copied from. */
export const COPIED_FROM = 'rplay:copied-from';

/** A label names a backup in tags, snapshot names and folder names: no spaces, no slashes. */
export const LABEL_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:+-]{0,99}$';

/** What rplay reads from one of its snapshots. */
export interface SnapshotFacts {
  id: string;
  state: string;
  /** ISO time EC2 started it. */
  startTime: string;
  /** The instance (Name tag) it is of; null on a snapshot rplay did not make. */
  of: string | null;
  device: string | null;
  label: string | null;
  address: string | null;
  copiedFrom: string | null;
  project: string | null;
  encrypted: boolean;
  volumeSize: number;
  tags: TagMap;
}

export function snapshotFacts(s: Snapshot): SnapshotFacts {
  const tags = tagMap(s.Tags);
  return {
    id: s.SnapshotId ?? '?',
    state: s.State ?? 'unknown',
    startTime: s.StartTime instanceof Date ? s.StartTime.toISOString() : String(s.StartTime ?? ''),
    of: tags[SNAPSHOT_OF] ?? null,
    device: tags[DEVICE] ?? null,
    label: tags[LABEL] ?? null,
    address: tags[ADDRESS] ?? null,
    copiedFrom: tags[COPIED_FROM] ?? null,
    project: tags.project ?? null,
    encrypted: s.Encrypted ?? false,
    volumeSize: s.VolumeSize ?? 0,
    tags,
  };
}

/** "redis-node-1a-2024-05-01", with the device for a volume that is not the root. */
export function snapshotName(instance: string, device: string, rootDevice: string, label: string): string {
  const dev = device === rootDevice ? '' : `-${device.replace(/^\/dev\//, '')}`;
  return `${instance}${dev}-${label}`;
}

/** The tags of a new snapshot of one volume of an instance. */
export function newSnapshotTags(o: {
  instance: string;
  device: string;
  rootDevice: string;
  label: string;
  project?: string;
  address?: string;
  created: Date;
  extra?: TagMap;
}): TagMap {
  return {
    ...o.extra,
    Name: snapshotName(o.instance, o.device, o.rootDevice, o.label),
    ...(o.project === undefined ? {} : { project: o.project }),
    [SNAPSHOT_OF]: o.instance,
    [DEVICE]: o.device,
    [LABEL]: o.label,
    [CREATED]: o.created.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...(o.address === undefined ? {} : { [ADDRESS]: o.address }),
  };
}

/** One series: every snapshot of one device of one instance. */
export function seriesKey(s: Pick<SnapshotFacts, 'of' | 'device'>): string {
  return `${s.of ?? '?'} ${s.device ?? '?'}`;
}

/** Newest first (start time, then id so the order is total). */
export function newestFirst(a: SnapshotFacts, b: SnapshotFacts): number {
  return b.startTime.localeCompare(a.startTime) || b.id.localeCompare(a.id);
}

/**
 * The snapshot to restore an instance from: the newest completed one of `of`'s root device (of
 * `label` when given), or null.
 */
export function restorePoint(snaps: readonly SnapshotFacts[], of: string, rootDevice: string, label?: string): SnapshotFacts | null {
  const fits = snaps.filter((s) => s.of === of && (s.device === null || s.device === rootDevice) && s.state === 'completed' && (label === undefined || s.label === label));
  return [...fits].sort(newestFirst)[0] ?? null;
}
