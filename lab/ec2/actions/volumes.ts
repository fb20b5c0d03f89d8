// EBS volumes: create (blank or from a snapshot), attach in the same zone at a free device, detach
// (never a running instance's root), delete when available.
import type {
  AttachVolumeRequest,
  CreateVolumeRequest,
  DeleteVolumeRequest,
  DescribeVolumesRequest,
  DescribeVolumesResult,
  DetachVolumeRequest,
  Volume,
  VolumeAttachment,
} from '@aws-sdk/client-ec2';
import type { VolumeRecord } from '../account.js';
import { zonesOf } from '../catalog.js';
import type { Ec2Context } from '../context.js';
import { Ec2Error } from '../ec2-error.js';
import { encryptionFor } from '../encryption.js';
import { applyFilters } from '../filters.js';
import { newId } from '../ids.js';
import { volumesOf } from '../lifecycle/instances.js';
import { attachVolume, createVolume, deleteVolume, detachVolume } from '../lifecycle/storage.js';
import { noPagingWithIds, page } from '../paging.js';
import { find, findAll, required } from '../resources.js';
import { sdkTags, tagsFor } from '../tags.js';

const VOLUME_TYPES = ['standard', 'gp2', 'gp3', 'io1', 'io2', 'st1', 'sc1'];

function iopsOf(v: VolumeRecord): number | undefined {
  if (v.iops !== null) return v.iops;
  if (v.type === 'gp3') return 3000;
  if (v.type === 'gp2') return Math.min(16000, Math.max(100, 3 * v.size));
  return undefined;
}

function attachmentView(v: VolumeRecord): VolumeAttachment | undefined {
  const a = v.attachment;
  if (a === null) return undefined;
  return { VolumeId: v.id, InstanceId: a.instanceId, Device: a.device, State: a.state, AttachTime: new Date(a.attachedAt), DeleteOnTermination: a.deleteOnTermination };
}

export function volumeView(ctx: Ec2Context, v: VolumeRecord): Volume {
  const attachment = attachmentView(v);
  return {
    VolumeId: v.id,
    Size: v.size,
    SnapshotId: v.snapshotId ?? '',
    AvailabilityZone: v.az,
    AvailabilityZoneId: zonesOf(ctx.regionName).find((z) => z.name === v.az)?.id,
    State: v.state,
    CreateTime: new Date(v.createdAt),
    Attachments: attachment === undefined ? [] : [attachment],
    VolumeType: v.type as Volume['VolumeType'],
    Iops: iopsOf(v),
    Throughput: v.type === 'gp3' ? (v.throughput ?? 125) : undefined,
    Encrypted: v.encrypted,
    KmsKeyId: v.kmsKeyId ?? undefined,
    MultiAttachEnabled: false,
    Tags: sdkTags(v.tags),
  };
}

export function CreateVolume(ctx: Ec2Context, input: CreateVolumeRequest): Volume {
  const zones = zonesOf(ctx.regionName);
  const zone = zones.find((z) => z.name === input.AvailabilityZone || z.id === input.AvailabilityZoneId);
  if (zone === undefined) {
    required(input.AvailabilityZone ?? input.AvailabilityZoneId, 'AvailabilityZone');
    throw new Ec2Error('InvalidParameterValue', `Value (${input.AvailabilityZone ?? input.AvailabilityZoneId}) for parameter availabilityZone is invalid.`);
  }
  const snap = input.SnapshotId === undefined ? null : find(ctx.region, 'snapshots', input.SnapshotId);
  if (snap !== null && snap.state !== 'completed') throw new Ec2Error('IncorrectState', `Snapshot is in invalid state - ${snap.state}`);
  if (input.Size === undefined && snap === null) throw new Ec2Error('MissingParameter', 'The request must contain the parameter size or snapshotId');
  const size = input.Size ?? snap!.volumeSize;
  if (size < 1 || size > 16384) throw new Ec2Error('InvalidParameterValue', `Volume size ${size} is out of range (1-16384 GiB)`);
  if (snap !== null && size < snap.volumeSize) {
    throw new Ec2Error('InvalidParameterValue', `Volume of ${size}GiB is smaller than snapshot '${snap.id}', expect size >= ${snap.volumeSize}GiB`);
  }
  const type = input.VolumeType ?? 'gp2';
  if (!VOLUME_TYPES.includes(type)) throw new Ec2Error('InvalidParameterValue', `Value (${type}) for parameter volumeType is invalid.`);
  const enc = encryptionFor(ctx, { encrypted: input.Encrypted, kmsKeyId: input.KmsKeyId }, snap);
  const vol: VolumeRecord = {
    id: newId('vol'),
    az: zone.name,
    size,
    type,
    iops: input.Iops ?? null,
    throughput: input.Throughput ?? null,
    encrypted: enc.encrypted,
    kmsKeyId: enc.kmsKeyId,
    snapshotId: snap?.id ?? null,
    state: 'creating',
    createdAt: ctx.now().toISOString(),
    attachment: null,
    hasData: false,
    dataOn: null,
    tags: tagsFor(input.TagSpecifications, 'volume'),
  };
  ctx.region.volumes[vol.id] = vol;
  ctx.changed();
  createVolume(ctx.runtime, ctx.regionName, vol, snap);
  return volumeView(ctx, vol);
}

