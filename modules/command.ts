import { Type } from '@sinclair/typebox';
import { shJoin } from '../runner/connection/quote.js';
import { defineModule, ModuleError } from '../runner/types.js';
import { hostSh } from './host/exec.js';
import { gatherGuards, planRun, runArgs, runResult, type Guards } from './host/run-command.js';
import { splitArgv } from './host/split-argv.js';

const schema = Type.Object(
  {
    /** A command line, split into words as sh would but run without a shell ($VAR, |, > stay literal). */
    cmd: Type.Optional(Type.String({ minLength: 1 })),
    /** The words themselves. */
    argv: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
    ...runArgs,
  },
  { additionalProperties: false, oneOf: [{ required: ['cmd'] }, { required: ['argv'] }] },
);

function argvOf(args: { cmd?: string; argv?: string[] }): string[] {
  if (args.argv) return args.argv;
  try {
    return splitArgv(args.cmd ?? '');
  } catch (e) {
    throw new ModuleError(`command: ${(e as Error).message}`);
  }
}

/** Runs a program directly (no shell). Changed whenever it runs; creates/removes make it idempotent. */
export const command = defineModule({
  name: 'command',
  schema,
  opaque: true,
  freeForm: 'cmd',
  async gather(ctx, args): Promise<Guards> {
    argvOf(args); // a malformed command line fails before anything runs
    return gatherGuards(ctx, args);
  },
  plan: (args, guards) => planRun(shJoin(argvOf(args)), args, guards),
  async legacyApply(ctx, args) {
    const argv = argvOf(args);
    const opts = { stdin: args.stdin };
    const r = args.chdir
      ? await hostSh(ctx, 'cd -- "$1" || exit; shift; exec "$@"', [args.chdir, ...argv], opts)
      : await ctx.conn.run(argv, opts);
    return runResult(shJoin(argv), r);
  },
});
