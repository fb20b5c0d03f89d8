import { Type } from '@sinclair/typebox';
import { defineModule, ModuleError } from '../runner/types.js';

/** Proves the host answers a command (login, shell and become all work): one round trip. */
export const ping = defineModule({
  name: 'ping',
  schema: Type.Object({}, { additionalProperties: false }),
  async gather(ctx) {
    const r = await ctx.conn.sh('echo pong');
    if (r.rc !== 0 || r.stdout.trim() !== 'pong') {
      throw new ModuleError(`ping: host answered rc ${r.rc}: ${r.stderr.trim() || r.stdout.trim()}`);
    }
    return 'pong' as const;
  },
  plan: (_args, pong) => ({ changes: [], msg: pong, result: { ping: pong } }),
});
