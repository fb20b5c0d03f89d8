import { Type } from '@sinclair/typebox';
import { ec2Client } from './aws/client.js';
import { gatherMigration } from './aws/ebs-encrypt-facts.js';
import { ENCRYPTS_TAG, planMigration, STATE_TAG, STEP_NAMES, stepsUpTo, type MigrationFacts, type MigrationStep } from './aws/ebs-encrypt-plan.js';
import { currentRoot, runMigration, type MigrationSettings } from './aws/ebs-encrypt-steps.js';
import { invalidateInventoryCache, projectCacheDir } from './aws/inventory-cache.js';
import { awsArgs, awsSettings, sshWaitArgs } from './aws/module-args.js';
import { defineModule, type Vars } from '../runner/types.js';

const schema = Type.Object(
  {
    /** The instance's Name tag (with the aws_ec2 inventory's `hostnames: [tag:Name]`, its inventory name). */
    name: Type.String({ minLength: 1 }),
    project: Type.Optional(Type.String({ minLength: 1 })),
    /** The KMS key of the encrypted copy (key id, ARN or alias/…); default: the account's aws/ebs key. */
    kms_key_id: Type.Optional(Type.String({ minLength: 1 })),
    /**
     * Act only on an instance that is not running (stopped mid-migration by a killed run, or by hand):
     * nothing has to be moved off it first. A running instance is left alone (ok).
     */
    only_stopped: Type.Optional(Type.Boolean()),
    /** Do the steps up to and including this one, leave the rest for a later run (step-by-step work, tests). */
    stop_after: Type.Optional(Type.Union(STEP_NAMES.map((n) => Type.Literal(n)))),
    /** wait_timeout default 1800 s: a first snapshot of a large volume takes long on AWS. */
    ...sshWaitArgs,
    ...awsArgs,
  },
  { additionalProperties: false },
);

type EncryptArgs = typeof schema.static;

function timeoutMs(args: EncryptArgs): number {
  return (args.wait_timeout ?? 1800) * 1000;
}

/** The steps this task takes: none for a running instance under only_stopped, and none past stop_after. */
function taskSteps(args: EncryptArgs, f: MigrationFacts): { all: MigrationStep[]; now: MigrationStep[] } {
  if (args.only_stopped === true && f.instance.state === 'running') return { all: [], now: [] };
  const sshWhere = args.wait_ssh === false ? undefined : `port ${args.ssh_port ?? 22} of its ${args.ssh_address ?? 'public'} address`;
  const all = planMigration(f, { kmsKeyId: args.kms_key_id, sshWhere });
  return { all, now: stepsUpTo(all, args.stop_after) };
}

function okMessage(args: EncryptArgs, f: MigrationFacts, all: readonly MigrationStep[]): string {
  const i = f.instance;
  if (all.length > 0) return `stop_after ${args.stop_after}: the next step, ${all[0]!.name}, is left for a later run`;
  if (args.only_stopped === true && i.state === 'running') return `${i.id} is running: left alone (only_stopped)`;
  return `root ${f.root?.id} of ${i.id} is encrypted (${f.root?.kmsKeyId ?? 'key unknown'})`;
}

function resultOf(f: MigrationFacts): Vars {
  const i = f.instance;
  return {
    instance_id: i.id,
    state: i.state,
    root_volume_id: f.root?.id ?? null,
    encrypted: f.root?.encrypted ?? false,
    kms_key_id: f.root?.kmsKeyId ?? null,
    migration: i.tags[STATE_TAG] ?? null,
    original_volume_id: i.tags[ENCRYPTS_TAG] ?? null,
  };
}

/**
 * The runbook's phase 8 for one instance whose root volume is not encrypted: stop, snapshot, encrypted
 * copy, a volume from it in the instance's zone, detach the original, attach the new one at the same
 * device, start, wait for SSH. Resumable from EC2's own state (tags rplay:ebs-encrypt on the instance,
 * rplay:encrypts on the instance, snapshots and new volume), from any controller. The original volume
 * is never deleted: it is tagged rplay:replaced-by=<new volume>. An encrypted root is ok.
 */
export const ebsEncrypt = defineModule({
  name: 'ebs_encrypt',
  schema,
  async gather(ctx, args): Promise<MigrationFacts> {
    const ec2 = await ec2Client(awsSettings(args, ctx.vars));
    return gatherMigration(ec2, { name: args.name, project: args.project }, timeoutMs(args));
  },
  plan(args, f) {
    const { all, now } = taskSteps(args, f);
    return { changes: now.map((s) => ({ description: s.description })), msg: now.length === 0 ? okMessage(args, f, all) : undefined, result: resultOf(f) };
  },
  async legacyApply(ctx, args, _plan, f) {
    const settings = awsSettings(args, ctx.vars);
    const ec2 = await ec2Client(settings);
    const { all, now } = taskSteps(args, f);
    const run: MigrationSettings = {
      region: settings.region,
      ...(args.kms_key_id === undefined ? {} : { kmsKeyId: args.kms_key_id }),
      timeoutMs: timeoutMs(args),
      ssh: args.wait_ssh === false ? null : { address: args.ssh_address ?? 'public', port: args.ssh_port ?? 22 },
    };
    try {
      const st = await runMigration(ec2, now, f.instance, run);
      const root = await currentRoot(ec2, st.instance.id);
      const left = all.length - now.length;
      const replaced = st.instance.tags[ENCRYPTS_TAG];
      return {
        msg:
          left > 0
            ? `${now.map((s) => s.name).join(', ')} done; stop_after ${args.stop_after}: ${left} step(s) left for a later run`
            : `${root?.id} (encrypted with ${root?.kmsKeyId ?? '?'}) replaced ${replaced} at ${st.instance.rootDevice} of ${st.instance.id}`,
        result: resultOf({ ...f, instance: st.instance, root }),
      };
    } finally {
      // A stop and a start give the instance a new public address on AWS: a cached inventory would be stale.
      if (now.some((s) => s.kind === 'stop' || s.kind === 'start')) await invalidateInventoryCache(projectCacheDir(ctx.projectDir));
    }
  },
});
