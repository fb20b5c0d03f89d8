// What an ec2_* module's change does, as data: a few EC2 calls with their parameters and the waits
// between them (an instance running, a volume available, snapshots completed, sshd answering), run in
// order by runEc2Operations. A call may name what it makes (a new snapshot's id) and a later step of
// the same apply use it ({ $made: 'snapshot' }): the plan lists the whole sequence before anything exists.
import { randomUUID } from 'node:crypto';
import type { EC2, Instance, Volume } from '@aws-sdk/client-ec2';
import { Secret } from '../../runner/secret.js';
import type { Operation, Vars } from '../../runner/types.js';
import type { AwsSettings } from './client.js';
import { ec2Client } from './client.js';
import { AwsError } from './errors.js';
import { invalidateInventoryCache, projectCacheDir } from './inventory-cache.js';
import { poll, waitForSsh } from './wait.js';

/**
 * The task's AWS settings as gathered state holds them: the credentials as Secrets, so the state's
 * fingerprint never hashes them in the clear. The plan puts the real values into its operations.
 */
export interface HeldSettings extends Omit<AwsSettings, 'secretKey' | 'sessionToken'> {
  secretKey?: Secret;
  sessionToken?: Secret;
}

export function held({ secretKey, sessionToken, ...rest }: AwsSettings): HeldSettings {
  return { ...rest, ...(secretKey === undefined ? {} : { secretKey: new Secret(secretKey) }), ...(sessionToken === undefined ? {} : { sessionToken: new Secret(sessionToken) }) };
}

export function revealed({ secretKey, sessionToken, ...rest }: HeldSettings): AwsSettings {
  return { ...rest, ...(secretKey === undefined ? {} : { secretKey: secretKey.reveal() }), ...(sessionToken === undefined ? {} : { sessionToken: sessionToken.reveal() }) };
}

/** An id made by an earlier call of the same apply. */
export interface Made {
  $made: string;
}
export type Id = string | Made;

/** The EC2 actions a plan may call (a decoded plan naming another is refused). */
const ACTIONS = [
  'RunInstances',
  'StartInstances',
  'StopInstances',
  'CreateTags',
  'CreateSnapshot',
  'CopySnapshot',
  'DeleteSnapshot',
  'CreateVolume',
  'DeleteVolume',
  'AttachVolume',
  'DetachVolume',
  // The network modules and ec2_teardown.
  'CreateVpc',
  'ModifyVpcAttribute',
  'DeleteVpc',
  'CreateSubnet',
  'ModifySubnetAttribute',
  'DeleteSubnet',
  'CreateInternetGateway',
  'AttachInternetGateway',
  'DetachInternetGateway',
  'DeleteInternetGateway',
  'CreateRouteTable',
  'CreateRoute',
  'DeleteRoute',
  'AssociateRouteTable',
  'DisassociateRouteTable',
  'DeleteRouteTable',
  'CreateSecurityGroup',
  'AuthorizeSecurityGroupIngress',
  'RevokeSecurityGroupIngress',
  'AuthorizeSecurityGroupEgress',
  'RevokeSecurityGroupEgress',
  'DeleteSecurityGroup',
  'ImportKeyPair',
  'DeleteKeyPair',
  'EnableEbsEncryptionByDefault',
  'DisableEbsEncryptionByDefault',
  'TerminateInstances',
] as const;
export type Ec2Action = (typeof ACTIONS)[number];

/** Calls after which a cached inventory is stale: instances made or gone, new public addresses, tags (they decide groups). */
const INVENTORY_CHANGING: readonly string[] = ['RunInstances', 'StartInstances', 'StopInstances', 'TerminateInstances', 'CreateTags'];

export type Ec2Step =
  /**
   * `save`: name → dotted path of the answer (Instances.0.InstanceId) whose value later steps use.
   * `token`: sent with a ClientToken drawn as it runs: the SDK's retries of the call resend it, and
   * EC2 answers them with what the first one made (drawn in the plan, it would make gathered state
   * and plans differ on every look).
   */
  | { do: 'call'; action: Ec2Action; params: Vars; save?: Record<string, string>; token?: true }
  | { do: 'wait-instance'; id: Id; until: 'running' | 'stopped' }
  | { do: 'wait-volume'; id: Id; until: 'available' | 'attached' }
  | { do: 'wait-snapshots'; ids: Id[] }
  | { do: 'wait-ssh'; instance: Id; address: 'public' | 'private'; port: number }
  /** Until EC2 lists none of them any more: instances terminated, volumes deleted (ec2_teardown). */
  | { do: 'wait-gone'; what: 'instances' | 'volumes'; ids: string[] };

