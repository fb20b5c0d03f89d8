import type { EC2, Volume, VolumeType } from '@aws-sdk/client-ec2';
import { Type } from '@sinclair/typebox';
import { ec2Client } from './aws/client.js';
import { AwsError } from './aws/errors.js';
import { invalidateInventoryCache, projectCacheDir } from './aws/inventory-cache.js';
import { instancesByName, type NamedInstance } from './aws/instances-by-name.js';
import { awsArgs, awsSettings } from './aws/module-args.js';
import { settleInstance, settleVolume } from './aws/settle.js';
import { snapshotsOf } from './aws/snapshot-lookup.js';
import { restorePoint, snapshotFacts, type SnapshotFacts } from './aws/snapshot-tags.js';
import { made, planOf, runSteps, type Step } from './aws/steps.js';
import { identityText, sdkTags, tagMap, tagSpecifications, type TagMap } from './aws/tags.js';
import { waitForSsh } from './aws/wait.js';
import { defineModule, NotYetThere, type Vars } from '../runner/types.js';

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

interface VolumeFacts {
  id: string;
  state: string;
  snapshotId: string | null;
  tags: TagMap;
  /** Its attachment's state (attaching, attached, detaching), null when it is attached nowhere. */
  attachment: string | null;
}

export interface RootActual {
  region: string;
  instance: NamedInstance | null;
  snapshot: SnapshotFacts | null;
  /** The volume at the instance's root device now. */
  root: VolumeFacts | null;
  /** A volume an earlier, interrupted run made from the snapshot for this instance. */
  spare: VolumeFacts | null;
}

interface RootState {
  volumeId?: string;
  instance?: NamedInstance;
}

const nonEmpty = (s: string | undefined): string | undefined => (s === undefined || s === '' ? undefined : s);
const timeoutMs = (args: RootArgs): number => (args.wait_timeout ?? 900) * 1000;

/** Whether the root volume already comes from the snapshot (then a run only makes sure the instance runs). */
export function isRestored(root: VolumeFacts | null, snapshotId: string): boolean {
  return root !== null && (root.tags[RESTORED_FROM] === snapshotId || root.snapshotId === snapshotId);
}

function startSteps(args: RootArgs, inst: NamedInstance): Step<RootState>[] {
  const steps: Step<RootState>[] = [
    { description: `StartInstances ${inst.id}`, run: async (ec2) => void (await ec2.startInstances({ InstanceIds: [inst.id] })) },
    {
      description: `wait until ${inst.id} is running`,
      run: async (ec2, s) => void (s.instance = await settleInstance(ec2, inst.id, args.name, ['running'], timeoutMs(args))),
    },
  ];
  if (args.wait_ssh ?? true) {
    const port = args.ssh_port ?? 22;
    steps.push({
      description: `wait until SSH answers on port ${port} of its public address`,
      async run(_ec2, s) {
        const i = made(s.instance, 'the started instance');
        const address = i.publicIp ?? i.privateIp;
        if (address === undefined) throw new AwsError(`instance ${i.id} (${args.name}) has no address to check SSH on`);
        await waitForSsh(address, port, timeoutMs(args));
      },
    });
  }
  return steps;
}

/** Waits for the new root's attachment: the volume made in this run, or `id` from an earlier one. */
function attachedWait(args: RootArgs, id?: string): Step<RootState> {
  return {
    description: 'wait until it is attached',
    run: async (ec2, s) => void (await settleVolume(ec2, id ?? made(s.volumeId, 'the new volume'), 'attached', (v) => v.Attachments?.[0]?.State === 'attached', timeoutMs(args))),
  };
}

