import { createHash } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { addressesIn, addressMoves, readdressNodesConf } from './redis/nodes-conf.js';
import { defineModule, ModuleError, type ModuleContext } from '../runner/types.js';
import { tail } from './host/tail.js';
import { initSystem, unitActions, UNIT_STATE_SH, type InitSystem } from './host/unit-control.js';

const schema = Type.Object(
  {
    /** This node's instances (redis_topology's `redis_local_instances`). */
    instances: Type.Array(Type.Object({ port: Type.Integer({ minimum: 1, maximum: 65535 }) }, { additionalProperties: true }), { minItems: 1 }),
    /** The hosts whose moves count (default: group redis). */
    group: Type.Optional(Type.String({ minLength: 1 })),
    /** Host variable with the new (private) address (default private_ip). */
    address_var: Type.Optional(Type.String({ minLength: 1 })),
    /** Instance tag with the address the node had when its snapshot was taken (set by ec2_root_volume). */
    previous_address_tag: Type.Optional(Type.String({ minLength: 1 })),
    /** The instance's data dir is <data_root>/<port>, nodes.conf in it (default /var/lib/redis). */
    data_root: Type.Optional(Type.String({ minLength: 1 })),
    service_prefix: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9@_.:-]*$' })),
  },
  { additionalProperties: false },
);

type ReaddressArgs = Static<typeof schema>;

interface ConfFacts {
  port: number;
  unit: string;
  path: string;
  running: boolean;
  text: string | null;
  /** The moves last applied to this instance's nodes.conf (its marker file), or ''. */
  applied: string;
}

export interface ReaddressActual {
  init: InitSystem;
  moves: [string, string][];
  confs: ConfFacts[];
}

/**
 * One instance's nodes.conf moved to the new addresses: stop its unit first if it runs, keep the old
 * file beside it, write `text`, record `marker` (the moves) beside it.
 */
export interface ReaddressOp {
  kind: 'readdress';
  path: string;
  text: string;
  marker: string;
  /** The unit to stop first (running when planned), and how the host runs units. */
  stop?: { unit: string; init: InitSystem };
}

/** Beside nodes.conf: which moves were applied to it (so a re-run never moves an address twice). */
const MARKER = 'rplay-readdressed';

// Per instance: "@@ <port> <state> <present|absent> [<marker>]", then nodes.conf base64 on one line.
const GATHER = `${UNIT_STATE_SH}
while [ $# -gt 0 ]; do
  port=$1 unit=$2 conf=$3; shift 3
  st=$(unit_state "$unit")
  m=$(head -n 1 -- "$(dirname -- "$conf")/${MARKER}" 2>/dev/null || true)
  if [ -f "$conf" ]; then echo "@@ $port \${st:-unknown} present $m"; base64 -w0 < "$conf"; echo; else echo "@@ $port \${st:-unknown} absent $m"; echo; fi
done`;

/** The moves as the marker records them. */
export function movesKey(moves: ReadonlyMap<string, string>): string {
  return createHash('sha256').update(JSON.stringify([...moves].sort())).digest('hex');
}

function movesFrom(ctx: ModuleContext, args: ReaddressArgs): Map<string, string> {
  const tag = args.previous_address_tag ?? 'rplay:restored-address';
  const pairs = ctx.inventory.groupHosts(args.group ?? 'redis').map((host) => {
    const vars = ctx.inventory.hostVars(host);
    const tags = vars.tags;
    const from = tags !== null && typeof tags === 'object' ? (tags as Record<string, unknown>)[tag] : undefined;
    const to = vars[args.address_var ?? 'private_ip'];
    return { host, from: String(from ?? ''), to: String(to ?? '') };
  });
  try {
    return addressMoves(pairs);
  } catch (e) {
    throw new ModuleError(`redis_readdress: ${(e as Error).message}`);
  }
}

/** The file as it should be, or null when there is nothing to do (no file, moves applied already, nothing to move). */
function rewritten(c: ConfFacts, moves: Map<string, string>): string | null {
  if (c.text === null || c.applied === movesKey(moves)) return null;
  const text = readdressNodesConf(c.text, moves);
  return text === c.text ? null : text;
}

