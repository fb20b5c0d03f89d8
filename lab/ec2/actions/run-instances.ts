// RunInstances: checks everything first (image, type, network, key, block devices, capacity), then
// records the instances and their volumes as pending; lifecycle/instances.ts takes them to running.
import type { BlockDeviceMapping, Reservation, RunInstancesRequest } from '@aws-sdk/client-ec2';
import type { InstanceRecord, RegionState, SnapshotRecord, SubnetRecord, VolumeRecord } from '../account.js';
import { cidrOrFail, toAddress, usableAddresses } from '../cidr.js';
import type { Ec2Context } from '../context.js';
import { Ec2Error } from '../ec2-error.js';
import { encryptionFor } from '../encryption.js';
import type { BackingHost } from '../host-provider.js';
import { newId } from '../ids.js';
import { restoreSnapshot } from '../lifecycle/contents.js';
import { launchInstance } from '../lifecycle/instances.js';
import { find, findAll, required } from '../resources.js';
import { tagsFor } from '../tags.js';
import { imageById } from './images.js';
import { instanceView } from './instance-view.js';
import { keyPairByName } from './key-pairs.js';

const INSTANCE_TYPE = /^(m1|t2|t3|t3a|t4g|m5|m6i|m7i|c5|c6i|c7i|r5|r6i)\.(nano|micro|small|medium|large|xlarge|\d+xlarge)$/;

function instanceTypeArchitecture(type: string): 'x86_64' | 'arm64' {
  if (!INSTANCE_TYPE.test(type)) throw new Ec2Error('InvalidParameterValue', `Invalid value '${type}' for InstanceType.`);
  return type.startsWith('t4g.') ? 'arm64' : 'x86_64';
}

/** Hosts of every region's live instances: a lab host backs at most one instance in the whole account. */
function hostsInUse(ctx: Ec2Context): Set<string> {
  const used = new Set<string>();
  for (const region of Object.values(ctx.runtime.account.regions)) {
    for (const i of Object.values(region.instances)) if (i.host !== null && i.state !== 'terminated') used.add(i.host);
  }
  return used;
}

function nextPrivateIp(region: RegionState, subnet: SubnetRecord): string {
  const used = new Set(Object.values(region.instances).filter((i) => i.subnetId === subnet.id && i.state !== 'terminated').map((i) => i.privateIp));
  const { first, last } = usableAddresses(cidrOrFail(subnet.cidr, 'cidrBlock'));
  for (let n = first; n <= last; n++) if (!used.has(toAddress(n))) return toAddress(n);
  throw new Ec2Error('InsufficientFreeAddressesInSubnet', `There are not enough free addresses in subnet '${subnet.id}' to satisfy the requested number of instances.`);
}

/** Without lab hosts, public addresses come from 198.18.0.0/15 (a range no one routes). */
export function newPublicIp(ctx: Ec2Context, inst: InstanceRecord): string {
  if (inst.host !== null && ctx.runtime.hosts !== null) {
    const host = ctx.runtime.hosts.hosts().find((h) => h.name === inst.host);
    if (host !== undefined) return host.address;
  }
  const n = ctx.region.publicIpsIssued++;
  return toAddress(198 * 2 ** 24 + 18 * 2 ** 16 + (n % 2 ** 17) + 1);
}

