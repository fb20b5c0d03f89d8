import { Type } from '@sinclair/typebox';
import { ec2Client } from './aws/client.js';
import { call, held, revealed, runEc2Operations, type Ec2Op, type Ec2Step, type HeldSettings, type Id } from './aws/ec2-operation.js';
import { AwsError } from './aws/errors.js';
import { awsArgs, awsSettings } from './aws/module-args.js';
import { instancesByName, type InstanceFacts } from './aws/resources.js';
import { snapshotsOf } from './aws/snapshot-lookup.js';
import { snapshotsToPrune, type RetentionPolicy } from './aws/snapshot-retention.js';
import { COPIED_FROM, LABEL_PATTERN, newSnapshotTags, restorePoint, type SnapshotFacts } from './aws/snapshot-tags.js';
import { identityText, tagSpecifications, tagText, type TagMap } from './aws/tags.js';
import { defineModule, NotYetThere, type Change, type Plan } from '../runner/types.js';

const schema = Type.Object(
  {
    /** The instances (Name tags) whose volumes are snapshotted, or whose snapshots are copied. */
    instances: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    project: Type.Optional(Type.String({ minLength: 1 })),
    /**
     * The backup's name (a date, a run id): one snapshot per volume per label, so a re-run with the
     * same label is ok. With source_region: copy the snapshots of this label ('' = the newest).
     */
    label: Type.Optional(Type.String()),
    /** Which volumes: the root volume only, or every attached one (default). */
    devices: Type.Optional(Type.Union([Type.Literal('root'), Type.Literal('all')])),
    /** Copy the newest completed root snapshots of the instances from this region into this one ('' = no copy). */
    source_region: Type.Optional(Type.String()),
    /** KMS key the copies are encrypted with (default: the region's aws/ebs key). */
    kms_key_id: Type.Optional(Type.String()),
    /** Retention per volume: keep the newest N of rplay's snapshots… */
    retain_count: Type.Optional(Type.Integer({ minimum: 1 })),
    /** …and/or none older than this many days (the newest completed one is always kept). */
    retain_days: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    /** More tags the new snapshots carry. */
    tags: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String())),
    /** Seconds to wait for snapshots to complete (default 3600). */
    wait_timeout: Type.Optional(Type.Integer({ minimum: 1 })),
    ...awsArgs,
  },
  { additionalProperties: false },
);

type SnapshotArgs = typeof schema.static;

export interface SnapshotActual {
  aws: HeldSettings;
  /** When gathered: retention ages are counted from here, and new snapshots' rplay:created (plan stays pure). */
  now: string;
  region: string;
  /** Making snapshots: the instances by name (null: no live instance has the name). */
  instances: Record<string, InstanceFacts | null>;
  /** rplay's snapshots of the instances in this region. */
  existing: SnapshotFacts[];
  /** Copying: rplay's snapshots of the instances in source_region. */
  sources: SnapshotFacts[] | null;
}

/** A snapshot this run will make (or copy). */
interface Planned {
  of: string;
  device: string;
  label: string | null;
}

/** One snapshot the task reports: made now ({ $made }) or found. */
interface Reported {
  instance: string;
  device: string;
  snapshot_id: Id;
}

const nonEmpty = (s: string | undefined): string | undefined => (s === undefined || s === '' ? undefined : s);

function policyOf(args: SnapshotArgs): RetentionPolicy {
  return { ...(args.retain_count === undefined ? {} : { count: args.retain_count }), ...(args.retain_days === undefined ? {} : { maxAgeDays: args.retain_days }) };
}

function checkLabel(label: string | undefined): void {
  if (label !== undefined && !new RegExp(LABEL_PATTERN).test(label)) {
    throw new AwsError(`label '${label}' must be letters, digits and . _ : + - (it names snapshots and backup folders), at most 100 characters`);
  }
}

function timeoutMs(args: SnapshotArgs): number {
  return (args.wait_timeout ?? 3600) * 1000;
}

type Op = (...steps: Ec2Step[]) => Ec2Op;

