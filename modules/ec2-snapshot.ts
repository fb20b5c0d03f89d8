import { Type } from '@sinclair/typebox';
import { ec2Client } from './aws/client.js';
import { AwsError } from './aws/errors.js';
import { instancesByName, type NamedInstance } from './aws/instances-by-name.js';
import { awsArgs, awsSettings } from './aws/module-args.js';
import { snapshotsOf, waitCompleted } from './aws/snapshot-lookup.js';
import { snapshotsToPrune, type RetentionPolicy } from './aws/snapshot-retention.js';
import { COPIED_FROM, LABEL_PATTERN, newSnapshotTags, restorePoint, type SnapshotFacts } from './aws/snapshot-tags.js';
import { made, planOf, runSteps, type Step } from './aws/steps.js';
import { identityText, tagSpecifications, tagText, type TagMap } from './aws/tags.js';
import { defineModule, NotYetThere, type Vars } from '../runner/types.js';

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
  /** When gathered: retention ages are counted from here (plan stays pure). */
  now: string;
  region: string;
  /** Making snapshots: the instances by name (null: no live instance has the name). */
  instances: Record<string, NamedInstance | null>;
  /** rplay's snapshots of the instances in this region. */
  existing: SnapshotFacts[];
  /** Copying: rplay's snapshots of the instances in source_region. */
  sources: SnapshotFacts[] | null;
}

interface SnapshotState {
  /** Snapshots this run made, to wait for and report. */
  made: { instance: string; device: string; snapshot_id: string }[];
}

/** A snapshot this run will make (or copy). */
interface Planned {
  of: string;
  device: string;
  label: string | null;
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

/** Snapshots of the label, one per volume: made where missing. */
function createSteps(args: SnapshotArgs, actual: SnapshotActual, label: string, planned: Planned[]): Step<SnapshotState>[] {
  const steps: Step<SnapshotState>[] = [];
  for (const name of args.instances) {
    const inst = actual.instances[name];
    if (inst === null || inst === undefined) throw new NotYetThere(`no instance is named ${identityText(name, args.project)} in ${actual.region}: nothing to snapshot`, `instance ${name}`);
    const devices = Object.keys(inst.volumes).filter((d) => (args.devices ?? 'all') === 'all' || d === inst.rootDevice).sort();
    if (devices.length === 0) throw new AwsError(`instance ${inst.id} (${name}) has no EBS volume attached${args.devices === 'root' ? ` at its root ${inst.rootDevice}` : ''}`);
    for (const device of devices) {
      if (actual.existing.some((s) => s.of === name && s.device === device && s.label === label)) continue;
      const volumeId = inst.volumes[device] as string;
      const project = args.project;
      planned.push({ of: name, device, label });
      steps.push({
        description: `CreateSnapshot ${volumeId} (${name} ${device}) tags Name=${newSnapshotTags({ instance: name, device, rootDevice: inst.rootDevice, label, created: new Date(0) }).Name}${project === undefined ? '' : `,project=${project}`},rplay:label=${label}`,
        async run(ec2, s) {
          const tags = newSnapshotTags({ instance: name, device, rootDevice: inst.rootDevice, label, project, address: inst.privateIp, created: new Date(), extra: args.tags });
          const r = await ec2.createSnapshot({
            VolumeId: volumeId,
            Description: `rplay backup ${label} of ${name} ${device} (${inst.id} ${volumeId})`,
            TagSpecifications: tagSpecifications(['snapshot'], tags),
          });
          const id = made(r.SnapshotId, 'the new snapshot id');
          s.made.push({ instance: name, device, snapshot_id: id });
        },
      });
    }
  }
  return steps;
}

/** Copies of the source region's newest (or the label's) root snapshots: made where missing. */
function copySteps(args: SnapshotArgs, actual: SnapshotActual, sourceRegion: string, label: string | undefined, planned: Planned[]): Step<SnapshotState>[] {
  const steps: Step<SnapshotState>[] = [];
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
    planned.push({ of: name, device, label: source.label });
    steps.push({
      description: `CopySnapshot ${from} (${name} ${device}, label ${source.label ?? '?'}) encrypted with ${kms ?? 'aws/ebs'} tags ${tagText({ Name: tags.Name ?? name, ...(args.project === undefined ? {} : { project: args.project }), [COPIED_FROM]: from })}`,
      async run(ec2, s) {
        const r = await ec2.copySnapshot({
          SourceRegion: sourceRegion,
          SourceSnapshotId: source.id,
          Description: `rplay copy of ${from} (${name} ${device}, label ${source.label ?? '?'})`,
          Encrypted: true,
          ...(kms === undefined ? {} : { KmsKeyId: kms }),
          TagSpecifications: tagSpecifications(['snapshot'], tags),
        });
        const id = made(r.SnapshotId, 'the copy id');
        s.made.push({ instance: name, device, snapshot_id: id });
      },
    });
  }
  return steps;
}

