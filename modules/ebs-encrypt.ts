import { Type } from '@sinclair/typebox';
import { ec2Client } from './aws/client.js';
import { held, revealed, runEc2Operations, type Ec2Op, type HeldSettings } from './aws/ec2-operation.js';
import { gatherMigration } from './aws/ebs-encrypt-facts.js';
import { ENCRYPTS_TAG, planMigration, STATE_TAG, volumeToReplace, type MigrationFacts } from './aws/ebs-encrypt-plan.js';
import { migrationOp } from './aws/ebs-encrypt-steps.js';
import { awsArgs, awsSettings, sshWaitArgs } from './aws/module-args.js';
import { inPassing, waitInstance } from './aws/resources.js';
import { defineModule, type Plan, type Vars } from '../runner/types.js';

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

export interface EncryptActual {
  aws: HeldSettings;
  migration: MigrationFacts;
}

export function encryptPlan(args: EncryptArgs, actual: EncryptActual): Plan<Ec2Op> {
  const f = actual.migration;
  const i = f.instance;
  const op = { aws: revealed(actual.aws), timeoutMs: timeoutMs(args) };
  const passing = inPassing(i);
  // Where it lands decides what is left to do: wait, then plan again.
  if (passing !== null) {
    return { changes: [{ description: passing.description, op: { kind: 'ec2', ...op, steps: [waitInstance(i.id, passing.until)] }, waitOnly: true }], replan: true, result: resultOf(f) };
  }
  if (args.only_stopped === true && i.state === 'running') return { changes: [], msg: `${i.id} is running: left alone (only_stopped)`, result: resultOf(f) };
  const ssh = args.wait_ssh === false ? null : { address: args.ssh_address ?? 'public', port: args.ssh_port ?? 22 };
  const steps = planMigration(f, { kmsKeyId: args.kms_key_id, sshWhere: ssh === null ? undefined : `port ${ssh.port} of its ${ssh.address} address` });
  if (steps.length === 0) return { changes: [], msg: `root ${f.root?.id} of ${i.id} is encrypted (${f.root?.kmsKeyId ?? 'key unknown'})`, result: resultOf(f) };
  const originalId = volumeToReplace(i, f.root) as string;
  const settings = { ...op, ...(args.kms_key_id === undefined ? {} : { kmsKeyId: args.kms_key_id }), ssh };
  return { changes: steps.map((s) => ({ description: s.description, op: migrationOp(s, i, originalId, settings) })), replan: true, result: resultOf(f) };
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
  async gather(ctx, args): Promise<EncryptActual> {
    const aws = awsSettings(args, ctx.vars);
    const migration = await gatherMigration(await ec2Client(aws), { name: args.name, project: args.project });
    return { aws: held(aws), migration };
  },
  plan: encryptPlan,
  async apply(ctx, ops) {
    const out = await runEc2Operations(ops, ctx.projectDir);
    const last = [...out.instances.values()].slice(-1)[0];
    const root = typeof out.result.root_volume_id === 'string' ? out.volumes.get(out.result.root_volume_id) : undefined;
    return {
      ...(out.msg === undefined ? {} : { msg: out.msg }),
      result: { ...out.result, ...(last === undefined ? {} : { state: last.State?.Name ?? 'unknown' }), ...(root === undefined ? {} : { kms_key_id: root.KmsKeyId ?? null }) },
    };
  },
});
