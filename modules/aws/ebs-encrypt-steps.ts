// The EC2 calls behind each planned step of an ebs_encrypt migration, each followed by its wait and
// the instance's progress tag, as one operation per step. What an earlier step of the same apply
// makes (the new snapshot, its copy, the new volume) a later one names by { $made }.
import { DONE, ENCRYPTS_TAG, REPLACED_BY_TAG, STATE_TAG, type MigrationStep } from './ebs-encrypt-plan.js';
import type { AwsSettings } from './client.js';
import { call, made, makingCall, type Ec2Op, type Ec2Step, type Id } from './ec2-operation.js';
import { attachCall, detachCall, sshWait, startCall, stopCall, waitInstance, waitVolume, type InstanceFacts, type SshCheck, type VolumeFacts } from './resources.js';
import { sdkTags, tagSpecifications, type TagMap } from './tags.js';

export interface MigrationSettings {
  aws: AwsSettings;
  kmsKeyId?: string;
  timeoutMs: number;
  /** Where to check SSH after the start; null: do not wait for SSH. */
  ssh: SshCheck | null;
}

/** The original's own tags (Name, project…) for its replacement, without rplay's bookkeeping or AWS's reserved ones. */
function carriedTags(like: VolumeFacts, name: string, originalId: string): TagMap {
  const own = Object.fromEntries(Object.entries(like.tags).filter(([k]) => !k.startsWith('rplay:') && !k.startsWith('aws:')));
  return { ...own, Name: like.tags.Name ?? `${name} root`, [ENCRYPTS_TAG]: originalId };
}

const PROVISIONED = ['gp3', 'io1', 'io2'];

const tagged = (id: string, tags: TagMap): Ec2Step => call('CreateTags', { Resources: [id], Tags: sdkTags(tags) });

function stepCalls(step: MigrationStep, i: InstanceFacts, originalId: string, s: MigrationSettings): Ec2Step[] {
  const kms = s.kmsKeyId === undefined ? {} : { KmsKeyId: s.kmsKeyId };
  switch (step.kind) {
    case 'discard-volume':
      return [call('DeleteVolume', { VolumeId: step.volumeId })];
    case 'discard-snapshot':
      return [call('DeleteSnapshot', { SnapshotId: step.snapshotId })];
    case 'mark':
      return [tagged(i.id, { [STATE_TAG]: 'mark', [ENCRYPTS_TAG]: step.originalId })];
    case 'stop':
      return [stopCall(i.id), waitInstance(i.id, 'stopped')];
    case 'snapshot': {
      if (step.existing !== undefined) return [{ do: 'wait-snapshots', ids: [step.existing] }];
      const params = {
        VolumeId: step.volumeId,
        Description: `${i.name} root ${step.volumeId}, unencrypted (rplay ebs_encrypt)`,
        TagSpecifications: tagSpecifications(['snapshot'], { Name: `${i.name} root (unencrypted)`, [ENCRYPTS_TAG]: step.volumeId }),
      };
      return [call('CreateSnapshot', params, { snapshot: 'SnapshotId' }), { do: 'wait-snapshots', ids: [made('snapshot')] }];
    }
    case 'copy': {
      if (step.existing !== undefined) return [{ do: 'wait-snapshots', ids: [step.existing] }];
      const params = {
        SourceRegion: s.aws.region,
        SourceSnapshotId: step.snapshotId ?? made('snapshot'),
        Encrypted: true,
        ...kms,
        Description: `${i.name} root ${originalId}, encrypted (rplay ebs_encrypt)`,
        TagSpecifications: tagSpecifications(['snapshot'], { Name: `${i.name} root (encrypted)`, [ENCRYPTS_TAG]: originalId }),
      };
      return [call('CopySnapshot', params, { copy: 'SnapshotId' }), { do: 'wait-snapshots', ids: [made('copy')] }];
    }
    case 'volume': {
      if (step.existing !== undefined) return [waitVolume(step.existing, 'available')];
      const { like } = step;
      const provisioned = like.type !== undefined && PROVISIONED.includes(like.type);
      const params = {
        AvailabilityZone: i.az,
        SnapshotId: step.snapshotId ?? made('copy'),
        Size: like.size,
        ...(like.type === undefined ? {} : { VolumeType: like.type }),
        ...(provisioned && like.iops !== undefined ? { Iops: like.iops } : {}),
        ...(like.type === 'gp3' && like.throughput !== undefined ? { Throughput: like.throughput } : {}),
        Encrypted: true,
        ...kms,
        TagSpecifications: tagSpecifications(['volume'], carriedTags(like, i.name, like.id)),
      };
      return [makingCall('CreateVolume', params, { volume: 'VolumeId' }), waitVolume(made('volume'), 'available')];
    }
    case 'detach':
      return [...(step.inFlight ? [] : [detachCall(step.volumeId, i.id)]), waitVolume(step.volumeId, 'available')];
    case 'attach': {
      const id: Id = step.volumeId ?? made('volume');
      return [...(step.inFlight ? [] : [attachCall(id, i.id, i.rootDevice)]), waitVolume(id, 'attached')];
    }
    case 'start':
      return [...(step.inFlight ? [] : [startCall(i.id)]), waitInstance(i.id, 'running'), ...(s.ssh === null ? [] : [sshWait(i.id, s.ssh)])];
    case 'finish': {
      const volumeId: Id = step.volumeId ?? made('volume');
      return [...(step.originalId === null ? [] : [call('CreateTags', { Resources: [step.originalId], Tags: [{ Key: REPLACED_BY_TAG, Value: volumeId }] })]), tagged(i.id, { [STATE_TAG]: DONE })];
    }
  }
}

/** The step's operation: its calls and waits, then the instance's progress tag (the mark and the finish are tags themselves). */
export function migrationOp(step: MigrationStep, i: InstanceFacts, originalId: string, s: MigrationSettings): Ec2Op {
  const steps = stepCalls(step, i, originalId, s);
  const progress = step.kind === 'mark' || step.kind === 'finish' || step.name === 'discard' ? [] : [tagged(i.id, { [STATE_TAG]: step.name })];
  const op: Ec2Op = { kind: 'ec2', aws: s.aws, timeoutMs: s.timeoutMs, steps: [...steps, ...progress] };
  if (step.kind !== 'finish') return op;
  const volumeId: Id = step.volumeId ?? made('volume');
  return {
    ...op,
    msg: [volumeId, ` (encrypted with ${s.kmsKeyId ?? "the account's aws/ebs key"}) replaced ${originalId} at ${i.rootDevice} of ${i.id} (${i.name})`],
    result: { root_volume_id: volumeId, encrypted: true, migration: DONE, original_volume_id: originalId },
  };
}
