// The EC2 calls behind each planned step of an ebs_encrypt migration, each followed by its wait, and the
// instance's progress tag once the step is done. A step reads the ids earlier steps of the same run made
// (the new snapshot, its copy, the new volume) from the shared state.
import { randomUUID } from 'node:crypto';
import type { EC2, VolumeType } from '@aws-sdk/client-ec2';
import { DONE, ENCRYPTS_TAG, REPLACED_BY_TAG, STATE_TAG, type InstanceFacts, type MigrationStep, type VolumeFacts } from './ebs-encrypt-plan.js';
import { describeInstance, instanceFacts, settleInstance, volumeFacts } from './ebs-encrypt-facts.js';
import { AwsError } from './errors.js';
import { made } from './steps.js';
import { sdkTags, tagSpecifications, type TagMap } from './tags.js';
import { poll, waitForSsh } from './wait.js';

export interface MigrationSettings {
  region: string;
  kmsKeyId?: string;
  timeoutMs: number;
  /** Where to check SSH after the start; null: do not wait for SSH. */
  ssh: { address: 'public' | 'private'; port: number } | null;
}

export interface MigrationState {
  instance: InstanceFacts;
  snapshotId?: string;
  copyId?: string;
  volumeId?: string;
}

const WAIT = { firstDelayMs: 100, maxDelayMs: 5000 };

async function waitSnapshot(ec2: EC2, id: string, s: MigrationSettings): Promise<void> {
  await poll(
    `snapshot ${id} to be completed`,
    async (seen) => {
      const snap = (await ec2.describeSnapshots({ SnapshotIds: [id] })).Snapshots?.[0];
      seen.last = `${snap?.State ?? 'missing'} ${snap?.Progress ?? ''}`.trim();
      if (snap?.State === 'error') throw new AwsError(`snapshot ${id} failed (state error)${snap.StateMessage ? `: ${snap.StateMessage}` : ''}`);
      return snap?.State === 'completed' ? true : null;
    },
    { timeoutMs: s.timeoutMs, ...WAIT },
  );
}

/** Polls the volume until `done` holds for it. */
async function waitVolume(ec2: EC2, id: string, what: string, done: (v: VolumeFacts) => boolean, s: MigrationSettings): Promise<void> {
  await poll(
    `volume ${id} to be ${what}`,
    async (seen) => {
      const raw = (await ec2.describeVolumes({ VolumeIds: [id] })).Volumes?.[0];
      if (raw === undefined) throw new AwsError(`volume ${id} is gone`);
      const v = volumeFacts(raw);
      seen.last = v.attachment === undefined ? v.state : `${v.state}, ${v.attachment.state} to ${v.attachment.instanceId}`;
      if (v.state === 'error') throw new AwsError(`volume ${id} is in state error`);
      return done(v) ? true : null;
    },
    { timeoutMs: s.timeoutMs, ...WAIT },
  );
}

/** The original's own tags (Name, project…) for its replacement, without rplay's bookkeeping or AWS's reserved ones. */
function carriedTags(like: VolumeFacts, name: string, originalId: string): TagMap {
  const own = Object.fromEntries(Object.entries(like.tags).filter(([k]) => !k.startsWith('rplay:') && !k.startsWith('aws:')));
  return { ...own, Name: like.tags.Name ?? `${name} root`, [ENCRYPTS_TAG]: originalId };
}

const PROVISIONED = ['gp3', 'io1', 'io2'];

async function tagProgress(ec2: EC2, st: MigrationState, value: string): Promise<void> {
  await ec2.createTags({ Resources: [st.instance.id], Tags: sdkTags({ [STATE_TAG]: value }) });
  st.instance.tags[STATE_TAG] = value;
}

