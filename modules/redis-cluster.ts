import { Type } from '@sinclair/typebox';
import type { Redis } from 'ioredis';
import type { Connection } from '../runner/connection/connection.js';
import { FormationError, observeInstance, opInstances, runFormationOp } from './redis/cluster-apply.js';
import { ClusterPlanError, clusterMembers, describeFormationOp, label, observe, planFormation, type FormationOp, type NodeObservation } from './redis/cluster-plan.js';
import { hostLossRisks } from './redis/host-loss.js';
import { isRefused, loadLogin, redisLoginArgs, type RedisLoginArgs } from './redis/login.js';
import { openRedis, type RedisLogin } from './redis/open-redis.js';
import { instanceId, instancesFromArg, redisInstancesArg, type RedisInstance } from './redis/topology.js';
import { defineModule, ModuleError, NotYetThere, prefixedError, type ModuleContext } from '../runner/types.js';

const schema = Type.Object(
  {
    /** The layout, as redis_topology computes it (its `redis_instances` fact). */
    instances: redisInstancesArg,
    ...redisLoginArgs,
    /** Seconds to wait for the nodes to agree after changing anything. Default 60. */
    timeout: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

interface ClusterState {
  observations: NodeObservation[];
}

/** A formation step and how to reach the instances: the login, and how long a wait may take. */
export type ClusterOp = FormationOp & { login: RedisLoginArgs; timeoutMs: number };

async function login(ctx: ModuleContext, args: RedisLoginArgs, instances: readonly RedisInstance[]): Promise<RedisLogin> {
  try {
    return await loadLogin(ctx.projectDir, args);
  } catch (e) {
    const err = prefixedError('redis_cluster', e);
    // The client certificate an earlier task makes: once it is there, this task forms the cluster.
    if (err instanceof NotYetThere) throw new NotYetThere(err.message, err.missing, { on: err.on, settles: settlesKey(instances) });
    throw err;
  }
}

/**
 * A client per instance, all through this host's SSH connection (every node reaches every other
 * node's private address, as the cluster bus must). Any instance that cannot be reached is an
 * error naming all of them.
 */
async function connectAll(conn: Connection, instances: readonly RedisInstance[], who: RedisLogin): Promise<Map<string, Redis>> {
  const results = await Promise.allSettled(instances.map((i) => openRedis(conn, { ...who, host: i.address, port: i.port })));
  const clients = new Map<string, Redis>();
  const problems: string[] = [];
  const down: RedisInstance[] = [];
  results.forEach((r, k) => {
    const i = instances[k] as RedisInstance;
    if (r.status === 'fulfilled') clients.set(instanceId(i), r.value);
    else if (isRefused(r.reason)) down.push(i);
    else problems.push(`${label(i)}: ${(r.reason as Error).message}`);
  });
  if (problems.length || down.length) {
    const all = [...problems, ...down.map((i) => `${label(i)}: not running (connection refused)`)];
    const message = `redis_cluster: cannot reach every instance as ${who.user} from ${conn.host}: ${all.join('; ')}`;
    // Only instances that are merely not running (a service task starts them) are "not there yet".
    if (problems.length === 0) {
      const rejoins = await membersOfFullCluster(clients, instances, down);
      for (const c of clients.values()) c.disconnect();
      throw new NotYetThere(message, `${down.map(label).join(', ')} (not running)`, {
        on: [...new Set(down.map((i) => i.host))],
        settles: settlesKey(instances),
        ...(rejoins ? { unchanged: true, would: 'started, it rejoins the cluster it is a member of (nothing to form)' } : {}),
      });
    }
    for (const c of clients.values()) c.disconnect();
    throw new ModuleError(message);
  }
  return clients;
}

/** Once the instances run, this task's apply leaves them one agreed cluster: a later redis_cluster over them finds it so. */
export function settlesKey(instances: readonly RedisInstance[]): string {
  return `redis_cluster ${instances.map(instanceId).sort().join(' ')}`;
}

/**
 * Every running instance serves all 16384 slots and knows each down one as a member (its nodes.conf
 * brings it back as itself): started again, it rejoins with nothing to form.
 */
async function membersOfFullCluster(clients: Map<string, Redis>, instances: readonly RedisInstance[], down: readonly RedisInstance[]): Promise<boolean> {
  const up = instances.filter((i) => clients.has(instanceId(i)));
  if (up.length === 0) return false;
  try {
    const seen = await Promise.all(up.map(async (i) => observe(await observeInstance(clients.get(instanceId(i)) as Redis, i))));
    return seen.every((n) => n.info.cluster_slots_assigned === '16384' && down.every((d) => n.view.some((e) => e.address === d.address && e.port === d.port)));
  } catch {
    // Unreadable: not known to rejoin, so the task would form what is missing.
    return false;
  }
}

async function withClients<T>(ctx: ModuleContext, who: RedisLoginArgs, instances: RedisInstance[], fn: (clients: Map<string, Redis>) => Promise<T>): Promise<T> {
  const clients = await connectAll(ctx.conn, instances, await login(ctx, who, instances));
  try {
    return await fn(clients);
  } finally {
    for (const c of clients.values()) c.disconnect();
  }
}

/** The one login of a plan's operations (a plan is made with one). */
function loginOf(ops: readonly ClusterOp[]): RedisLoginArgs {
  const [first] = ops;
  if (first === undefined || ops.some((o) => JSON.stringify(o.login) !== JSON.stringify(first.login))) throw new ModuleError('redis_cluster: the operations must all log in the same way');
  return first.login;
}

function steps(s: ClusterState): FormationOp[] {
  try {
    return planFormation(s.observations);
  } catch (e) {
    if (e instanceof ClusterPlanError) throw new ModuleError(`redis_cluster: ${e.message}`);
    throw e;
  }
}

function summary(observations: readonly NodeObservation[]): string {
  const members = clusterMembers(observations);
  const masters = members.filter((m) => m.role === 'master').length;
  return `${masters} master(s), ${members.length - masters} replica(s), all 16384 slots served, cluster_state:ok on every node`;
}

/** One line per instance — host, zone, address, role, slots or master — for a person to read. */
function table(observations: readonly NodeObservation[]): string {
  const rows = clusterMembers(observations).map((m) => [
    m.host,
    m.az ?? '-',
    `${m.address}:${m.port}`,
    m.role,
    m.role === 'master' ? `slots ${m.slots}` : `replica of ${m.master ?? '?'}`,
  ]);
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]!.length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** The result of a formed cluster: members, a table for people, and each instance's CLUSTER INFO. */
function formed(observations: readonly NodeObservation[]) {
  return {
    msg: summary(observations),
    result: {
      nodes: clusterMembers(observations),
      summary: table(observations),
      cluster_info: observations.map((o) => ({ instance: instanceId(o.instance), info: o.infoText })),
      /** Why losing one host would leave slots unserved; [] when the cluster survives the loss of any one host. */
      host_loss_risks: hostLossRisks(observations.map(observe)),
    },
  };
}

/**
 * Forms the Redis cluster over the given instances, or completes it: MEET, slots, REPLICATE, then
 * waits until every node agrees. ok when all instances are one cluster serving every slot, agreeing,
 * with each master's replicas on other hosts. Run it once (run_once) from any node: it talks to every
 * instance through tunnels from that node, as the admin user over TLS with rplay's client certificate.
 */
export const redisCluster = defineModule<typeof schema, ClusterState, ClusterOp>({
  name: 'redis_cluster',
  schema,
  async gather(ctx, args): Promise<ClusterState> {
    const instances = instancesFromArg(args.instances);
    return withClients(ctx, args, instances, async (clients) => {
      try {
        const observations = await Promise.all(instances.map((i) => observeInstance(clients.get(instanceId(i)) as Redis, i)));
        return { observations };
      } catch (e) {
        throw new ModuleError(`redis_cluster: reading the cluster state failed: ${(e as Error).message}`);
      }
    });
  },
  plan(args, s) {
    const planned = steps(s);
    if (planned.length === 0) return { changes: [], ...formed(s.observations) };
    const reach = { login: { login_user: args.login_user, login_password: args.login_password, tls: args.tls }, timeoutMs: (args.timeout ?? 60) * 1000 };
    return {
      changes: planned.map((p) => ({
        description: describeFormationOp(p),
        // Waiting for the nodes to agree (a restarted one catching up) changes nothing: ok once it is done.
        ...(p.kind === 'wait' && planned.length === 1 ? { waitOnly: true } : {}),
        op: { ...p, ...reach },
      })),
      // The nodes' own report decides whether the cluster is formed: look again after the last wait.
      replan: true,
    };
  },
  async apply(ctx, ops) {
    const instances = [...new Map(ops.flatMap(opInstances).map((i) => [instanceId(i), i])).values()];
    return withClients(ctx, loginOf(ops), instances, async (clients) => {
      let agreed: NodeObservation[] | undefined;
      for (const op of ops) {
        try {
          agreed = (await runFormationOp(clients, op, { timeoutMs: op.timeoutMs })) ?? agreed;
        } catch (e) {
          if (e instanceof FormationError) throw new ModuleError(`redis_cluster: ${e.message}`);
          throw e;
        }
      }
      return agreed ? formed(agreed) : undefined;
    });
  },
});