function networkOf(ctx: Ec2Context, input: RunInstancesRequest): { subnet: SubnetRecord; groupIds: string[] } {
  const eni = input.NetworkInterfaces?.find((n) => (n.DeviceIndex ?? 0) === 0);
  const subnetId = input.SubnetId ?? eni?.SubnetId;
  if (subnetId === undefined) throw new Ec2Error('VPCIdNotSpecified', 'No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.');
  const subnet = find(ctx.region, 'subnets', subnetId);
  if (input.SecurityGroups?.length) {
    throw new Ec2Error('InvalidParameterCombination', 'The parameter groupName cannot be used with the parameter subnet');
  }
  let groupIds = [...(input.SecurityGroupIds ?? []), ...(eni?.Groups ?? [])];
  if (groupIds.length === 0) {
    const fallback = Object.values(ctx.region.securityGroups).find((g) => g.vpcId === subnet.vpcId && g.name === 'default');
    groupIds = fallback === undefined ? [] : [fallback.id];
  }
  for (const g of findAll(ctx.region, 'securityGroups', groupIds)) {
    if (g.vpcId !== subnet.vpcId) throw new Ec2Error('InvalidParameter', `Security group ${g.id} and subnet ${subnet.id} belong to different networks.`);
  }
  if (input.Placement?.AvailabilityZone !== undefined && input.Placement.AvailabilityZone !== subnet.az) {
    throw new Ec2Error('InvalidParameterValue', `Value (${input.Placement.AvailabilityZone}) for parameter availabilityZone is invalid. Subnet '${subnet.id}' is in the availability zone ${subnet.az}`);
  }
  return { subnet, groupIds: [...new Set(groupIds)] };
}

interface VolumePlan {
  device: string;
  mapping: BlockDeviceMapping | undefined;
  size: number;
  snapshotId: string | null;
}

/** The volumes each new instance gets: the image's root (as overridden), plus any extra EBS mappings. */
function volumePlans(input: RunInstancesRequest, root: { device: string; snapshotId: string; size: number }): VolumePlan[] {
  const mappings = input.BlockDeviceMappings ?? [];
  const rootMapping = mappings.find((m) => m.DeviceName === root.device);
  const size = rootMapping?.Ebs?.VolumeSize ?? root.size;
  if (size < root.size) {
    throw new Ec2Error('InvalidBlockDeviceMapping', `Volume of size ${size}GB is smaller than snapshot '${root.snapshotId}', expect size >= ${root.size}GB`);
  }
  const plans: VolumePlan[] = [{ device: root.device, mapping: rootMapping, size, snapshotId: root.snapshotId }];
  for (const m of mappings) {
    if (m === rootMapping || m.Ebs === undefined || m.NoDevice !== undefined) continue;
    const device = required(m.DeviceName, 'BlockDeviceMapping.DeviceName');
    const volumeSize = m.Ebs.VolumeSize;
    if (volumeSize === undefined && m.Ebs.SnapshotId === undefined) throw new Ec2Error('InvalidBlockDeviceMapping', `The device '${device}' needs a VolumeSize or a SnapshotId`);
    plans.push({ device, mapping: m, size: volumeSize ?? 8, snapshotId: m.Ebs.SnapshotId ?? null });
  }
  return plans;
}

function existingReservation(ctx: Ec2Context, token: string | undefined): Reservation | null {
  if (token === undefined) return null;
  const same = Object.values(ctx.region.instances).filter((i) => i.clientToken === token);
  if (same.length === 0) return null;
  return { ReservationId: same[0].reservationId, OwnerId: ctx.runtime.account.accountId, Groups: [], Instances: same.map((i) => instanceView(ctx, i)) };
}