export function AttachVolume(ctx: Ec2Context, input: AttachVolumeRequest): VolumeAttachment {
  const vol = find(ctx.region, 'volumes', required(input.VolumeId, 'VolumeId'));
  const inst = find(ctx.region, 'instances', required(input.InstanceId, 'InstanceId'));
  const device = required(input.Device, 'Device');
  if (vol.attachment !== null) throw new Ec2Error('VolumeInUse', `${vol.id} is already attached to an instance`);
  if (vol.state !== 'available') throw new Ec2Error('IncorrectState', `vol '${vol.id}' is not 'available'.`);
  if (inst.state !== 'running' && inst.state !== 'stopped') {
    throw new Ec2Error('IncorrectInstanceState', `Instance '${inst.id}' is not 'running' or 'stopped'.`);
  }
  if (vol.az !== inst.az) {
    throw new Ec2Error('InvalidVolume.ZoneMismatch', `The volume '${vol.id}' is not in the same availability zone as instance '${inst.id}'`);
  }
  if (!/^\/dev\/(sd[a-z][1-9]?|xvd[a-z])$/.test(device)) throw new Ec2Error('InvalidParameterValue', `Value (${device}) for parameter device is invalid. ${device} is not a valid EBS device name.`);
  if (volumesOf(ctx.region, inst).some((v) => v.attachment?.device === device)) {
    throw new Ec2Error('InvalidParameterValue', `Invalid value '${device}' for unixDevice. Attachment point ${device} is already in use`);
  }
  if (device === inst.rootDeviceName && inst.state !== 'stopped') {
    throw new Ec2Error('IncorrectInstanceState', `The instance '${inst.id}' must be stopped to attach a root volume at ${device}.`);
  }
  vol.attachment = { instanceId: inst.id, device, state: 'attaching', attachedAt: ctx.now().toISOString(), deleteOnTermination: false };
  vol.state = 'in-use';
  ctx.changed();
  attachVolume(ctx.runtime, ctx.regionName, vol, inst);
  return attachmentView(vol)!;
}

export function DetachVolume(ctx: Ec2Context, input: DetachVolumeRequest): VolumeAttachment {
  const vol = find(ctx.region, 'volumes', required(input.VolumeId, 'VolumeId'));
  const a = vol.attachment;
  if (a === null) throw new Ec2Error('IncorrectState', `Volume '${vol.id}' is in the '${vol.state}' state.`);
  if (input.InstanceId !== undefined && input.InstanceId !== a.instanceId) {
    throw new Ec2Error('InvalidAttachment.NotFound', `Volume '${vol.id}' is not attached to instance '${input.InstanceId}'`);
  }
  if (input.Device !== undefined && input.Device !== a.device) {
    throw new Ec2Error('InvalidAttachment.NotFound', `Volume '${vol.id}' is not attached at '${input.Device}'`);
  }
  if (a.state !== 'attached') throw new Ec2Error('IncorrectState', `Volume '${vol.id}' is in the '${a.state}' state.`);
  const inst = find(ctx.region, 'instances', a.instanceId);
  if (a.device === inst.rootDeviceName && inst.state !== 'stopped') {
    throw new Ec2Error('IncorrectState', `Unable to detach root volume '${vol.id}' from instance '${inst.id}'`);
  }
  a.state = 'detaching';
  ctx.changed();
  detachVolume(ctx.runtime, ctx.regionName, vol, inst);
  return attachmentView(vol)!;
}

export function DeleteVolume(ctx: Ec2Context, input: DeleteVolumeRequest): object {
  const vol = find(ctx.region, 'volumes', required(input.VolumeId, 'VolumeId'));
  if (vol.attachment !== null) throw new Ec2Error('VolumeInUse', `Volume ${vol.id} is currently attached to ${vol.attachment.instanceId}`);
  if (vol.state !== 'available' && vol.state !== 'error') throw new Ec2Error('IncorrectState', `The volume '${vol.id}' is '${vol.state}'.`);
  vol.state = 'deleting';
  ctx.changed();
  deleteVolume(ctx.runtime, ctx.regionName, ctx.region, vol);
  return {};
}

export function DescribeVolumes(ctx: Ec2Context, input: DescribeVolumesRequest): DescribeVolumesResult {
  noPagingWithIds(input.VolumeIds, input.MaxResults, 'volumeIds');
  const ids = input.VolumeIds;
  const records = ids?.length ? findAll(ctx.region, 'volumes', ids) : Object.values(ctx.region.volumes);
  const matching = applyFilters(records, input.Filters, {
    'volume-id': (v) => [v.id],
    status: (v) => [v.state],
    'availability-zone': (v) => [v.az],
    'attachment.instance-id': (v) => [v.attachment?.instanceId],
    'attachment.device': (v) => [v.attachment?.device],
    'attachment.status': (v) => [v.attachment?.state],
    'attachment.delete-on-termination': (v) => [v.attachment === null ? null : String(v.attachment.deleteOnTermination)],
    encrypted: (v) => [String(v.encrypted)],
    'kms-key-id': (v) => [v.kmsKeyId],
    size: (v) => [v.size],
    'snapshot-id': (v) => [v.snapshotId],
    'volume-type': (v) => [v.type],
  });
  const p = page(matching, input.MaxResults, input.NextToken, { min: 5, max: 500 });
  return { Volumes: p.items.map((v) => volumeView(ctx, v)), NextToken: p.nextToken };
}
