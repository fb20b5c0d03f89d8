import { randomBytes } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import calculateSlot from 'cluster-key-slot';
import type { Cluster, Redis } from 'ioredis';
import { loadLogin, redisLoginArgs } from './redis/login.js';
import { openCluster, openRedis } from './redis/open-redis.js';
import { defineModule } from '../runner/types.js';

/** The namespace reserved for rplay's own test keys; the probe user's ACL reaches nothing else. */
const PROBE_PREFIX = 'rplay:verify:';

const endpoint = Type.Object({ address: Type.String({ minLength: 1 }), port: Type.Integer({ minimum: 1, maximum: 65535 }) }, { additionalProperties: true });

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

/**
 * The runbook's Test 2 without touching user data: a cluster client writes a random key in
 * `rplay:verify:` (SET NX PX, so it never overwrites and never outlives a crash), the master that
 * owns its slot is asked for it directly, and the key is deleted again. Like redis_command it acts
 * when run: check mode does not run it.
 */
export const redisProbe = defineModule({
  name: 'redis_probe',
  schema,
  opaque: true,
  async gather(): Promise<null> {
    return null;
  },
  plan(args) {
    return { changes: [{ description: `write, read back and delete one ${PROBE_PREFIX}* key as ${args.login_user}` }] };
  },
  async legacyApply(ctx, args) {
    const login = await loadLogin(ctx.projectDir, args);
    const key = `${PROBE_PREFIX}${randomBytes(12).toString('hex')}`;
    const value = randomBytes(16).toString('hex');
    const out: ProbeResult = { key, slot: calculateSlot(key), node: null, set: null, read_back: false, deleted: null, error: null };
    const cluster: Cluster = openCluster(
      ctx.conn,
      args.instances.map((i) => ({ host: i.address, port: i.port })),
      login,
      { enableReadyCheck: false, clusterRetryStrategy: () => null, slotsRefreshTimeout: 5000 },
    );
    cluster.on('error', () => {});
    let owner: Redis | undefined;
    try {
      out.set = await cluster.call('SET', key, value, 'NX', 'PX', String(args.ttl_ms ?? 60_000));
      out.node = cluster.slots[out.slot]?.[0] ?? null;
      if (out.node !== null) {
        const [host, port] = [out.node.slice(0, out.node.lastIndexOf(':')), Number(out.node.slice(out.node.lastIndexOf(':') + 1))];
        owner = await openRedis(ctx.conn, { ...login, host, port });
        out.read_back = (await owner.call('GET', key)) === value;
      }
    } catch (e) {
      out.error = (e as Error).message;
      // ioredis says only that no seed answered; one plain login says why (WRONGPASS, NOPERM, …).
      if (/None of startup nodes is available/.test(out.error)) {
        const seed = args.instances[0]!;
        const why = await openRedis(ctx.conn, { ...login, host: seed.address, port: seed.port }).then(
          (c) => (c.disconnect(), undefined),
          (err: Error) => err.message,
        );
        if (why) out.error = `${seed.address}:${seed.port}: ${why}`;
      }
    } finally {
      owner?.disconnect();
      // Deleted whatever happened above; the expiry covers a failed delete.
      try {
        out.deleted = await cluster.call('DEL', key);
      } catch (e) {
        out.error ??= (e as Error).message;
      }
      cluster.disconnect();
    }
    const msg = out.error === null ? `${key} (slot ${out.slot}) on ${out.node}: set ${JSON.stringify(out.set)}, read back ${out.read_back}, deleted ${String(out.deleted)}` : `refused: ${out.error}`;
    return { msg, result: { ...out } };
  },
});
