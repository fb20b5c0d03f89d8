import { Type } from '@sinclair/typebox';
import { shJoin } from '../runner/connection/quote.js';
import { defineModule, ModuleError } from '../runner/types.js';
import { gatherGuards, planRun, runArgs, runIn, runResult, type Guards, type RunIn } from './host/run-command.js';
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

/** Runs the program `argv` (no shell), in `chdir`, `stdin` on its input. */
export type CommandOp = { kind: 'exec'; argv: string[] } & RunIn;

/** Runs a program directly (no shell). Changed whenever it runs; creates/removes make it idempotent. */
export const command = defineModule<typeof schema, Guards, CommandOp>({
  name: 'command',
  schema,
  opaque: true,
  freeForm: 'cmd',
  async gather(ctx, args): Promise<Guards> {
    argvOf(args); // a malformed command line fails before anything runs
    return gatherGuards(ctx, args);
  },
  plan(args, guards) {
    const argv = argvOf(args);
    return planRun(shJoin(argv), args, guards, { kind: 'exec', argv, ...runIn(args) });
  },
  async apply(ctx, ops) {
    let last;
    for (const { argv, chdir, stdin } of ops) {
      const r = chdir
        ? await ctx.conn.sh('cd -- "$1" || exit; shift; exec "$@"', [chdir, ...argv], { stdin })
        : await ctx.conn.run(argv, { stdin });
      last = runResult(shJoin(argv), r);
    }
    return last;
  },
});