export interface Ec2Op extends Operation {
  kind: 'ec2';
  /** Where EC2 is and with which credentials (the task's, revealed: an encoded plan is secret). */
  aws: AwsSettings;
  /** Bound of each wait, ms (the task's wait_timeout). */
  timeoutMs: number;
  steps: Ec2Step[];
  /** What the task reports once this ran (ids made on the way filled in). */
  result?: Vars;
  msg?: Id[];
}

export const made = (name: string): Made => ({ $made: name });

export const call = (action: Ec2Action, params: Vars, save?: Record<string, string>): Ec2Step => ({ do: 'call', action, params, ...(save === undefined ? {} : { save }) });

/** A call that makes something, retried safely (see `token`). */
export const makingCall = (action: Ec2Action, params: Vars, save: Record<string, string>): Ec2Step => ({ do: 'call', action, params, save, token: true });

/** What an apply's operations left: the ids they made, each instance and volume as last described, their results merged. */
export interface Ec2Outcome {
  made: Record<string, string>;
  instances: Map<string, Instance>;
  volumes: Map<string, Volume>;
  result: Vars;
  msg?: string;
}

function isMade(v: unknown): v is Made {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as Made).$made === 'string';
}

function resolve(v: unknown, out: Ec2Outcome): unknown {
  if (isMade(v)) {
    const got = out.made[v.$made];
    // Only a plan applied in part (or edited) gets here: its maker did not run.
    if (got === undefined) throw new AwsError(`this operation uses the ${v.$made} an earlier operation of the plan makes, and that one was not applied`);
    return got;
  }
  if (Array.isArray(v)) return v.map((x) => resolve(x, out));
  if (typeof v === 'object' && v !== null && !Buffer.isBuffer(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x, out)]));
  return v;
}

const idOf = (id: Id, out: Ec2Outcome): string => resolve(id, out) as string;

function at(answer: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v === null || typeof v !== 'object' ? undefined : (v as Record<string, unknown>)[k]), answer);
}

const lowerFirst = (s: string): string => s[0].toLowerCase() + s.slice(1);

async function describe(ec2: EC2, id: string): Promise<Instance> {
  const i = (await ec2.describeInstances({ InstanceIds: [id] })).Reservations?.[0]?.Instances?.[0];
  if (i === undefined) throw new AwsError(`instance ${id} is not described by EC2`);
  return i;
}

const WAIT = { firstDelayMs: 100, maxDelayMs: 5000 };