export function rootVolumeSteps(args: RootArgs, actual: RootActual): Step<RootState>[] {
  const { instance: inst, snapshot: snap, root, spare } = actual;
  const of = nonEmpty(args.snapshot_of) ?? args.name;
  if (inst === null) throw new NotYetThere(`no instance is named ${identityText(args.name, args.project)} in ${actual.region}: launch it first (instances.yml)`, `instance ${args.name}`);
  if (snap === null) {
    const which = nonEmpty(args.snapshot_id) ?? `completed snapshot of ${of}${nonEmpty(args.label) === undefined ? '' : ` labelled ${args.label}`}`;
    throw new AwsError(`no ${which} in ${actual.region} to restore ${args.name} from: run backup.yml first${actual.region === 'us-east-1' ? '' : ' (or copy one here with dr.yml)'}`);
  }
  const tag: Step<RootState> = {
    description: `CreateTags ${inst.id} ${RESTORED_FROM}=${snap.id}${snap.address === null ? '' : ` ${RESTORED_ADDRESS}=${snap.address}`}`,
    run: async (ec2) =>
      void (await ec2.createTags({ Resources: [inst.id], Tags: sdkTags({ [RESTORED_FROM]: snap.id, ...(snap.address === null ? {} : { [RESTORED_ADDRESS]: snap.address }) }) })),
  };
  if (isRestored(root, snap.id)) {
    // A run stopped after the swap: what is left of it.
    return [
      ...(root?.attachment === 'attaching' ? [attachedWait(args, root.id)] : []),
      ...(inst.tags[RESTORED_FROM] === snap.id ? [] : [tag]),
      ...(inst.state === 'stopped' ? startSteps(args, inst) : []),
    ];
  }

  const steps: Step<RootState>[] = [];
  if (inst.state === 'running') {
    steps.push(
      { description: `StopInstances ${inst.id} (${args.name})`, run: async (ec2) => void (await ec2.stopInstances({ InstanceIds: [inst.id] })) },
      { description: `wait until ${inst.id} is stopped`, run: async (ec2) => void (await settleInstance(ec2, inst.id, args.name, ['stopped'], timeoutMs(args))) },
    );
  }
  const kms = nonEmpty(args.kms_key_id);
  if (spare === null) {
    const tags: TagMap = { Name: args.name, ...(args.project === undefined ? {} : { project: args.project }), [RESTORED_FROM]: snap.id, [RESTORE_FOR]: inst.id };
    steps.push({
      description: `CreateVolume from ${snap.id} (${snap.of ?? '?'}, label ${snap.label ?? '?'}) in ${inst.az}, encrypted with ${kms ?? (snap.encrypted ? "the snapshot's key" : 'aws/ebs')}`,
      async run(ec2, s) {
        const r = await ec2.createVolume({
          SnapshotId: snap.id,
          AvailabilityZone: inst.az,
          VolumeType: (args.volume_type ?? 'gp3') as VolumeType,
          Encrypted: true,
          ...(kms === undefined ? {} : { KmsKeyId: kms }),
          TagSpecifications: tagSpecifications(['volume'], tags),
        });
        s.volumeId = made(r.VolumeId, 'the new volume id');
      },
    });
  } else {
    steps.push({ description: `use ${spare.id} (made from ${snap.id} by an earlier run)`, run: async (_ec2, s) => void (s.volumeId = spare.id) });
  }
  steps.push({
    description: 'wait until the new volume is available',
    run: async (ec2, s) => void (await settleVolume(ec2, made(s.volumeId, 'the new volume'), 'available', (v) => v.State === 'available', timeoutMs(args))),
  });
  if (root !== null) {
    // A run stopped right after DetachVolume leaves the old root detaching (or already detached).
    if (root.attachment === 'attached' || root.attachment === 'attaching') {
      steps.push({ description: `DetachVolume ${root.id} (the old root; kept, tagged ${REPLACED_BY})`, run: async (ec2) => void (await ec2.detachVolume({ VolumeId: root.id, InstanceId: inst.id })) });
    }
    steps.push(
      {
        description: `wait until ${root.id} is detached`,
        async run(ec2, s) {
          await settleVolume(ec2, root.id, 'available', (v) => v.State === 'available', timeoutMs(args));
          await ec2.createTags({ Resources: [root.id], Tags: sdkTags({ [REPLACED_BY]: made(s.volumeId, 'the new volume') }) });
        },
      },
    );
  }
  steps.push(
    {
      description: `AttachVolume at ${inst.rootDevice} of ${inst.id}`,
      run: async (ec2, s) => void (await ec2.attachVolume({ VolumeId: made(s.volumeId, 'the new volume'), InstanceId: inst.id, Device: inst.rootDevice })),
    },
    attachedWait(args),
    tag,
    ...startSteps(args, inst),
  );
  return steps;
}

