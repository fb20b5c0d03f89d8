// The tests' way to run a module as the engine does (runner/execution/converge.ts), with its
// operations sent through their encoding between plan and apply: what runs is the plan, as data.
import * as assert from 'uvu/assert';
import type { Static, TSchema } from '@sinclair/typebox';
import { converge, type Converged } from '../../runner/execution/converge.js';
import { decodeOperations, encodeOperations } from '../../runner/execution/operations.js';
import type { Module, ModuleContext, Operation, Plan, Vars } from '../../runner/types.js';

export const overTheWire = (ops: readonly Operation[]): Operation[] => decodeOperations(encodeOperations(ops));

/** One real run of the module: gather, plan, apply exactly the (encoded, decoded) operations, re-plan while asked. */
export function apply<S extends TSchema, A>(mod: Module<S, A>, ctx: ModuleContext, args: Static<S>): Promise<Converged> {
  return converge(mod as unknown as Module, ctx, args as Vars, { check: false, transport: overTheWire });
}

/** What check mode sees: gather and plan, nothing applied. */
export async function checkPlan<S extends TSchema, A>(mod: Module<S, A>, ctx: ModuleContext, args: Static<S>): Promise<Plan> {
  return (await converge(mod as unknown as Module, ctx, args as Vars, { check: true })).planned;
}

/** Changed, then not changed: the first run has changes and applies their operations; a fresh gather then plans nothing. */
export async function changedThenNot<S extends TSchema, A>(mod: Module<S, A>, ctx: ModuleContext, args: Static<S>): Promise<Converged> {
  const first = await apply(mod, ctx, args);
  assert.ok(first.planned.changes.length > 0, `${mod.name}: expected changes on the first run, got: ${first.planned.msg}`);
  assert.equal((await checkPlan(mod, ctx, args)).changes, [], `${mod.name}: expected no changes on the second run`);
  return first;
}
