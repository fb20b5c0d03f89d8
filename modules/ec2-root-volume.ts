import type { EC2 } from '@aws-sdk/client-ec2';
import { Type } from '@sinclair/typebox';
import { ec2Client } from './aws/client.js';
import { call, held, made, revealed, runEc2Operations, type Ec2Op, type Ec2Step, type HeldSettings, type Id } from './aws/ec2-operation.js';
import { AwsError } from './aws/errors.js';
import { awsArgs, awsSettings } from './aws/module-args.js';
import {
  attachCall,
  describeVolumes,
  detachCall,
  inPassing,
  instanceFacts,
  instancesByName,
  sshWait,
  startCall,
  stopCall,
  waitInstance,
  waitVolume,
  type InstanceFacts,
  type VolumeFacts,
} from './aws/resources.js';
import { snapshotsOf } from './aws/snapshot-lookup.js';
import { restorePoint, snapshotFacts, type SnapshotFacts } from './aws/snapshot-tags.js';
import { identityText, sdkTags, tagSpecifications, type TagMap } from './aws/tags.js';
import { defineModule, NotYetThere, type Change, type Plan, type Vars } from '../runner/types.js';

/** On a volume made by a restore, and on its instance: the snapshot it was made from. */
export const RESTORED_FROM = 'rplay:restored-from';
/** On the instance: the private address of the instance the snapshot was taken of (nodes.conf knows it by that). */
export const RESTORED_ADDRESS = 'rplay:restored-address';
/** On a volume made by a restore: the instance it is for (a run stopped half-way finds it again). */
const RESTORE_FOR = 'rplay:restore-for';
/** On a root volume a restore took off: the volume that replaced it (it is kept, never deleted). */
const REPLACED_BY = 'rplay:replaced-by';

const schema = Type.Object(
  {
    /** The instance (Name tag) whose root volume is replaced. */
    name: Type.String({ minLength: 1 }),
    project: Type.Optional(Type.String({ minLength: 1 })),
    /** Whose snapshots (Name tag of the instance snapshotted); default: name. DR: the primary's. */
    snapshot_of: Type.Optional(Type.String()),
    /** The snapshots' label; '' (default): the newest completed one. */
    label: Type.Optional(Type.String()),
    /** An explicit snapshot (snap-…) instead. */
    snapshot_id: Type.Optional(Type.String()),
    /** KMS key of the new volume (default: the snapshot's; an unencrypted snapshot gets aws/ebs). */
    kms_key_id: Type.Optional(Type.String()),
    volume_type: Type.Optional(Type.String({ minLength: 1 })),
    wait_ssh: Type.Optional(Type.Boolean()),
    ssh_port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    /** Seconds for each wait (default 900). */
    wait_timeout: Type.Optional(Type.Integer({ minimum: 1 })),
    ...awsArgs,
  },
  { additionalProperties: false },
);

type RootArgs = typeof schema.static;

export interface RootActual {
  aws: HeldSettings;
  region: string;
  instance: InstanceFacts | null;
  snapshot: SnapshotFacts | null;
  /** The volume at the instance's root device now. */
  root: VolumeFacts | null;
  /** A volume an earlier, interrupted run made from the snapshot for this instance. */
  spare: VolumeFacts | null;
}

const nonEmpty = (s: string | undefined): string | undefined => (s === undefined || s === '' ? undefined : s);
const timeoutMs = (args: RootArgs): number => (args.wait_timeout ?? 900) * 1000;

/** Whether the root volume already comes from the snapshot (then a run only makes sure the instance runs). */
export function isRestored(root: VolumeFacts | null, snapshotId: string): boolean {
  return root !== null && (root.tags[RESTORED_FROM] === snapshotId || root.snapshotId === snapshotId);
}

type Op = (...steps: Ec2Step[]) => Ec2Op;

function startChanges(args: RootArgs, inst: InstanceFacts, op: Op): Change<Ec2Op>[] {
  const changes: Change<Ec2Op>[] = [
    { description: `StartInstances ${inst.id}`, op: op(startCall(inst.id)) },
    { description: `wait until ${inst.id} is running`, op: op(waitInstance(inst.id, 'running')) },
  ];
  if (args.wait_ssh ?? true) {
    const port = args.ssh_port ?? 22;
    changes.push({ description: `wait until SSH answers on port ${port} of its public address`, op: op(sshWait(inst.id, { address: 'public', port })) });
  }
  return changes;
}

