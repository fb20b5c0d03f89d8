// Pure: from what EC2 says about one instance, its root volume and the pieces of a migration (found by
// their tags), the steps still needed to put the instance on an encrypted copy of its root volume.
// Nothing is remembered on the controller: every run reads where the migration stands from EC2 itself,
// so a run killed at any step is finished by the next one, from any controller.
import { AwsError } from './errors.js';
import type { InstanceFacts, VolumeFacts } from './resources.js';
import type { SnapshotFacts } from './snapshot-tags.js';

/** On the instance: the last migration step done ("done" once finished). */
export const STATE_TAG = 'rplay:ebs-encrypt';
/** On the instance, the snapshots and the new volume: the unencrypted volume being replaced. */
export const ENCRYPTS_TAG = 'rplay:encrypts';
/** On the original volume, once replaced: the encrypted volume that replaced it. */
export const REPLACED_BY_TAG = 'rplay:replaced-by';
export const DONE = 'done';

/** The steps of a migration, in order: the state tag records the last one done. */
export const STEP_NAMES = ['discard', 'mark', 'stop', 'snapshot', 'copy', 'volume', 'detach', 'attach', 'start', 'finish'] as const;
export type StepName = (typeof STEP_NAMES)[number];

export interface MigrationFacts {
  /** Running or stopped (one in passing is waited for before a migration is planned). */
  instance: InstanceFacts;
  /** The volume attached (or attaching) at the root device; null when none is. */
  root: VolumeFacts | null;
  /** The volume being replaced, when a migration is under way or about to start; null when it is gone. */
  original: VolumeFacts | null;
  /** Snapshots tagged rplay:encrypts=<original>: the plain snapshot and its encrypted copy. */
  snapshots: SnapshotFacts[];
  /** Volumes tagged rplay:encrypts=<original>: the encrypted replacement. */
  volumes: VolumeFacts[];
}

/** Ids a step works on; `undefined` ids are made by an earlier step of the same run. */
export type MigrationStep = { name: StepName; description: string } & (
  | { kind: 'discard-volume'; volumeId: string }
  | { kind: 'discard-snapshot'; snapshotId: string }
  | { kind: 'mark'; originalId: string }
  | { kind: 'stop' }
  | { kind: 'snapshot'; volumeId: string; existing?: string }
  | { kind: 'copy'; snapshotId?: string; existing?: string }
  | { kind: 'volume'; snapshotId?: string; like: VolumeFacts; existing?: string }
  | { kind: 'detach'; volumeId: string; inFlight: boolean }
  | { kind: 'attach'; volumeId?: string; inFlight: boolean }
  | { kind: 'start'; inFlight: boolean }
  | { kind: 'finish'; originalId: string | null; volumeId?: string }
);

export interface PlanOptions {
  /** The KMS key of the encrypted copy (id, ARN or alias); undefined: the account's aws/ebs key. */
  kmsKeyId?: string;
  /** Where SSH is checked after the start, for the plan's words ("port 22 of its public address"); undefined: it is not. */
  sshWhere?: string;
}

function one<T extends { id: string }>(what: string, list: readonly T[]): T | null {
  if (list.length > 1) {
    throw new AwsError(`${list.length} ${what}s are tagged for this migration: ${list.map((x) => x.id).join(', ')}. Delete the extra one(s), then run again`);
  }
  return list[0] ?? null;
}

/** The migration in progress, by the instance's own tags; null when none is (never started, or done). */
export function migratingVolume(instance: InstanceFacts): string | null {
  const state = instance.tags[STATE_TAG];
  if (state === undefined || state === DONE) return null;
  const original = instance.tags[ENCRYPTS_TAG];
  if (original === undefined || original === '') {
    throw new AwsError(`instance ${instance.id} (${instance.name}) has tag ${STATE_TAG}=${state} but no ${ENCRYPTS_TAG}: remove ${STATE_TAG} by hand, then run again`);
  }
  return original;
}

