import { Type } from '@sinclair/typebox';
import { defineModule, ModuleError } from '../runner/types.js';
import { hostSh } from './host/exec.js';

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

interface PortState {
  state: 'started' | 'stopped';
}

function where(args: { host?: string; port: number }): string {
  return `${args.host ?? '127.0.0.1'}:${args.port}`;
}

/** Waits, from the host itself, until a TCP port accepts connections (or refuses them). Never "changed". */
export const waitFor = defineModule({
  name: 'wait_for',
  schema,
  async gather(ctx, args): Promise<PortState> {
    const r = await hostSh(ctx, PROBE_ONCE, [args.host ?? '127.0.0.1', String(args.port)]);
    return { state: r.stdout.trim() === 'started' ? 'started' : 'stopped' };
  },
  plan(args, actual) {
    const want = args.state ?? 'started';
    if (actual.state === want) return { changes: [], msg: `${where(args)} is ${want}`, result: { elapsed: 0 } };
    return { changes: [{ description: `wait up to ${args.timeout ?? 300} s for ${where(args)} to be ${want}` }] };
  },
  async legacyApply(ctx, args) {
    const want = args.state ?? 'started';
    const timeout = args.timeout ?? 300;
    const t0 = Date.now();
    const r = await hostSh(ctx, POLL, [args.host ?? '127.0.0.1', String(args.port), want, String(Math.round(timeout * 1000)), String(args.delay ?? 0)]);
    const elapsed = Math.round((Date.now() - t0) / 100) / 10;
    if (r.rc !== 0) throw new ModuleError(`timeout: ${where(args)} still not ${want} after ${elapsed} s`, { elapsed });
    // Waiting changes nothing on the host.
    return { changed: false, msg: `${where(args)} ${want} after ${elapsed} s`, result: { elapsed } };
  },
});
