import { Type } from '@sinclair/typebox';
import { shQuote } from '../runner/connection/quote.js';
import { defineModule } from '../runner/types.js';
import { hostSh } from './host/exec.js';
import { gatherGuards, planRun, runArgs, runResult, type Guards } from './host/run-command.js';

const schema = Type.Object(
  {
    /** A script for /bin/sh: pipes, redirections and variables work. */
    cmd: Type.String({ minLength: 1 }),
    ...runArgs,
  },
  { additionalProperties: false },
);

/** Runs a /bin/sh script. Changed whenever it runs; creates/removes make it idempotent. */
export const shell = defineModule({
  name: 'shell',
  schema,
  opaque: true,
  freeForm: 'cmd',
  gather: (ctx, args): Promise<Guards> => gatherGuards(ctx, args),
  plan: (args, guards) => planRun(args.cmd, args, guards),
  async legacyApply(ctx, args) {
    // The connection already runs scripts with /bin/sh; chdir is one more line in front.
    const script = args.chdir ? `cd -- ${shQuote(args.chdir)} || exit\n${args.cmd}` : args.cmd;
    return runResult(args.cmd, await hostSh(ctx, script, [], { stdin: args.stdin }));
  },
});