export function rootVolumePlan(args: RootArgs, actual: RootActual): Plan<Ec2Op> {
  const { instance: inst, snapshot: snap, root, spare } = actual;
  const of = nonEmpty(args.snapshot_of) ?? args.name;
  if (inst === null) throw new NotYetThere(`no instance is named ${identityText(args.name, args.project)} in ${actual.region}: launch it first (instances.yml)`, `instance ${args.name}`);
  if (snap === null) {
    const which = nonEmpty(args.snapshot_id) ?? `completed snapshot of ${of}${nonEmpty(args.label) === undefined ? '' : ` labelled ${args.label}`}`;
    throw new AwsError(`no ${which} in ${actual.region} to restore ${args.name} from: run backup.yml first${actual.region === 'us-east-1' ? '' : ' (or copy one here with dr.yml)'}`);
  }
  const op: Op = (...steps) => ({ kind: 'ec2', aws: revealed(actual.aws), timeoutMs: timeoutMs(args), steps });
  const planned = (changes: Change<Ec2Op>[]): Plan<Ec2Op> => ({
    changes,
    replan: changes.length > 0,
    msg: changes.length === 0 ? `the root of ${inst.id} comes from ${snap.id} and it runs` : undefined,
    result: resultOf(inst, snap),
  });
  // What comes next depends on where it lands: wait, then plan again.
  const passing = inPassing(inst);
  if (passing !== null) return planned([{ description: passing.description, op: op(waitInstance(inst.id, passing.until)), waitOnly: true }]);

  const restoredTags = { [RESTORED_FROM]: snap.id, ...(snap.address === null ? {} : { [RESTORED_ADDRESS]: snap.address }) };
  const tag: Change<Ec2Op> = {
    description: `CreateTags ${inst.id} ${RESTORED_FROM}=${snap.id}${snap.address === null ? '' : ` ${RESTORED_ADDRESS}=${snap.address}`}`,
    op: op(call('CreateTags', { Resources: [inst.id], Tags: sdkTags(restoredTags) })),
  };
  if (isRestored(root, snap.id)) {
    // A run stopped after the swap: what is left of it.
    return planned([
      ...(root?.attachment?.state === 'attaching' ? [{ description: 'wait until it is attached', op: op(waitVolume(root.id, 'attached')) }] : []),
      ...(inst.tags[RESTORED_FROM] === snap.id ? [] : [tag]),
      ...(inst.state === 'stopped' ? startChanges(args, inst, op) : []),
    ]);
  }

  const changes: Change<Ec2Op>[] = [];
  if (inst.state === 'running') {
    changes.push(
      { description: `StopInstances ${inst.id} (${args.name})`, op: op(stopCall(inst.id)) },
      { description: `wait until ${inst.id} is stopped`, op: op(waitInstance(inst.id, 'stopped')) },
    );
  }
  const kms = nonEmpty(args.kms_key_id);
  let volume: Id;
  if (spare === null) {
    const tags: TagMap = { Name: args.name, ...(args.project === undefined ? {} : { project: args.project }), [RESTORED_FROM]: snap.id, [RESTORE_FOR]: inst.id };
    volume = made('volume');
    changes.push(
      {
        description: `CreateVolume from ${snap.id} (${snap.of ?? '?'}, label ${snap.label ?? '?'}) in ${inst.az}, encrypted with ${kms ?? (snap.encrypted ? "the snapshot's key" : 'aws/ebs')}`,
        op: {
          ...op(
            call(
              'CreateVolume',
              {
                SnapshotId: snap.id,
                AvailabilityZone: inst.az,
                VolumeType: args.volume_type ?? 'gp3',
                Encrypted: true,
                ...(kms === undefined ? {} : { KmsKeyId: kms }),
                TagSpecifications: tagSpecifications(['volume'], tags),
              },
              { volume: 'VolumeId' },
            ),
          ),
          result: { volume_id: volume },
        },
      },
      { description: 'wait until the new volume is available', op: op(waitVolume(volume, 'available')) },
    );
  } else {
    volume = spare.id;
    if (spare.state !== 'available') changes.push({ description: `wait until ${spare.id} (made from ${snap.id} by an earlier run) is available`, op: op(waitVolume(spare.id, 'available')) });
  }
  if (root !== null) {
    // A run stopped right after DetachVolume leaves the old root detaching (or already detached).
    const a = root.attachment?.state;
    if (a === 'attached' || a === 'attaching') {
      changes.push({ description: `DetachVolume ${root.id} (the old root; kept, tagged ${REPLACED_BY})`, op: op(detachCall(root.id, inst.id)) });
    }
    changes.push({
      description: `wait until ${root.id} is detached`,
      op: op(waitVolume(root.id, 'available'), call('CreateTags', { Resources: [root.id], Tags: [{ Key: REPLACED_BY, Value: volume }] })),
    });
  }
  changes.push(
    { description: `AttachVolume at ${inst.rootDevice} of ${inst.id}`, op: op(attachCall(volume, inst.id, inst.rootDevice)) },
    { description: 'wait until it is attached', op: op(waitVolume(volume, 'attached')) },
    tag,
    ...startChanges(args, inst, op),
  );
  return planned(changes);
}

