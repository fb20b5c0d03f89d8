// The shape of an ec2_* module's plan: changes that each carry one EC2 operation (ec2-operation.ts),
// the line the user reads beside it ("CreateVpc 10.0.0.0/16 tags Name=redis-vpc,project=redis-lab").
// A call whose answer the next ones need (a new VPC's id) ends the round: the engine applies it,
// gathers again and plans the rest from what EC2 then says, so every operation holds real values.
import type { ApplyResult, Change, ModuleContext, Operation, Plan, Vars } from '../../runner/types.js';
import { runEc2Operations, type Ec2Op } from './ec2-operation.js';

export type Ec2Change = Change<Ec2Op>;

export function planOf(changes: Ec2Change[], okMsg: string, result?: Vars): Plan<Ec2Op> {
  return { changes, msg: changes.length === 0 ? okMsg : undefined, ...(result === undefined ? {} : { result }) };
}

/**
 * A plan that creates a resource (or a controller key): this round only that, then a re-plan. `then` is what the
 * next round is expected to do (planned from a new resource's defaults): check mode shows it, in
 * the create's line, since nothing of it runs from this plan.
 */
export function createPlan<O extends Operation>(create: Change<O>, then: readonly Pick<Change, 'description'>[], result?: Vars): Plan<O> {
  const description = then.length === 0 ? create.description : `${create.description} (then ${then.map((c) => c.description).join('; ')})`;
  return { changes: [{ ...create, description }], replan: true, ...(result === undefined ? {} : { result }) };
}

/** What a task would do once what it needs is there (NotYetThere's `would`): the lines, create and follow-ups. */
export function wouldText(create: Pick<Change, 'description'>, then: readonly Pick<Change, 'description'>[]): string {
  return [create, ...then].map((c) => c.description).join('; ');
}

/** A value EC2 must have answered with (a bug otherwise, not the user's mistake). */
export function known<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`internal: EC2 gave no ${what}`);
  return value;
}

/** Every EC2 module's apply: its operations, in order; the results they name (ids made) reported. */
export async function applyEc2(ctx: ModuleContext, ops: readonly Ec2Op[]): Promise<ApplyResult> {
  return { result: (await runEc2Operations(ops, ctx.projectDir)).result };
}