async function runStep(ec2: EC2, step: MigrationStep, st: MigrationState, s: MigrationSettings): Promise<void> {
  const i = st.instance;
  const who = `${i.id} (${i.name})`;
  const originalId = i.tags[ENCRYPTS_TAG];
  switch (step.kind) {
    case 'discard-volume':
      await ec2.deleteVolume({ VolumeId: step.volumeId });
      return;
    case 'discard-snapshot':
      await ec2.deleteSnapshot({ SnapshotId: step.snapshotId });
      return;
    case 'mark':
      await ec2.createTags({ Resources: [i.id], Tags: sdkTags({ [STATE_TAG]: 'mark', [ENCRYPTS_TAG]: step.originalId }) });
      Object.assign(i.tags, { [STATE_TAG]: 'mark', [ENCRYPTS_TAG]: step.originalId });
      return;
    case 'stop':
      await ec2.stopInstances({ InstanceIds: [i.id] });
      st.instance = { ...i, ...instanceFacts(await settleInstance(ec2, i.id, who, ['stopped'], s.timeoutMs), i.name) };
      break;
    case 'snapshot': {
      const id =
        step.existing ??
        made(
          (
            await ec2.createSnapshot({
              VolumeId: step.volumeId,
              Description: `${i.name} root ${step.volumeId}, unencrypted (rplay ebs_encrypt)`,
              TagSpecifications: tagSpecifications(['snapshot'], { Name: `${i.name} root (unencrypted)`, [ENCRYPTS_TAG]: step.volumeId }),
            })
          ).SnapshotId,
          'the new snapshot id',
        );
      st.snapshotId = id;
      await waitSnapshot(ec2, id, s);
      break;
    }
    case 'copy': {
      const source = step.snapshotId ?? made(st.snapshotId, 'the snapshot to copy');
      const id =
        step.existing ??
        made(
          (
            await ec2.copySnapshot({
              SourceRegion: s.region,
              SourceSnapshotId: source,
              Encrypted: true,
              ...(s.kmsKeyId === undefined ? {} : { KmsKeyId: s.kmsKeyId }),
              Description: `${i.name} root ${originalId}, encrypted (rplay ebs_encrypt)`,
              TagSpecifications: tagSpecifications(['snapshot'], { Name: `${i.name} root (encrypted)`, [ENCRYPTS_TAG]: made(originalId, 'the volume being replaced') }),
            })
          ).SnapshotId,
          'the encrypted copy id',
        );
      st.copyId = id;
      await waitSnapshot(ec2, id, s);
      break;
    }
    case 'volume': {
      const { like } = step;
      const provisioned = like.type !== undefined && PROVISIONED.includes(like.type);
      const id =
        step.existing ??
        made(
          (
            await ec2.createVolume({
              AvailabilityZone: i.az,
              SnapshotId: step.snapshotId ?? made(st.copyId, 'the encrypted copy'),
              Size: like.size,
              ...(like.type === undefined ? {} : { VolumeType: like.type as VolumeType }),
              ...(provisioned && like.iops !== undefined ? { Iops: like.iops } : {}),
              ...(like.type === 'gp3' && like.throughput !== undefined ? { Throughput: like.throughput } : {}),
              Encrypted: true,
              ...(s.kmsKeyId === undefined ? {} : { KmsKeyId: s.kmsKeyId }),
              TagSpecifications: tagSpecifications(['volume'], carriedTags(like, i.name, like.id)),
              // The SDK resends the same token when it retries: EC2 then answers with the same volume.
              ClientToken: randomUUID(),
            })
          ).VolumeId,
          'the new volume id',
        );
      st.volumeId = id;
      await waitVolume(ec2, id, 'available', (v) => v.state === 'available', s);
      break;
    }
    case 'detach':
      if (!step.inFlight) await ec2.detachVolume({ VolumeId: step.volumeId, InstanceId: i.id });
      await waitVolume(ec2, step.volumeId, 'detached', (v) => v.state === 'available', s);
      break;
    case 'attach': {
      const id = step.volumeId ?? made(st.volumeId, 'the new volume');
      if (!step.inFlight) await ec2.attachVolume({ VolumeId: id, InstanceId: i.id, Device: i.rootDevice });
      st.volumeId = id;
      await waitVolume(ec2, id, `attached to ${i.id}`, (v) => v.attachment?.state === 'attached', s);
      break;
    }
    case 'start': {
      if (!step.inFlight) await ec2.startInstances({ InstanceIds: [i.id] });
      st.instance = { ...i, ...instanceFacts(await settleInstance(ec2, i.id, who, ['running'], s.timeoutMs), i.name) };
      if (s.ssh !== null) {
        const address = s.ssh.address === 'public' ? (st.instance.publicIp ?? st.instance.privateIp) : st.instance.privateIp;
        if (address === undefined) throw new AwsError(`instance ${who} has no ${s.ssh.address} address to check SSH on`);
        await waitForSsh(address, s.ssh.port, s.timeoutMs);
      }
      break;
    }
    case 'finish': {
      const volumeId = step.volumeId ?? made(st.volumeId, 'the new volume');
      if (step.originalId !== null) await ec2.createTags({ Resources: [step.originalId], Tags: sdkTags({ [REPLACED_BY_TAG]: volumeId }) });
      await tagProgress(ec2, st, DONE);
      return;
    }
  }
  await tagProgress(ec2, st, step.name);
}

/** Runs the steps in order; returns the state they leave (the instance as last described). */
export async function runMigration(ec2: EC2, steps: readonly MigrationStep[], instance: InstanceFacts, s: MigrationSettings): Promise<MigrationState> {
  const st: MigrationState = { instance: { ...instance, tags: { ...instance.tags } } };
  for (const step of steps) await runStep(ec2, step, st, s);
  return st;
}

/** The instance's root volume now, for the module's result. */
export async function currentRoot(ec2: EC2, instanceId: string): Promise<VolumeFacts | null> {
  const i = await describeInstance(ec2, instanceId);
  const id = i.BlockDeviceMappings?.find((b) => b.DeviceName === i.RootDeviceName)?.Ebs?.VolumeId;
  if (id === undefined) return null;
  const v = (await ec2.describeVolumes({ VolumeIds: [id] })).Volumes?.[0];
  return v === undefined ? null : volumeFacts(v);
}
