import { Type } from '@sinclair/typebox';
import { isSecret, MASK } from '../runner/secret.js';
import { defineModule } from '../runner/types.js';

const schema = Type.Union([
  Type.Object({ msg: Type.Unknown() }, { additionalProperties: false }),
  Type.Object({ var: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
]);

type Shown = { msg: unknown } | { var: string; value: unknown };

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v, null, 2) ?? 'undefined';
}

/** Prints a message or a variable's value (Secrets stay masked: they print as ********). */
export const debug = defineModule({
  name: 'debug',
  schema,
  keepsSecrets: true,
  // `var` names an expression the module evaluates itself, so the engine must not interpolate it.
  rawArgs: ['var'],
  async gather(ctx, args): Promise<Shown> {
    return 'var' in args ? { var: args.var, value: ctx.evaluate(args.var) } : { msg: args.msg };
  },
  plan(_args, shown) {
    if ('var' in shown) {
      return { changes: [], msg: `${shown.var} = ${show(shown.value)}`, result: { [shown.var]: shown.value } };
    }
    // A message built from a secret is a Secret (the engine keeps it wrapped for this module).
    return { changes: [], msg: isSecret(shown.msg) ? MASK : show(shown.msg), result: { msg: shown.msg } };
  },
});
