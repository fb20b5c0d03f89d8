// EBS snapshots: of a volume (pending → completed, Progress counting up), copied (encrypted on the way,
// or to another region), described, deleted.
import type {
  CopySnapshotRequest,
  CopySnapshotResult,
  CreateSnapshotRequest,
  DeleteSnapshotRequest,
  DescribeSnapshotsRequest,
  DescribeSnapshotsResult,
  Snapshot,
} from '@aws-sdk/client-ec2';
import type { SnapshotRecord } from '../account.js';
import type { Ec2Context } from '../context.js';
import { Ec2Error } from '../ec2-error.js';
import { encryptionFor } from '../encryption.js';
import { applyFilters } from '../filters.js';
import { newId } from '../ids.js';
import { snapshotVolume } from '../lifecycle/contents.js';
import { completeSnapshot, copySnapshot, deleteSnapshotContents } from '../lifecycle/storage.js';
import { noPagingWithIds, page } from '../paging.js';
import { find, findAll, required } from '../resources.js';
import { sdkTags, tagsFor } from '../tags.js';

function progress(ctx: Ec2Context, s: SnapshotRecord): string {
  if (s.state === 'completed') return '100%';
  const start = Date.parse(s.startedAt);
  const span = Date.parse(s.readyAt) - start;
  const done = span <= 0 ? 99 : Math.floor((100 * (ctx.now().getTime() - start)) / span);
  return `${Math.max(0, Math.min(99, done))}%`;
}

function snapshotView(ctx: Ec2Context, s: SnapshotRecord): Snapshot {
  return {
    SnapshotId: s.id,
    VolumeId: s.volumeId,
    State: s.state,
    StartTime: new Date(s.startedAt),
    Progress: progress(ctx, s),
    OwnerId: ctx.runtime.account.accountId,
    Description: s.description,
    VolumeSize: s.volumeSize,
    Encrypted: s.encrypted,
    KmsKeyId: s.kmsKeyId ?? undefined,
    StorageTier: 'standard',
    CompletionTime: s.completedAt === null ? undefined : new Date(s.completedAt),
    Tags: sdkTags(s.tags),
  };
}

function newSnapshot(ctx: Ec2Context, fields: Pick<SnapshotRecord, 'volumeId' | 'volumeSize' | 'description' | 'encrypted' | 'kmsKeyId' | 'tags' | 'copiedFrom'>): SnapshotRecord {
  const now = ctx.now();
  return {
    id: newId('snap'),
    ...fields,
    state: 'pending',
    startedAt: now.toISOString(),
    readyAt: new Date(now.getTime() + ctx.runtime.delays.snapshot).toISOString(),
    completedAt: null,
    hasData: false,
  };
}

/**
 * The volume's contents are copied before the call returns: a snapshot is the disk as it was when
 * taken, whatever is written afterwards. Only the completion waits (pending → completed).
 */
export async function CreateSnapshot(ctx: Ec2Context, input: CreateSnapshotRequest): Promise<Snapshot> {
  const vol = find(ctx.region, 'volumes', required(input.VolumeId, 'VolumeId'));
  if (vol.state === 'creating' || vol.state === 'deleting' || vol.state === 'error') {
    throw new Ec2Error('IncorrectState', `The volume '${vol.id}' is '${vol.state}'.`);
  }
  const snap = newSnapshot(ctx, {
    volumeId: vol.id,
    volumeSize: vol.size,
    description: input.Description ?? '',
    encrypted: vol.encrypted,
    kmsKeyId: vol.kmsKeyId,
    copiedFrom: null,
    tags: tagsFor(input.TagSpecifications, 'snapshot'),
  });
  await snapshotVolume(ctx.runtime, ctx.regionName, vol, snap);
  ctx.region.snapshots[snap.id] = snap;
  ctx.changed();
  completeSnapshot(ctx.runtime, snap);
  return snapshotView(ctx, snap);
}

export function CopySnapshot(ctx: Ec2Context, input: CopySnapshotRequest): CopySnapshotResult {
  const sourceRegionName = required(input.SourceRegion, 'SourceRegion');
  const sourceRegion = ctx.runtime.account.regions[sourceRegionName];
  if (sourceRegion === undefined) throw new Ec2Error('InvalidParameterValue', `Invalid region: ${sourceRegionName}`);
  const source = find(sourceRegion, 'snapshots', required(input.SourceSnapshotId, 'SourceSnapshotId'));
  if (source.state !== 'completed') throw new Ec2Error('IncorrectState', `Snapshot is in invalid state - ${source.state}`);
  const enc = encryptionFor(ctx, { encrypted: input.Encrypted, kmsKeyId: input.KmsKeyId }, source, sourceRegionName !== ctx.regionName);
  const snap = newSnapshot(ctx, {
    // EC2 gives copies this placeholder volume id.
    volumeId: 'vol-ffffffff',
    volumeSize: source.volumeSize,
    description: input.Description ?? `[Copied ${source.id} from ${sourceRegionName}]`,
    encrypted: enc.encrypted,
    kmsKeyId: enc.kmsKeyId,
    copiedFrom: { region: sourceRegionName, snapshotId: source.id },
    tags: tagsFor(input.TagSpecifications, 'snapshot'),
  });
  ctx.region.snapshots[snap.id] = snap;
  ctx.changed();
  copySnapshot(ctx.runtime, { region: sourceRegionName, snap: source }, { region: ctx.regionName, snap });
  return { SnapshotId: snap.id, Tags: sdkTags(snap.tags) };
}

export function DeleteSnapshot(ctx: Ec2Context, input: DeleteSnapshotRequest): object {
  const snap = find(ctx.region, 'snapshots', required(input.SnapshotId, 'SnapshotId'));
  delete ctx.region.snapshots[snap.id];
  ctx.changed();
  deleteSnapshotContents(ctx.runtime, ctx.regionName, snap.id);
  return {};
}

export function DescribeSnapshots(ctx: Ec2Context, input: DescribeSnapshotsRequest): DescribeSnapshotsResult {
  noPagingWithIds(input.SnapshotIds, input.MaxResults, 'snapshotIds');
  const ids = input.SnapshotIds;
  let records = ids?.length ? findAll(ctx.region, 'snapshots', ids) : Object.values(ctx.region.snapshots);
  // Every snapshot here is the account's own: owners other than it (or 'self') select none.
  if (input.OwnerIds?.length && !input.OwnerIds.some((o) => o === 'self' || o === ctx.runtime.account.accountId)) records = [];
  const matching = applyFilters(records, input.Filters, {
    'snapshot-id': (s) => [s.id],
    'volume-id': (s) => [s.volumeId],
    status: (s) => [s.state],
    description: (s) => [s.description],
    encrypted: (s) => [String(s.encrypted)],
    'kms-key-id': (s) => [s.kmsKeyId],
    'owner-id': () => [ctx.runtime.account.accountId],
    progress: (s) => [progress(ctx, s)],
    'start-time': (s) => [s.startedAt],
    'volume-size': (s) => [s.volumeSize],
    'storage-tier': () => ['standard'],
  });
  const p = page(matching, input.MaxResults, input.NextToken);
  return { Snapshots: p.items.map((s) => snapshotView(ctx, s)), NextToken: p.nextToken };
}