export function snapshotSteps(args: SnapshotArgs, actual: SnapshotActual): Step<SnapshotState>[] {
  const label = nonEmpty(args.label);
  checkLabel(label);
  const sourceRegion = nonEmpty(args.source_region);
  if (sourceRegion === undefined && label === undefined) throw new AwsError('label is required to make snapshots (a date or a run id): one snapshot per volume per label');
  if (sourceRegion !== undefined && sourceRegion === actual.region) throw new AwsError(`source_region ${sourceRegion} is this region: copies go to another region (set region or aws_region to it)`);
  const planned: Planned[] = [];
  const making = sourceRegion === undefined ? createSteps(args, actual, label as string, planned) : copySteps(args, actual, sourceRegion, label, planned);
  const steps = [...making];
  if (making.length > 0) {
    steps.push({
      description: 'wait until the snapshots are completed',
      run: async (ec2, s) => waitCompleted(ec2, s.made.map((m) => m.snapshot_id), timeoutMs(args)),
    });
  }
  // The snapshots this run makes count towards the retention (as pending: never pruned themselves).
  const toBe: SnapshotFacts[] = planned.map((p, i) => ({
    id: `(new ${i})`, state: 'pending', startTime: actual.now, of: p.of, device: p.device, label: p.label, address: null, copiedFrom: null, project: args.project ?? null, encrypted: false, volumeSize: 0, tags: {},
  }));
  const prune = snapshotsToPrune([...actual.existing, ...toBe], policyOf(args), { instances: args.instances, project: args.project, protectLabel: label }, new Date(actual.now));
  for (const p of prune) {
    steps.push({
      description: `DeleteSnapshot ${p.snapshot.id} (${p.snapshot.of} ${p.snapshot.device}, label ${p.snapshot.label ?? '?'}, ${p.reason})`,
      run: async (ec2) => void (await ec2.deleteSnapshot({ SnapshotId: p.snapshot.id })),
    });
  }
  return steps;
}

/** The snapshots of the label (or every copy) in this region, for the result. */
function resultOf(actual: SnapshotActual, args: SnapshotArgs, made: SnapshotState['made'] = []): Vars {
  const label = nonEmpty(args.label);
  const copying = nonEmpty(args.source_region) !== undefined;
  const have = actual.existing
    .filter((s) => (copying ? s.copiedFrom !== null : s.label === label))
    .map((s) => ({ instance: s.of ?? '?', device: s.device ?? '?', snapshot_id: s.id }));
  return { snapshots: [...made, ...have] };
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
    const settings = awsSettings(args, ctx.vars);
    const ec2 = await ec2Client(settings);
    const sourceRegion = nonEmpty(args.source_region);
    const label = nonEmpty(args.label);
    const [instances, found, sources] = await Promise.all([
      sourceRegion === undefined ? instancesByName(ec2, args.instances, args.project) : Promise.resolve(new Map<string, NamedInstance | null>()),
      snapshotsOf(ec2, args.instances, args.project),
      sourceRegion === undefined ? Promise.resolve(null) : ec2Client({ ...settings, region: sourceRegion }).then((src) => snapshotsOf(src, args.instances, args.project)),
    ]);
    // One of ours still pending (a run stopped while waiting): waited out, so the plan sees it done.
    const ours = found.filter((s) => s.state === 'pending' && (sourceRegion === undefined ? s.label === label : s.copiedFrom !== null));
    await waitCompleted(ec2, ours.map((s) => s.id), timeoutMs(args));
    const existing = ours.length === 0 ? found : await snapshotsOf(ec2, args.instances, args.project);
    return { now: new Date().toISOString(), region: settings.region, instances: Object.fromEntries(instances), existing, sources };
  },
  plan: (args, actual) => planOf(snapshotSteps(args, actual), 'the snapshots exist and retention holds', resultOf(actual, args)),
  async legacyApply(ctx, args, _plan, actual) {
    const ec2 = await ec2Client(awsSettings(args, ctx.vars));
    const s = await runSteps(ec2, snapshotSteps(args, actual), { made: [] });
    return { result: resultOf(actual, args, s.made) };
  },
});