/** Snapshots of the label, one per volume: made where missing. */
function createChanges(args: SnapshotArgs, actual: SnapshotActual, label: string, planned: Planned[], made: Reported[], op: Op): Change<Ec2Op>[] {
  const changes: Change<Ec2Op>[] = [];
  for (const name of args.instances) {
    const inst = actual.instances[name];
    if (inst === null || inst === undefined) throw new NotYetThere(`no instance is named ${identityText(name, args.project)} in ${actual.region}: nothing to snapshot`, `instance ${name}`);
    const devices = Object.keys(inst.volumes).filter((d) => (args.devices ?? 'all') === 'all' || d === inst.rootDevice).sort();
    if (devices.length === 0) throw new AwsError(`instance ${inst.id} (${name}) has no EBS volume attached${args.devices === 'root' ? ` at its root ${inst.rootDevice}` : ''}`);
    for (const device of devices) {
      if (actual.existing.some((s) => s.of === name && s.device === device && s.label === label)) continue;
      const volumeId = inst.volumes[device] as string;
      const project = args.project;
      const tags = newSnapshotTags({ instance: name, device, rootDevice: inst.rootDevice, label, project, address: inst.privateIp, created: new Date(actual.now), extra: args.tags });
      const id = `snapshot-${made.length}`;
      planned.push({ of: name, device, label });
      made.push({ instance: name, device, snapshot_id: { $made: id } });
      changes.push({
        description: `CreateSnapshot ${volumeId} (${name} ${device}) tags Name=${tags.Name}${project === undefined ? '' : `,project=${project}`},rplay:label=${label}`,
        op: op(
          call(
            'CreateSnapshot',
            { VolumeId: volumeId, Description: `rplay backup ${label} of ${name} ${device} (${inst.id} ${volumeId})`, TagSpecifications: tagSpecifications(['snapshot'], tags) },
            { [id]: 'SnapshotId' },
          ),
        ),
      });
    }
  }
  return changes;
}

/** Copies of the source region's newest (or the label's) root snapshots: made where missing. */
function copyChanges(args: SnapshotArgs, actual: SnapshotActual, sourceRegion: string, label: string | undefined, planned: Planned[], made: Reported[], op: Op): Change<Ec2Op>[] {
  const changes: Change<Ec2Op>[] = [];
  const kms = nonEmpty(args.kms_key_id);
  for (const name of args.instances) {
    const sources = actual.sources ?? [];
    const devices = [...new Set(sources.filter((s) => s.of === name).map((s) => s.device ?? ''))];
    // The root device is the one restores use; every rplay snapshot records its device.
    const source = devices.map((d) => restorePoint(sources, name, d, label)).filter((s): s is SnapshotFacts => s !== null)[0];
    if (source === undefined) {
      throw new AwsError(`no completed snapshot of ${identityText(name, args.project)}${label === undefined ? '' : ` labelled ${label}`} in ${sourceRegion} to copy: run backup.yml there first`);
    }
    const from = `${sourceRegion}/${source.id}`;
    const device = source.device ?? '?';
    if (actual.existing.some((s) => s.copiedFrom === from)) continue;
    const tags: TagMap = { ...source.tags, ...args.tags, [COPIED_FROM]: from };
    const id = `copy-${made.length}`;
    planned.push({ of: name, device, label: source.label });
    made.push({ instance: name, device, snapshot_id: { $made: id } });
    changes.push({
      description: `CopySnapshot ${from} (${name} ${device}, label ${source.label ?? '?'}) encrypted with ${kms ?? 'aws/ebs'} tags ${tagText({ Name: tags.Name ?? name, ...(args.project === undefined ? {} : { project: args.project }), [COPIED_FROM]: from })}`,
      op: op(
        call(
          'CopySnapshot',
          {
            SourceRegion: sourceRegion,
            SourceSnapshotId: source.id,
            Description: `rplay copy of ${from} (${name} ${device}, label ${source.label ?? '?'})`,
            Encrypted: true,
            ...(kms === undefined ? {} : { KmsKeyId: kms }),
            TagSpecifications: tagSpecifications(['snapshot'], tags),
          },
          { [id]: 'SnapshotId' },
        ),
      ),
    });
  }
  return changes;
}

/** The task's own snapshots: the label's (or, copying, every copy). */
const ours = (args: SnapshotArgs) => (s: SnapshotFacts): boolean => (nonEmpty(args.source_region) !== undefined ? s.copiedFrom !== null : s.label === nonEmpty(args.label));

