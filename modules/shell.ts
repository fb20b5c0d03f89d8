import { Type } from '@sinclair/typebox';
import { shQuote } from '../runner/connection/quote.js';
import { defineModule } from '../runner/types.js';
import { gatherGuards, planRun, runArgs, runIn, runResult, type Guards, type RunIn } from './host/run-command.js';

const schema = Type.Object(
  {
    /** A script for /bin/sh: pipes, redirections and variables work. */
    cmd: Type.String({ minLength: 1 }),
    ...runArgs,
  },
  { additionalProperties: false },
);

/** Runs `script` with /bin/sh, in `chdir`, `stdin` on its input. */
export type ShellOp = { kind: 'sh'; script: string } & RunIn;

/** Runs a /bin/sh script. Changed whenever it runs; creates/removes make it idempotent. */
export const shell = defineModule<typeof schema, Guards, ShellOp>({
  name: 'shell',
  schema,
  opaque: true,
  freeForm: 'cmd',
  gather: (ctx, args): Promise<Guards> => gatherGuards(ctx, args),
  plan: (args, guards) => planRun(args.cmd, args, guards, { kind: 'sh', script: args.cmd, ...runIn(args) }),
  async apply(ctx, ops) {
    let last;
    for (const { script, chdir, stdin } of ops) {
      // The connection already runs scripts with /bin/sh; chdir is one more line in front.
      const text = chdir ? `cd -- ${shQuote(chdir)} || exit\n${script}` : script;
      last = runResult(script, await ctx.conn.sh(text, [], { stdin }));
    }
    return last;
  },
});