/**
 * A cluster restored onto new machines (scenario 2, disaster recovery) keeps its identity: each
 * instance's nodes.conf is moved from the addresses the nodes had when snapshotted (the instances'
 * rplay:restored-address tags) to their addresses now. An instance whose file changes is stopped
 * first (Redis rewrites nodes.conf from memory) and left stopped: the Redis phases then write its
 * config for the new address and start it. A marker beside nodes.conf records the moves applied,
 * so a re-run never moves an address twice (a new address may be another node's old one).
 * Nothing to move is ok.
 */
export const redisReaddress = defineModule<typeof schema, ReaddressActual, ReaddressOp>({
  name: 'redis_readdress',
  schema,
  async gather(ctx, args): Promise<ReaddressActual> {
    const moves = movesFrom(ctx, args);
    const prefix = args.service_prefix ?? 'redis-';
    const root = args.data_root ?? '/var/lib/redis';
    const triples = args.instances.flatMap((i) => [String(i.port), `${prefix}${i.port}`, `${root}/${i.port}/nodes.conf`]);
    const r = await ctx.conn.sh(GATHER, triples);
    if (r.rc !== 0) throw new ModuleError(`redis_readdress: reading nodes.conf on ${ctx.host} failed: ${tail(r.stderr)}`);
    const [init, ...rest] = r.stdout.split('\n');
    const confs: ConfFacts[] = [];
    for (let k = 0; k + 1 < rest.length; k += 2) {
      const m = /^@@ (\d+) (\S+) (present|absent) ?(\S*)$/.exec(rest[k] ?? '');
      if (m === null) continue;
      const port = Number(m[1]);
      confs.push({
        port,
        unit: `${prefix}${port}`,
        path: `${root}/${port}/nodes.conf`,
        running: ['active', 'activating', 'reloading'].includes(m[2]),
        text: m[3] === 'present' ? Buffer.from(rest[k + 1] ?? '', 'base64').toString('utf8') : null,
        applied: m[4] ?? '',
      });
    }
    return { init: initSystem(init), moves: [...moves], confs };
  },
  plan(_args, actual) {
    const moves = new Map(actual.moves);
    const marker = movesKey(moves);
    const changes = actual.confs.flatMap((c) => {
      const text = rewritten(c, moves);
      if (text === null) return [];
      const old = [...new Set(addressesIn(c.text ?? '').filter((a) => moves.has(a)))];
      const op: ReaddressOp = { kind: 'readdress', path: c.path, text, marker, ...(c.running ? { stop: { unit: c.unit, init: actual.init } } : {}) };
      return [{ description: `${c.running ? `stop ${c.unit}, ` : ''}move ${c.path} from ${old.join(', ')} to ${old.map((a) => moves.get(a)).join(', ')}`, op }];
    });
    return { changes, msg: moves.size === 0 ? 'no node moved' : 'nodes.conf names the current addresses' };
  },
  async apply(ctx, ops) {
    for (const op of ops) {
      if (op.stop) {
        const stop = await unitActions(ctx, op.stop.init, op.stop.unit, ['stop']);
        if (stop.rc !== 0) throw new ModuleError(`redis_readdress: stopping ${op.stop.unit} failed: ${tail(stop.stderr)}`);
      }
      // Kept beside it, as it was: the one record of the old layout.
      const keep = await ctx.conn.sh('cp -p -- "$1" "$1.before-readdress"', [op.path]);
      if (keep.rc !== 0) throw new ModuleError(`redis_readdress: keeping a copy of ${op.path} failed: ${tail(keep.stderr)}`);
      await ctx.conn.writeFile(op.path, op.text);
      const dir = op.path.slice(0, op.path.lastIndexOf('/'));
      await ctx.conn.writeFile(`${dir}/${MARKER}`, `${op.marker}\n`, { mode: '0640' });
    }
  },
});