function volumeFacts(v: Volume): VolumeFacts {
  return { id: v.VolumeId ?? '?', state: v.State ?? 'unknown', snapshotId: nonEmpty(v.SnapshotId) ?? null, tags: tagMap(v.Tags), attachment: v.Attachments?.[0]?.State ?? null };
}

async function chooseSnapshot(ec2: EC2, args: RootArgs, inst: NamedInstance | null): Promise<SnapshotFacts | null> {
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
 * picks up where it stopped; an instance whose root already comes from that snapshot is ok.
 */
export const ec2RootVolume = defineModule({
  name: 'ec2_root_volume',
  schema,
  async gather(ctx, args): Promise<RootActual> {
    const settings = awsSettings(args, ctx.vars);
    const ec2 = await ec2Client(settings);
    let inst = (await instancesByName(ec2, [args.name], args.project)).get(args.name) ?? null;
    // A state in passing is waited out: the plan is made from where it lands.
    if (inst !== null && (inst.state === 'pending' || inst.state === 'stopping')) inst = await settleInstance(ec2, inst.id, args.name, ['running', 'stopped'], timeoutMs(args));
    const snapshot = await chooseSnapshot(ec2, args, inst);
    if (inst === null || snapshot === null) return { region: settings.region, instance: inst, snapshot, root: null, spare: null };
    const rootId = inst.volumes[inst.rootDevice];
    const [rootVolumes, spares] = await Promise.all([
      rootId === undefined ? Promise.resolve([]) : ec2.describeVolumes({ VolumeIds: [rootId] }).then((r) => r.Volumes ?? []),
      ec2
        .describeVolumes({ Filters: [{ Name: `tag:${RESTORE_FOR}`, Values: [inst.id] }, { Name: `tag:${RESTORED_FROM}`, Values: [snapshot.id] }, { Name: 'status', Values: ['creating', 'available'] }] })
        .then((r) => r.Volumes ?? []),
    ]);
    return {
      region: settings.region,
      instance: inst,
      snapshot,
      root: rootVolumes[0] === undefined ? null : volumeFacts(rootVolumes[0]),
      spare: spares[0] === undefined ? null : volumeFacts(spares[0]),
    };
  },
  plan: (args, actual) =>
    planOf(rootVolumeSteps(args, actual), `the root of ${actual.instance?.id} comes from ${actual.snapshot?.id} and it runs`, resultOf(actual.instance, actual.snapshot)),
  async legacyApply(ctx, args, _plan, actual) {
    const ec2 = await ec2Client(awsSettings(args, ctx.vars));
    const s = await runSteps(ec2, rootVolumeSteps(args, actual), {});
    // The instance was stopped and started: its public address changed, a cached inventory is stale.
    await invalidateInventoryCache(projectCacheDir(ctx.projectDir));
    return { result: resultOf(s.instance ?? actual.instance, actual.snapshot, s.volumeId) };
  },
});

function resultOf(inst: NamedInstance | null, snap: SnapshotFacts | null, volumeId?: string): Vars {
  return {
    ...(inst === null ? {} : { instance_id: inst.id, state: inst.state, private_ip: inst.privateIp ?? null, public_ip: inst.publicIp ?? null }),
    ...(snap === null ? {} : { snapshot_id: snap.id, label: snap.label }),
    ...(volumeId === undefined ? {} : { volume_id: volumeId }),
  };
}