async function runStep(ec2: EC2, step: Ec2Step, op: Ec2Op, out: Ec2Outcome): Promise<void> {
  switch (step.do) {
    case 'call': {
      if (!(ACTIONS as readonly string[]).includes(step.action)) throw new AwsError(`an operation calls ${String(step.action)}, which no ec2_* module plans`);
      const method = (ec2 as unknown as Record<string, (p: unknown) => Promise<unknown>>)[lowerFirst(step.action)];
      const params = resolve(step.params, out) as Vars;
      const answer = await method.call(ec2, step.token === true ? { ...params, ClientToken: randomUUID() } : params);
      for (const [name, path] of Object.entries(step.save ?? {})) {
        const v = at(answer, path);
        if (typeof v !== 'string') throw new AwsError(`${step.action} answered without ${path}`);
        out.made[name] = v;
      }
      return;
    }
    case 'wait-instance': {
      const id = idOf(step.id, out);
      const i = await poll(
        `instance ${id} to be ${step.until}`,
        async (seen) => {
          const i = await describe(ec2, id);
          const state = i.State?.Name ?? 'unknown';
          seen.last = state;
          if (state === 'terminated' || state === 'shutting-down') {
            throw new AwsError(`instance ${id} went ${state}${i.StateReason?.Message === undefined ? '' : `: ${i.StateReason.Message}`}`);
          }
          return state === step.until ? i : null;
        },
        { timeoutMs: op.timeoutMs, ...WAIT },
      );
      out.instances.set(id, i);
      return;
    }
    case 'wait-volume': {
      const id = idOf(step.id, out);
      const v = await poll(
        `volume ${id} to be ${step.until}`,
        async (seen) => {
          const v = (await ec2.describeVolumes({ VolumeIds: [id] })).Volumes?.[0];
          if (v === undefined) throw new AwsError(`volume ${id} is gone`);
          const a = v.Attachments?.[0];
          seen.last = a === undefined ? String(v.State) : `${v.State}, ${a.State} to ${a.InstanceId}`;
          if (v.State === 'error') throw new AwsError(`volume ${id} failed (state error)`);
          return (step.until === 'attached' ? a?.State === 'attached' : v.State === 'available') ? v : null;
        },
        { timeoutMs: op.timeoutMs, ...WAIT },
      );
      out.volumes.set(id, v);
      return;
    }
    case 'wait-snapshots': {
      const ids = step.ids.map((i) => idOf(i, out));
      await poll(
        `snapshot(s) ${ids.join(', ')} to complete`,
        async (seen) => {
          const { Snapshots = [] } = await ec2.describeSnapshots({ SnapshotIds: ids });
          const failed = Snapshots.find((s) => s.State === 'error');
          if (failed !== undefined) throw new AwsError(`snapshot ${failed.SnapshotId} failed (state error${failed.StateMessage ? `: ${failed.StateMessage}` : ''})`);
          const pending = Snapshots.filter((s) => s.State !== 'completed');
          seen.last = pending.map((s) => `${s.SnapshotId} ${s.State} ${s.Progress ?? ''}`.trim()).join(', ') || 'all completed';
          return pending.length === 0 && Snapshots.length === ids.length ? true : null;
        },
        { timeoutMs: op.timeoutMs, firstDelayMs: 200, maxDelayMs: 15_000 },
      );
      return;
    }
    case 'wait-ssh': {
      const id = idOf(step.instance, out);
      const i = out.instances.get(id) ?? (await describe(ec2, id));
      const address = step.address === 'public' ? (i.PublicIpAddress ?? i.PrivateIpAddress) : i.PrivateIpAddress;
      if (address === undefined) throw new AwsError(`instance ${id} has no ${step.address} address to check SSH on`);
      await waitForSsh(address, step.port, op.timeoutMs);
      return;
    }
    case 'wait-gone': {
      await poll(
        `${step.what} ${step.ids.join(', ')} to be ${step.what === 'instances' ? 'terminated' : 'deleted'}`,
        async (seen) => {
          const left = await stillThere(ec2, step.what, step.ids);
          seen.last = left.join(', ');
          return left.length === 0 ? true : null;
        },
        { timeoutMs: op.timeoutMs, firstDelayMs: 200, maxDelayMs: 5000 },
      );
      return;
    }
  }
}

/** The ones of `ids` EC2 still lists, each with its state. */
async function stillThere(ec2: EC2, what: 'instances' | 'volumes', ids: string[]): Promise<string[]> {
  if (what === 'instances') {
    const r = await ec2.describeInstances({ InstanceIds: ids });
    return (r.Reservations ?? []).flatMap((x) => x.Instances ?? []).filter((i) => i.State?.Name !== 'terminated').map((i) => `${i.InstanceId} ${i.State?.Name}`);
  }
  // A filter, not VolumeIds: a volume already gone is no error.
  const { Volumes = [] } = await ec2.describeVolumes({ Filters: [{ Name: 'volume-id', Values: ids }] });
  return Volumes.map((v) => `${v.VolumeId} ${v.State}`);
}

/** Runs the operations' steps in order; a stale inventory cache is emptied whatever happens. */
export async function runEc2Operations(ops: readonly Ec2Op[], projectDir: string): Promise<Ec2Outcome> {
  const out: Ec2Outcome = { made: {}, instances: new Map(), volumes: new Map(), result: {} };
  let stale = false;
  try {
    for (const op of ops) {
      const ec2 = await ec2Client(op.aws);
      for (const step of op.steps) {
        if (step.do === 'call' && INVENTORY_CHANGING.includes(step.action)) stale = true;
        await runStep(ec2, step, op, out);
      }
      if (op.result !== undefined) Object.assign(out.result, resolve(op.result, out));
      if (op.msg !== undefined) out.msg = op.msg.map((part) => idOf(part, out)).join('');
    }
  } finally {
    if (stale) await invalidateInventoryCache(projectCacheDir(projectDir));
  }
  return out;
}

/** An operation of calls alone (no waits, so no bound for them). */
export const callsOp = (aws: HeldSettings, steps: Ec2Step[], result?: Vars): Ec2Op => ({ kind: 'ec2', aws: revealed(aws), timeoutMs: 0, steps, ...(result === undefined ? {} : { result }) });