export function RunInstances(ctx: Ec2Context, input: RunInstancesRequest): Reservation {
  // A retried call with the same client token gets the first call's instances, not new ones.
  const earlier = existingReservation(ctx, input.ClientToken);
  if (earlier !== null) return earlier;
  const image = imageById(ctx, required(input.ImageId, 'ImageId'));
  const min = required(input.MinCount, 'MinCount');
  const max = required(input.MaxCount, 'MaxCount');
  if (min < 1 || max < min) throw new Ec2Error('InvalidParameterValue', `Invalid MinCount/MaxCount: ${min}/${max}`);
  const type = input.InstanceType ?? 'm1.small';
  const architecture = instanceTypeArchitecture(type);
  if (architecture !== image.architecture) {
    throw new Ec2Error('InvalidParameterValue', `The architecture '${architecture}' of the specified instance type does not match the architecture '${image.architecture}' of the specified AMI.`);
  }
  const { subnet, groupIds } = networkOf(ctx, input);
  const key = input.KeyName === undefined ? null : keyPairByName(ctx, input.KeyName);
  const plans = volumePlans(input, { device: '/dev/sda1', snapshotId: image.rootSnapshotId, size: image.rootSize });
  const instanceTags = tagsFor(input.TagSpecifications, 'instance', ['instance', 'volume', 'network-interface']);
  const volumeTags = tagsFor(input.TagSpecifications, 'volume', ['instance', 'volume', 'network-interface']);
  const encryption = plans.map((p) => encryptionFor(ctx, { encrypted: p.mapping?.Ebs?.Encrypted, kmsKeyId: p.mapping?.Ebs?.KmsKeyId }, null));
  for (const p of plans.slice(1)) if (p.snapshotId !== null) find(ctx.region, 'snapshots', p.snapshotId);

  const { hosts } = ctx.runtime;
  let count = max;
  let free: BackingHost[] = [];
  if (hosts !== null) {
    const used = hostsInUse(ctx);
    free = hosts.hosts().filter((h) => !used.has(h.name));
    if (free.length < min) {
      throw new Ec2Error('InsufficientInstanceCapacity', `We currently do not have sufficient ${type} capacity in the Availability Zone you requested (${subnet.az}): the lab has ${free.length} free host(s) for ${min} instance(s). Run \`rplay lab up --hosts N\` with more hosts.`);
    }
    count = Math.min(max, free.length);
  }

  const reservationId = newId('r');
  const now = ctx.now().toISOString();
  const launched: InstanceRecord[] = [];
  const restoreOnLaunch: { inst: InstanceRecord; vol: VolumeRecord; snap: SnapshotRecord }[] = [];
  for (let n = 0; n < count; n++) {
    const host = hosts === null ? null : free[n];
    const inst: InstanceRecord = {
      id: newId('i'),
      reservationId,
      imageId: image.id,
      type,
      architecture,
      state: 'pending',
      keyName: key?.name ?? null,
      subnetId: subnet.id,
      vpcId: subnet.vpcId,
      az: subnet.az,
      privateIp: host?.address ?? nextPrivateIp(ctx.region, subnet),
      publicIp: null,
      networkInterfaceId: newId('eni'),
      securityGroupIds: groupIds,
      rootDeviceName: '/dev/sda1',
      launchIndex: n,
      launchedAt: now,
      clientToken: input.ClientToken ?? null,
      host: host?.name ?? null,
      needsInstall: host !== null,
      transitionReason: '',
      stateReason: null,
      terminatedAt: null,
      tags: instanceTags.map((t) => ({ ...t })),
    };
    inst.publicIp = newPublicIp(ctx, inst);
    ctx.region.instances[inst.id] = inst;
    plans.forEach((p, k) => {
      const vol: VolumeRecord = {
        id: newId('vol'),
        az: subnet.az,
        size: p.size,
        type: p.mapping?.Ebs?.VolumeType ?? 'gp3',
        iops: p.mapping?.Ebs?.Iops ?? null,
        throughput: p.mapping?.Ebs?.Throughput ?? null,
        encrypted: encryption[k].encrypted,
        kmsKeyId: encryption[k].kmsKeyId,
        snapshotId: p.snapshotId,
        state: 'in-use',
        createdAt: now,
        attachment: { instanceId: inst.id, device: p.device, state: 'attached', attachedAt: now, deleteOnTermination: p.mapping?.Ebs?.DeleteOnTermination ?? true },
        hasData: false,
        dataOn: null,
        tags: volumeTags.map((t) => ({ ...t })),
      };
      ctx.region.volumes[vol.id] = vol;
      const snap = k === 0 || p.snapshotId === null ? undefined : ctx.region.snapshots[p.snapshotId];
      if (snap !== undefined) restoreOnLaunch.push({ inst, vol, snap });
    });
    launched.push(inst);
  }
  ctx.changed();
  for (const r of restoreOnLaunch) ctx.runtime.jobs.enqueue(r.inst.id, () => restoreSnapshot(ctx.runtime, ctx.regionName, r.snap, r.vol));
  for (const inst of launched) launchInstance(ctx.runtime, ctx.regionName, ctx.region, inst, key?.publicKey ?? null);
  return {
    ReservationId: reservationId,
    OwnerId: ctx.runtime.account.accountId,
    Groups: [],
    Instances: launched.map((i) => instanceView(ctx, i)),
  };
}
