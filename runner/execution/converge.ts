// One task's module on one host: gather, plan, and (outside check mode) apply exactly the plan's
// operations; a plan that says `replan` is gathered and planned again after its operations ran,
// until a plan has nothing left. The engine and the tests' converge() both go through here.
import { ModuleError, type ApplyResult, type Change, type Module, type ModuleContext, type Operation, type Plan, type Vars } from '../types.js';
import { fingerprint } from './fingerprint.js';

/** Enough for any formation or waiter a module plans step by step; more is a module that never settles. */
const MAX_ROUNDS = 200;

export interface Converged {
  /** What was planned from the first gather: what check mode reports. */
  planned: Plan;
  /** Every change applied, over all rounds (planned's alone in check mode or without replan). */
  applied: Change[];
  /** The apply results merged; undefined when nothing was applied. */
  result?: ApplyResult;
  /** After re-plans: the last plan, which had nothing left to do (its msg and result say how things ended). */
  settled?: Plan;
  /** The first gather's fingerprint: the state the plan was made from. */
  fingerprint: string;
}

export interface ConvergeOptions {
  check: boolean;
  /** What the operations go through between plan and apply (tests: encode and decode them). */
  transport?: (ops: readonly Operation[]) => readonly Operation[];
}

export async function converge(mod: Module, ctx: ModuleContext, args: Vars, o: ConvergeOptions): Promise<Converged> {
  let actual = await mod.gather(ctx, args);
  const planned = mod.plan(args, actual);
  const first = fingerprint(actual);
  if (o.check || planned.changes.length === 0) return { planned, applied: [], fingerprint: first };
  const applied: Change[] = [];
  let result: ApplyResult | undefined;
  let plan = planned;
  let state = first;
  let settled: Plan | undefined;
  for (let round = 1; ; round++) {
    const ops = plan.changes.map((c) => c.op);
    const r = await mod.apply?.(ctx, o.transport ? o.transport(ops) : ops);
    result = merge(result, r ?? {});
    applied.push(...plan.changes);
    if (!plan.replan) break;
    actual = await mod.gather(ctx, args);
    const next = mod.plan(args, actual);
    if (next.changes.length === 0) {
      settled = next;
      break;
    }
    const now = fingerprint(actual);
    if (now === state) throw new ModuleError(`applying "${describe(plan)}" left the state as it was; would do it again: ${describe(next)}`);
    if (round >= MAX_ROUNDS) throw new ModuleError(`still not settled after ${round} rounds; next: ${describe(next)}`);
    state = now;
    plan = next;
  }
  return { planned, applied, result, settled, fingerprint: first };
}

function merge(a: ApplyResult | undefined, b: ApplyResult): ApplyResult {
  if (!a) return b;
  return {
    msg: b.msg ?? a.msg,
    result: { ...a.result, ...b.result },
    setVars: { ...a.setVars, ...b.setVars },
    // Unchanged only if every round said so.
    changed: a.changed === false && b.changed === false ? false : undefined,
  };
}

export function describe(plan: Pick<Plan, 'changes'>): string {
  return plan.changes.map((c) => c.description).join('; ');
}