async function chooseSnapshot(ec2: EC2, args: RootArgs, inst: InstanceFacts | null): Promise<SnapshotFacts | null> {
  const id = nonEmpty(args.snapshot_id);
  if (id !== undefined) {
    const { Snapshots = [] } = await ec2.describeSnapshots({ Filters: [{ Name: 'snapshot-id', Values: [id] }] });
    const s = Snapshots[0];
    return s === undefined || s.State !== 'completed' ? null : snapshotFacts(s);
  }
  const of = nonEmpty(args.snapshot_of) ?? args.name;
  return restorePoint(await snapshotsOf(ec2, [of], args.project), of, inst?.rootDevice ?? '/dev/sda1', nonEmpty(args.label));
}

/**
 * The runbook's "restore from the latest EBS snapshot": the instance's root volume is one made from
 * rplay's newest snapshot of it (or of the label, or of another instance: disaster recovery), in
 * its zone, and the instance runs. Stop → CreateVolume → detach the old root (kept, tagged with
 * what replaced it) → attach at the root device → start → wait for SSH. A run stopped at any step
 * picks up where it stopped; an instance whose root already comes from that snapshot is ok. An
 * instance on its way (pending, stopping) is waited for as a step of the plan.
 */
export const ec2RootVolume = defineModule({
  name: 'ec2_root_volume',
  schema,
  async gather(ctx, args): Promise<RootActual> {
    const aws = awsSettings(args, ctx.vars);
    const ec2 = await ec2Client(aws);
    const inst = (await instancesByName(ec2, [args.name], args.project)).get(args.name) ?? null;
    const snapshot = await chooseSnapshot(ec2, args, inst);
    const base = { aws: held(aws), region: aws.region, instance: inst, snapshot };
    if (inst === null || snapshot === null) return { ...base, root: null, spare: null };
    const rootId = inst.volumes[inst.rootDevice];
    const [rootVolumes, spares] = await Promise.all([
      rootId === undefined ? Promise.resolve([]) : describeVolumes(ec2, [{ Name: 'volume-id', Values: [rootId] }]),
      describeVolumes(ec2, [{ Name: `tag:${RESTORE_FOR}`, Values: [inst.id] }, { Name: `tag:${RESTORED_FROM}`, Values: [snapshot.id] }, { Name: 'status', Values: ['creating', 'available'] }]),
    ]);
    return { ...base, root: rootVolumes[0] ?? null, spare: spares[0] ?? null };
  },
  plan: rootVolumePlan,
  async apply(ctx, ops) {
    const out = await runEc2Operations(ops, ctx.projectDir);
    const last = [...out.instances.values()].slice(-1)[0];
    const i = last === undefined ? undefined : instanceFacts(last);
    return { result: { ...out.result, ...(i === undefined ? {} : { state: i.state, private_ip: i.privateIp ?? null, public_ip: i.publicIp ?? null }) } };
  },
});

function resultOf(inst: InstanceFacts | null, snap: SnapshotFacts | null): Vars {
  return {
    ...(inst === null ? {} : { instance_id: inst.id, state: inst.state, private_ip: inst.privateIp ?? null, public_ip: inst.publicIp ?? null }),
    ...(snap === null ? {} : { snapshot_id: snap.id, label: snap.label }),
  };
}