export function snapshotPlan(args: SnapshotArgs, actual: SnapshotActual): Plan<Ec2Op> {
  const label = nonEmpty(args.label);
  checkLabel(label);
  const sourceRegion = nonEmpty(args.source_region);
  if (sourceRegion === undefined && label === undefined) throw new AwsError('label is required to make snapshots (a date or a run id): one snapshot per volume per label');
  if (sourceRegion !== undefined && sourceRegion === actual.region) throw new AwsError(`source_region ${sourceRegion} is this region: copies go to another region (set region or aws_region to it)`);
  const op: Op = (...steps) => ({ kind: 'ec2', aws: revealed(actual.aws), timeoutMs: timeoutMs(args), steps });
  const planned: Planned[] = [];
  const made: Reported[] = [];
  const changes = sourceRegion === undefined ? createChanges(args, actual, label as string, planned, made, op) : copyChanges(args, actual, sourceRegion, label, planned, made, op);
  const have: Reported[] = actual.existing.filter(ours(args)).map((s) => ({ instance: s.of ?? '?', device: s.device ?? '?', snapshot_id: s.id }));
  // Ours still pending (made now, or by a run stopped while waiting): the plan waits for them.
  const pending = actual.existing.filter((s) => s.state === 'pending' && ours(args)(s));
  const waitFor: Id[] = [...pending.map((s) => s.id), ...made.map((m) => m.snapshot_id)];
  if (waitFor.length > 0) {
    changes.push({
      description: made.length > 0 && pending.length === 0 ? 'wait until the snapshots are completed' : `wait until the snapshots are completed (${pending.map((s) => `${s.id} is ${s.state}`).join(', ')})`,
      op: { ...op({ do: 'wait-snapshots', ids: waitFor }), result: { snapshots: [...made, ...have] } },
      // Only waiting for what an earlier run made changes nothing of this one's.
      ...(made.length === 0 ? { waitOnly: true } : {}),
    });
  }
  // The snapshots this run makes count towards the retention (as pending: never pruned themselves).
  const toBe: SnapshotFacts[] = planned.map((p, i) => ({
    id: `(new ${i})`, state: 'pending', startTime: actual.now, of: p.of, device: p.device, label: p.label, address: null, copiedFrom: null, project: args.project ?? null, encrypted: false, volumeSize: 0, tags: {},
  }));
  const prune = snapshotsToPrune([...actual.existing, ...toBe], policyOf(args), { instances: args.instances, project: args.project, protectLabel: label }, new Date(actual.now));
  for (const p of prune) {
    changes.push({
      description: `DeleteSnapshot ${p.snapshot.id} (${p.snapshot.of} ${p.snapshot.device}, label ${p.snapshot.label ?? '?'}, ${p.reason})`,
      op: op(call('DeleteSnapshot', { SnapshotId: p.snapshot.id })),
    });
  }
  return { changes, replan: waitFor.length > 0, msg: changes.length === 0 ? 'the snapshots exist and retention holds' : undefined, result: { snapshots: have } };
}

/**
 * rplay's EBS snapshots of some instances: one per volume per label, tagged (Name, project,
 * rplay:snapshot-of, rplay:label, rplay:created…) and waited for until completed; or, with
 * source_region, encrypted copies of the newest ones from another region (disaster recovery).
 * Retention prunes only rplay's snapshots of these instances, never any other.
 */
export const ec2Snapshot = defineModule({
  name: 'ec2_snapshot',
  schema,
  async gather(ctx, args): Promise<SnapshotActual> {
    const aws = awsSettings(args, ctx.vars);
    const ec2 = await ec2Client(aws);
    const sourceRegion = nonEmpty(args.source_region);
    const [instances, existing, sources] = await Promise.all([
      sourceRegion === undefined ? instancesByName(ec2, args.instances, args.project) : Promise.resolve(new Map<string, InstanceFacts | null>()),
      snapshotsOf(ec2, args.instances, args.project),
      sourceRegion === undefined ? Promise.resolve(null) : ec2Client({ ...aws, region: sourceRegion }).then((src) => snapshotsOf(src, args.instances, args.project)),
    ]);
    return { aws: held(aws), now: new Date().toISOString(), region: aws.region, instances: Object.fromEntries(instances), existing, sources };
  },
  plan: snapshotPlan,
  async apply(ctx, ops) {
    return { result: (await runEc2Operations(ops, ctx.projectDir)).result };
  },
});
