// Waiting for an instance or a volume to reach a state (EC2 changes them in the background).
import type { EC2, Volume } from '@aws-sdk/client-ec2';
import { AwsError } from './errors.js';
import { namedInstance, type NamedInstance } from './instances-by-name.js';
import { poll } from './wait.js';

export async function describeInstance(ec2: EC2, id: string, name: string): Promise<NamedInstance> {
  const r = await ec2.describeInstances({ InstanceIds: [id] });
  const i = r.Reservations?.[0]?.Instances?.[0];
  if (i === undefined) throw new AwsError(`instance ${id} (${name}) is not described by EC2`);
  return namedInstance(name, i);
}

/** Polls until the instance is in one of `states`; terminated on the way is an error. */
export function settleInstance(ec2: EC2, id: string, name: string, states: readonly string[], timeoutMs: number): Promise<NamedInstance> {
  return poll(
    `instance ${id} (${name}) to be ${states.join(' or ')}`,
    async (seen) => {
      const i = await describeInstance(ec2, id, name);
      seen.last = i.state;
      if (i.state === 'terminated' || i.state === 'shutting-down') throw new AwsError(`instance ${id} (${name}) went ${i.state}`);
      return states.includes(i.state) ? i : null;
    },
    { timeoutMs, firstDelayMs: 100, maxDelayMs: 5000 },
  );
}

/** Polls until `ready` holds for the volume; state error is an error. */
export function settleVolume(ec2: EC2, id: string, what: string, ready: (v: Volume) => boolean, timeoutMs: number): Promise<Volume> {
  return poll(
    `volume ${id} to be ${what}`,
    async (seen) => {
      const { Volumes = [] } = await ec2.describeVolumes({ VolumeIds: [id] });
      const v = Volumes[0];
      if (v === undefined) throw new AwsError(`volume ${id} is not described by EC2`);
      seen.last = `${v.State}${v.Attachments?.[0]?.State === undefined ? '' : ` (${v.Attachments[0].State})`}`;
      if (v.State === 'error') throw new AwsError(`volume ${id} failed (state error)`);
      return ready(v) ? v : null;
    },
    { timeoutMs, firstDelayMs: 100, maxDelayMs: 5000 },
  );
}