/** The volume a migration would replace: the one under way, else an unencrypted root; null when there is nothing to do. */
export function volumeToReplace(instance: InstanceFacts, root: VolumeFacts | null): string | null {
  const under = migratingVolume(instance);
  if (under !== null) return under;
  if (root === null) {
    throw new AwsError(`instance ${instance.id} (${instance.name}) has no volume at its root device ${instance.rootDevice} and no migration is recorded on it: attach its root volume, then run again`);
  }
  return root.encrypted ? null : root.id;
}

const kmsText = (o: PlanOptions): string => o.kmsKeyId ?? 'the account\'s aws/ebs key';

/**
 * The steps still needed, in order; [] when the root volume is encrypted and no migration is under way.
 * Each step is detected as done from EC2's state: a snapshot or volume carrying the migration's tag,
 * the original volume detached, the new one at the root device, the instance running.
 */
export function planMigration(f: MigrationFacts, o: PlanOptions): MigrationStep[] {
  const { instance: i, root } = f;
  const originalId = volumeToReplace(i, root);
  if (originalId === null) return [];
  const inProgress = migratingVolume(i) !== null;
  const who = `${i.id} (${i.name})`;
  const steps: MigrationStep[] = [];
  const plain = one('unencrypted snapshot', f.snapshots.filter((s) => !s.encrypted));
  const copy = one('encrypted snapshot', f.snapshots.filter((s) => s.encrypted));
  const fresh = one('replacement volume', f.volumes);
  const finish = (volumeId: string | undefined): MigrationStep => ({
    name: 'finish',
    kind: 'finish',
    originalId: f.original === null ? null : originalId,
    volumeId,
    description: `CreateTags ${f.original === null ? '' : `${originalId} ${REPLACED_BY_TAG}=${volumeId ?? '<the new volume>'}; `}${i.id} ${STATE_TAG}=${DONE}`,
  });
  const startStep = (inFlight: boolean): MigrationStep => ({
    name: 'start',
    kind: 'start',
    inFlight,
    description: `${inFlight ? '' : `StartInstances ${who} and `}wait until it is running${o.sshWhere === undefined ? '' : ` and SSH answers on ${o.sshWhere}`}`,
  });

  // The root is already another volume than the original: only the start and the bookkeeping are left.
  if (root !== null && root.id !== originalId) {
    if (root.tags[ENCRYPTS_TAG] !== originalId || !root.encrypted) {
      throw new AwsError(
        `instance ${who} is migrating ${originalId} (tag ${ENCRYPTS_TAG}) but its root is ${root.id}, which is not that migration's encrypted volume: ` +
          `put the right volume back at ${i.rootDevice}, or remove the instance's ${STATE_TAG} tag if ${root.id} is meant to stay`,
      );
    }
    if (root.attachment?.state === 'attaching') steps.push({ name: 'attach', kind: 'attach', volumeId: root.id, inFlight: true, description: `wait until ${root.id} is attached to ${who}` });
    // The start step's tag is written once SSH answered: then only the bookkeeping is left.
    if (i.state !== 'running' || i.tags[STATE_TAG] !== 'start') steps.push(startStep(i.state === 'running'));
    steps.push(finish(root.id));
    return steps;
  }

  const original = f.original;
  if (original === null) throw new AwsError(`instance ${who} is migrating ${originalId}, which no longer exists: its data is gone from EC2's view, so rplay stops here`);
  if (fresh?.attachment !== undefined) {
    throw new AwsError(`${fresh.id}, the encrypted copy of ${originalId}, is attached to ${fresh.attachment.instanceId} at ${fresh.attachment.device}, not at ${who}'s root: detach it, then run again`);
  }
  // Pieces of an attempt the instance was started again after (it runs now, or ran since they were
  // made) hold an older state of the disk: using them would lose what was written meanwhile.
  const madeAt = [plain?.startTime, copy?.startTime, fresh?.createdAt].filter((t): t is string => t !== undefined && t !== '');
  const stale = i.state === 'running' || (i.launchedAt !== undefined && madeAt.some((t) => Date.parse(t) < Date.parse(i.launchedAt!)));
  if (stale) {
    if (fresh !== null) {
      steps.push({ name: 'discard', kind: 'discard-volume', volumeId: fresh.id, description: `DeleteVolume ${fresh.id} (made by an interrupted attempt from an older state of ${originalId})` });
    }
    for (const s of [copy, plain]) {
      if (s !== null) steps.push({ name: 'discard', kind: 'discard-snapshot', snapshotId: s.id, description: `DeleteSnapshot ${s.id} (made by an interrupted attempt from an older state of ${originalId})` });
    }
  }
  if (!inProgress) steps.push({ name: 'mark', kind: 'mark', originalId, description: `CreateTags ${i.id} ${STATE_TAG}=mark,${ENCRYPTS_TAG}=${originalId}` });
  if (i.state === 'running') steps.push({ name: 'stop', kind: 'stop', description: `StopInstances ${who} and wait until it is stopped` });

  const usable = (s: SnapshotFacts | null): SnapshotFacts | null => {
    if (s === null || stale) return null;
    if (s.state === 'error') throw new AwsError(`snapshot ${s.id} of this migration failed (state error): delete it, then run again`);
    return s;
  };
  const plainSnap = usable(plain);
  if (plainSnap?.state !== 'completed') {
    steps.push({
      name: 'snapshot',
      kind: 'snapshot',
      volumeId: originalId,
      existing: plainSnap?.id,
      description: plainSnap === null ? `CreateSnapshot ${originalId} (root of ${who}, stopped) and wait until it is completed` : `wait until snapshot ${plainSnap.id} of ${originalId} is completed`,
    });
  }
  const copySnap = usable(copy);
  if (copySnap?.state !== 'completed') {
    steps.push({
      name: 'copy',
      kind: 'copy',
      snapshotId: plainSnap?.id,
      existing: copySnap?.id,
      description:
        copySnap === null
          ? `CopySnapshot ${plainSnap?.id ?? '<the new snapshot>'} encrypted with ${kmsText(o)} and wait until it is completed`
          : `wait until the encrypted copy ${copySnap.id} is completed`,
    });
  }
  const vol = stale ? null : fresh;
  if (vol?.state === 'error') throw new AwsError(`volume ${vol.id} of this migration is in state error: delete it, then run again`);
  if (vol?.state !== 'available') {
    steps.push({
      name: 'volume',
      kind: 'volume',
      snapshotId: copySnap?.id,
      like: original,
      existing: vol?.id,
      description:
        vol === null
          ? `CreateVolume ${[original.type, `${original.size} GiB`].filter(Boolean).join(' ')} in ${i.az} from ${copySnap?.id ?? '<the encrypted copy>'}, encrypted with ${kmsText(o)}, and wait until it is available`
          : `wait until volume ${vol.id} is available`,
    });
  }
  const a = original.attachment;
  if (a !== undefined && a.instanceId === i.id) {
    const inFlight = a.state === 'detaching';
    steps.push({ name: 'detach', kind: 'detach', volumeId: originalId, inFlight, description: inFlight ? `wait until ${originalId} is detached from ${who}` : `DetachVolume ${originalId} from ${who} and wait until it is detached` });
  } else if (a !== undefined) {
    throw new AwsError(`${originalId}, the volume being replaced, is attached to another instance (${a.instanceId}): detach it, then run again`);
  }
  steps.push(
    { name: 'attach', kind: 'attach', volumeId: vol?.id, inFlight: false, description: `AttachVolume ${vol?.id ?? '<the new volume>'} to ${who} at ${i.rootDevice} and wait until it is attached` },
    startStep(false),
    finish(vol?.id),
  );
  return steps;
}
