import { randomBytes } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import calculateSlot from 'cluster-key-slot';
import type { Redis } from 'ioredis';
import type { Connection } from '../runner/connection/connection.js';
import { isRefused, loadLogin, redisLoginArgs, type RedisLoginArgs } from './redis/login.js';
import { openRedis, openTaskCluster, type RedisLogin } from './redis/open-redis.js';
import { defineModule, NotYetThere } from '../runner/types.js';

/** The namespace reserved for rplay's own test keys; the probe user's ACL reaches nothing else. */
const PROBE_PREFIX = 'rplay:verify:';

const endpoint = Type.Object(
  {
    address: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    /** Inventory name of the instance's host: what check mode waits for when it is not running. */
    host: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: true },
);

const schema = Type.Object(
  {
    /** Seeds of the cluster client. */
    instances: Type.Array(endpoint, { minItems: 1 }),
    /** The key's lifetime should rplay die between write and delete. Default 60 s. */
    ttl_ms: Type.Optional(Type.Integer({ minimum: 1000, maximum: 600_000 })),
    ...redisLoginArgs,
  },
  { additionalProperties: false },
);

type Endpoint = { address: string; port: number };

/** What the probe saw; `error` is the first refusal (a refusal is a result for the playbook to judge). */
interface ProbeResult {
  key: string;
  slot: number;
  /** "address:port" of the master that owns the key's slot, as the cluster client learnt it. */
  node: string | null;
  set: unknown;
  /** The owning master returned exactly the value written. */
  read_back: boolean;
  deleted: unknown;
  error: string | null;
}

/** Write the key through a cluster client, read it back on the slot's owner, delete it. */
export interface ProbeOp {
  kind: 'probe';
  seeds: Endpoint[];
  key: string;
  value: string;
  slot: number;
  /** The owner when gathered (what check mode names). */
  node: string;
  ttlMs: number;
  login: RedisLoginArgs;
}

/** The probe's key (free) and its slot's owner, or the cluster refused this login (the playbook judges that). */
type ProbeTarget = Pick<ProbeOp, 'key' | 'value' | 'slot' | 'node'>;
export type ProbeActual = { refused: false; target: ProbeTarget } | { refused: true; result: ProbeResult };

/** ioredis says only that no seed answered; one plain login says why (WRONGPASS, NOPERM, refused). */
async function why(conn: Connection, seed: Endpoint, login: RedisLogin, message: string): Promise<{ refused: boolean; message: string }> {
  if (!/None of startup nodes is available/.test(message)) return { refused: false, message };
  const reason = await openRedis(conn, { ...login, host: seed.address, port: seed.port }).then(
    (c) => (c.disconnect(), undefined),
    (err: Error) => err,
  );
  if (reason === undefined) return { refused: false, message };
  return { refused: isRefused(reason), message: `${seed.address}:${seed.port}: ${reason.message}` };
}

/**
 * The runbook's Test 2 without touching user data: a cluster client writes a random key in
 * `rplay:verify:` (SET NX PX, so it never overwrites and never outlives a crash), the master that
 * owns its slot is asked for it directly, and the key is deleted again. Gathering reads only (the key
 * is free, which master owns its slot); the write is the plan's operation, which check mode does
 * not run.
 */
export const redisProbe = defineModule<typeof schema, ProbeActual, ProbeOp>({
  name: 'redis_probe',
  schema,
  opaque: true,
  async gather(ctx, args) {
    const seeds = args.instances.map((i) => ({ address: i.address, port: i.port }));
    const loginArgs = { login_user: args.login_user, login_password: args.login_password, tls: args.tls };
    // The probe leaves nothing behind: once what it needs is there, nothing is left changed.
    const notYet = (e: NotYetThere, on?: string): NotYetThere => new NotYetThere(`redis_probe: ${e.message}`, e.missing, { by: e.by, on: on ?? e.on, unchanged: true });
    let login: RedisLogin;
    try {
      login = await loadLogin(ctx.projectDir, loginArgs);
    } catch (e) {
      if (e instanceof NotYetThere) throw notYet(e);
      throw e;
    }
    const key = `${PROBE_PREFIX}${randomBytes(12).toString('hex')}`;
    const slot = calculateSlot(key);
    const refused = (error: string): ProbeActual => ({ refused: true, result: { key, slot, node: null, set: null, read_back: false, deleted: null, error } });
    const cluster = openTaskCluster(ctx.conn, seeds, login);
    try {
      const there = await cluster.call('GET', key);
      const node = cluster.slots[slot]?.[0];
      if (there !== null) return refused(`${key} exists already`);
      if (node === undefined) return refused(`no master owns slot ${slot}`);
      return { refused: false, target: { key, value: randomBytes(16).toString('hex'), slot, node } };
    } catch (e) {
      const seed = args.instances[0]!;
      const w = await why(ctx.conn, seed, login, (e as Error).message);
      if (w.refused) throw notYet(new NotYetThere(`nothing accepts connections on ${w.message}`, `instance ${seed.address}:${seed.port} (not running)`), seed.host ?? '*');
      return refused(w.message);
    } finally {
      cluster.disconnect();
    }
  },
  plan(args, actual) {
    if (actual.refused) return { changes: [], msg: `refused: ${actual.result.error}`, result: { ...actual.result } };
    const op: ProbeOp = {
      kind: 'probe',
      seeds: args.instances.map((i) => ({ address: i.address, port: i.port })),
      ...actual.target,
      ttlMs: args.ttl_ms ?? 60_000,
      login: { login_user: args.login_user, login_password: args.login_password, tls: args.tls },
    };
    return { changes: [{ description: `write, read back and delete ${op.key} (slot ${op.slot}) on ${op.node} as ${args.login_user}`, op }] };
  },
  async apply(ctx, ops) {
    let last: ProbeResult | undefined;
    for (const op of ops) {
      const login = await loadLogin(ctx.projectDir, op.login);
      const out: ProbeResult = { key: op.key, slot: op.slot, node: null, set: null, read_back: false, deleted: null, error: null };
      const cluster = openTaskCluster(ctx.conn, op.seeds, login);
      let owner: Redis | undefined;
      try {
        out.set = await cluster.call('SET', op.key, op.value, 'NX', 'PX', String(op.ttlMs));
        out.node = cluster.slots[op.slot]?.[0] ?? null;
        if (out.node !== null) {
          const [host, port] = [out.node.slice(0, out.node.lastIndexOf(':')), Number(out.node.slice(out.node.lastIndexOf(':') + 1))];
          owner = await openRedis(ctx.conn, { ...login, host, port });
          out.read_back = (await owner.call('GET', op.key)) === op.value;
        }
      } catch (e) {
        out.error = (await why(ctx.conn, op.seeds[0]!, login, (e as Error).message)).message;
      } finally {
        owner?.disconnect();
        // Deleted whatever happened above; the expiry covers a failed delete.
        try {
          out.deleted = await cluster.call('DEL', op.key);
        } catch (e) {
          out.error ??= (e as Error).message;
        }
        cluster.disconnect();
      }
      last = out;
    }
    if (last === undefined) return {};
    const msg = last.error === null ? `${last.key} (slot ${last.slot}) on ${last.node}: set ${JSON.stringify(last.set)}, read back ${last.read_back}, deleted ${String(last.deleted)}` : `refused: ${last.error}`;
    return { msg, result: { ...last } };
  },
});
