// The shape every ec2_* module's plan takes: a pure list of steps, each an EC2 call (or a wait) with
// the line the user reads ("CreateVpc 10.0.0.0/16 tags Name=redis-vpc,project=redis-lab"). The plan
// shows the lines; apply rebuilds the same list from the same facts and runs it in order, the later
// steps reading what earlier ones made (a new VPC's id) from the shared state.
import type { EC2 } from '@aws-sdk/client-ec2';
import type { Plan, Vars } from '../../runner/types.js';

export interface Step<S> {
  description: string;
  run(ec2: EC2, state: S): Promise<void>;
}

export function planOf<S>(steps: readonly Step<S>[], okMsg: string, result?: Vars): Plan {
  return { changes: steps.map((s) => ({ description: s.description })), msg: steps.length === 0 ? okMsg : undefined, ...(result === undefined ? {} : { result }) };
}

export async function runSteps<S>(ec2: EC2, steps: readonly Step<S>[], state: S): Promise<S> {
  for (const s of steps) await s.run(ec2, state);
  return state;
}

/** A value an earlier step of this run must have set (a bug otherwise, not the user's mistake). */
export function made<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`internal: ${what} is not known at this step`);
  return value;
}
