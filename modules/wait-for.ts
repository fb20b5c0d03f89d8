import { Type } from '@sinclair/typebox';
import { defineModule, ModuleError } from '../runner/types.js';

const schema = Type.Object(
  {
    /** Address to probe, as seen from the host itself. */
    host: Type.Optional(Type.String({ minLength: 1 })),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    state: Type.Optional(Type.Union([Type.Literal('started'), Type.Literal('stopped')])),
    /** Seconds to keep trying. */
    timeout: Type.Optional(Type.Number({ minimum: 0 })),
    /** Seconds to wait before the first probe. */
    delay: Type.Optional(Type.Number({ minimum: 0 })),
  },
  { additionalProperties: false },
);

// A TCP connect from the host: bash's /dev/tcp (lab and cloud images have bash), else nc. `timeout`
// bounds a connect to a filtered port.
const PROBE_FN = `probe() {
  if command -v bash > /dev/null 2>&1; then timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2> /dev/null
  else nc -z -w 2 "$1" "$2" 2> /dev/null; fi
}`;

const PROBE_ONCE = `${PROBE_FN}\nif probe "$1" "$2"; then echo started; else echo stopped; fi`;

// $1 host, $2 port, $3 wanted state, $4 timeout in ms, $5 delay in s. Exit 0 once the state is
// reached, 1 on timeout.
const POLL = `${PROBE_FN}
ms() { t=$(date +%s%N); echo $((t / 1000000)); }
sleep "$5"
end=$(( $(ms) + $4 ))
while :; do
  if probe "$1" "$2"; then s=started; else s=stopped; fi
  [ "$s" = "$3" ] && exit 0
  [ "$(ms)" -lt "$end" ] || exit 1
  sleep 0.2
done`;

/** Polls from the host, for at most `timeoutMs` after `delaySeconds`, until host:port is in `state`. */
export interface WaitOp {
  kind: 'wait';
  host: string;
  port: number;
  state: 'started' | 'stopped';
  timeoutMs: number;
  delaySeconds: number;
}

interface PortState {
  state: 'started' | 'stopped';
}

const DEFAULT_HOST = '127.0.0.1';

function where(to: { host?: string; port: number }): string {
  return `${to.host ?? DEFAULT_HOST}:${to.port}`;
}

/** Waits, from the host itself, until a TCP port accepts connections (or refuses them). Never "changed". */
export const waitFor = defineModule<typeof schema, PortState, WaitOp>({
  name: 'wait_for',
  schema,
  async gather(ctx, args): Promise<PortState> {
    const r = await ctx.conn.sh(PROBE_ONCE, [args.host ?? DEFAULT_HOST, String(args.port)]);
    return { state: r.stdout.trim() === 'started' ? 'started' : 'stopped' };
  },
  plan(args, actual) {
    const want = args.state ?? 'started';
    if (actual.state === want) return { changes: [], msg: `${where(args)} is ${want}`, result: { elapsed: 0 } };
    const timeout = args.timeout ?? 300;
    const op: WaitOp = { kind: 'wait', host: args.host ?? DEFAULT_HOST, port: args.port, state: want, timeoutMs: Math.round(timeout * 1000), delaySeconds: args.delay ?? 0 };
    // Waiting changes nothing on the host: a plan of only this is ok, not changed.
    return { changes: [{ description: `wait up to ${timeout} s for ${where(args)} to be ${want}`, waitOnly: true, op }] };
  },
  async apply(ctx, ops) {
    let last;
    for (const op of ops) {
      const t0 = Date.now();
      const r = await ctx.conn.sh(POLL, [op.host, String(op.port), op.state, String(op.timeoutMs), String(op.delaySeconds)]);
      const elapsed = Math.round((Date.now() - t0) / 100) / 10;
      if (r.rc !== 0) throw new ModuleError(`timeout: ${where(op)} still not ${op.state} after ${elapsed} s`, { elapsed });
      last = { msg: `${where(op)} ${op.state} after ${elapsed} s`, result: { elapsed } };
    }
    return last;
  },
});
