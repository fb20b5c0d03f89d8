import { Type } from '@sinclair/typebox';
import { defineModule, ModuleError } from '../runner/types.js';
import { conditionTruth } from '../runner/vars/index.js';

const schema = Type.Object(
  {
    /** Expressions (as in `when:`) that must all be true. */
    that: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })]),
    fail_msg: Type.Optional(Type.String()),
    success_msg: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

interface Verdict {
  expr: string;
  value: unknown;
  holds: boolean;
}

/** Fails the task on the host unless every expression holds. */
export const assert = defineModule({
  name: 'assert',
  schema,
  // Expressions, evaluated here against the task's variables, not interpolated by the engine.
  rawArgs: ['that'],
  // A fail_msg built from a secret stays a Secret, so the failure prints it masked.
  keepsSecrets: true,
  async gather(ctx, args): Promise<Verdict[]> {
    const exprs = typeof args.that === 'string' ? [args.that] : args.that;
    return exprs.map((expr) => {
      try {
        const value = ctx.evaluate(expr);
        // Judged as `when:` judges (a string "false" does not hold; [] does not hold).
        return { expr, value, holds: conditionTruth(expr)(value) };
      } catch (e) {
        throw new ModuleError(`assert: cannot evaluate '${expr}': ${(e as Error).message}`, { assertion: expr });
      }
    });
  },
  plan(args, verdicts) {
    const failed = verdicts.find((v) => !v.holds);
    if (failed) {
      const why = `assertion failed: ${failed.expr}`;
      throw new ModuleError(args.fail_msg ? `${args.fail_msg} (${why})` : why, {
        assertion: failed.expr,
        evaluated_to: failed.value,
      });
    }
    return { changes: [], msg: args.success_msg ?? 'all assertions passed' };
  },
});
