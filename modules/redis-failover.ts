import { setTimeout as sleep } from 'node:timers/promises';
import { Type, type Static } from '@sinclair/typebox';
import type { Redis } from 'ioredis';
import { ConnectionError, type Connection } from '../runner/connection/connection.js';
import { observeInstance } from './redis/cluster-apply.js';
import { label, observe, unsettled, type KnownNode, type ObservedNode } from './redis/cluster-plan.js';
import { formatRanges } from './redis/cluster-state.js';
import { hostLossRisks } from './redis/host-loss.js';
import { isRefused, loadLogin, redisLoginArgs, type RedisLoginArgs } from './redis/login.js';
import { openRedis, type RedisLogin } from './redis/open-redis.js';
import { instanceId, instancesFromArg, redisInstancesArg, type RedisInstance } from './redis/topology.js';
import { defineModule, ModuleError, NotYetThere, prefixedError, type ModuleContext } from '../runner/types.js';
import { settlesKey } from './redis-cluster.js';

const schema = Type.Object(
  {
    /** The layout, as redis_topology computes it (its `redis_instances` fact). */
    instances: redisInstancesArg,
    /**
     * drained: no instance on `host` is a master (each handed to an in-sync replica on another host by
     * CLUSTER FAILOVER), so the host can go down while the cluster keeps serving. restored: the
     * instances the layout makes masters are masters again (after a drained host came back).
     * Both first wait until the cluster is whole: every instance answers, agrees, replicas in sync.
     */
    state: Type.Union([Type.Literal('drained'), Type.Literal('restored')]),
    /** The host to drain (inventory name); default: this task's host. */
    host: Type.Optional(Type.String({ minLength: 1 })),
    /** A master without a replica on another host stays where it is (its slots go unserved while the host is down) instead of failing the task. */
    allow_downtime: Type.Optional(Type.Boolean()),
    /** Seconds to wait for the cluster to be whole and for each failover. Default 300. */
    timeout: Type.Optional(Type.Integer({ minimum: 1 })),
    ...redisLoginArgs,
  },
  { additionalProperties: false },
);

type FailoverArgs = Static<typeof schema>;

/** What the instances say now: the ones that answered, and why the others did not. */
export interface ClusterView {
  nodes: ObservedNode[];
  down: { instance: RedisInstance; why: string }[];
}

export interface FailoverActual extends ClusterView {
  /** The host being drained (state drained). */
  host: string;
}

/** The pure decision (failoverPlan); the module turns it into operations once the replica is known. */
export type FailoverStep =
  | { kind: 'wait'; reasons: string[] }
  /** replica null: one of the master's replicas on another host, known once the cluster is whole. */
  | { kind: 'failover'; master: ObservedNode; replica: ObservedNode | null };

/** How apply reaches the cluster: the login, every instance, and how long each operation may wait. */
interface Reach {
  login: RedisLoginArgs;
  instances: RedisInstance[];
  timeoutMs: number;
}

export type FailoverOp =
  /** Until every instance answers, agrees and every replica is in sync; then the engine plans again. */
  | ({ kind: 'wait'; for: 'whole' } & Reach)
  /**
   * Once `replica` (still replicating `master`) has replicated `offset`, the master's replication
   * offset when the plan was made: CLUSTER FAILOVER on it, then until it is the master, the old
   * master its replica, and the cluster whole again.
   */
  | ({ kind: 'failover'; replica: KnownNode; master: KnownNode; offset: number } & Reach);

export class FailoverPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FailoverPlanError';
  }
}

/** Why the cluster is not whole ([] when every instance answers, agrees and every replica is in sync). */
export function problems(v: ClusterView): string[] {
  return [...v.down.map((d) => `${label(d.instance)} does not answer (${d.why})`), ...unsettled(v.nodes)];
}

function slotsText(n: ObservedNode): string {
  return formatRanges(n.me.slots);
}

/** The in-sync replicas of `master` on other hosts than `host`, the layout's own first. */
function heirs(v: ClusterView, master: ObservedNode, host: string): ObservedNode[] {
  const mine = (n: ObservedNode): number => (n.instance.replicaOf === instanceId(master.instance) ? 0 : 1);
  return v.nodes
    .filter((n) => n.me.role === 'replica' && n.me.masterId === master.id && n.instance.host !== host && n.replication.master_link_status === 'up')
    .sort((a, b) => mine(a) - mine(b));
}

/** Pure: what makes `host` hold no master (state drained) or puts masters back where the layout has them. */
export function failoverPlan(state: 'drained' | 'restored', v: ClusterView, host: string, allowDowntime: boolean): FailoverStep[] {
  const why = problems(v);
  const steps: FailoverStep[] = why.length ? [{ kind: 'wait', reasons: why }] : [];
  if (state === 'restored') {
    const byId = new Map(v.nodes.map((n) => [n.id, n]));
    for (const n of v.nodes) {
      const current = n.me.masterId === undefined ? undefined : byId.get(n.me.masterId);
      if (n.instance.role === 'master' && n.me.role === 'replica' && current !== undefined) steps.push({ kind: 'failover', master: current, replica: n });
    }
    return steps;
  }
  for (const m of v.nodes.filter((n) => n.instance.host === host && n.me.role === 'master' && n.me.slots.length > 0)) {
    const [heir] = heirs(v, m, host);
    if (heir !== undefined || why.length > 0) steps.push({ kind: 'failover', master: m, replica: heir ?? null });
    else if (!allowDowntime) {
      throw new FailoverPlanError(
        `${label(m.instance)} serves slots ${slotsText(m)} and has no in-sync replica on another host: with ${host} down those slots would go unserved. ` +
          'Give every master a replica (redis_replicas_per_master: 1, then run the cluster phase), or accept the downtime with allow_downtime: true',
      );
    }
  }
  return steps;
}

export function describeFailoverStep(s: FailoverStep): string {
  if (s.kind === 'wait') {
    const more = s.reasons.length > 3 ? ` (+${s.reasons.length - 3} more)` : '';
    return `wait until the cluster is whole: ${s.reasons.slice(0, 3).join('; ')}${more}`;
  }
  const who = s.replica === null ? `a replica of ${label(s.master.instance)} on another host` : label(s.replica.instance);
  return `CLUSTER FAILOVER on ${who}: it takes over slots ${slotsText(s.master)} from ${label(s.master.instance)}`;
}


/**
 * Clients to every instance through the host's SSH connection, kept across looks: an instance that
 * does not answer (down, starting, loading its data) is tried again at the next look.
 */
class Observer {
  readonly #clients = new Map<string, Redis>();

  constructor(
    private readonly conn: Connection,
    private readonly login: RedisLogin,
    readonly instances: readonly RedisInstance[],
  ) {}

  client(i: RedisInstance): Redis | undefined {
    return this.#clients.get(instanceId(i));
  }

  async look(): Promise<ClusterView> {
    const seen = await Promise.all(this.instances.map((i) => this.#lookAt(i)));
    return {
      nodes: seen.flatMap((s) => ('node' in s ? [s.node] : [])),
      down: seen.flatMap((s) => ('why' in s ? [{ instance: s.instance, why: s.why }] : [])),
    };
  }

  async #lookAt(i: RedisInstance): Promise<{ node: ObservedNode } | { instance: RedisInstance; why: string }> {
    const key = instanceId(i);
    try {
      let c = this.#clients.get(key);
      if (c === undefined || c.status !== 'ready') {
        c?.disconnect();
        c = await openRedis(this.conn, { ...this.login, host: i.address, port: i.port, connectTimeoutMs: 3000 });
        this.#clients.set(key, c);
      }
      return { node: observe(await observeInstance(c, i)) };
    } catch (e) {
      this.#clients.get(key)?.disconnect();
      this.#clients.delete(key);
      // ssh2's word for a client whose connection is gone: the host's, not the instance's, problem.
      if ((e as Error).message === 'Not connected') {
        throw new ConnectionError(this.conn.host, `the SSH connection to ${this.conn.host} is gone (the host went down after it was opened)`);
      }
      return { instance: i, why: isRefused(e) ? 'not running' : (e as Error).message.split('\n')[0] ?? 'error' };
    }
  }

  close(): void {
    for (const c of this.#clients.values()) c.disconnect();
    this.#clients.clear();
  }
}

async function loginOf(ctx: ModuleContext, who: RedisLoginArgs, instances: readonly RedisInstance[]): Promise<RedisLogin> {
  try {
    return await loadLogin(ctx.projectDir, who);
  } catch (e) {
    const err = prefixedError('redis_failover', e);
    // The client certificate an earlier task makes: the cluster task that then forms the cluster puts
    // the masters where the layout has them, so this one finds them there.
    if (err instanceof NotYetThere) throw new NotYetThere(err.message, err.missing, { on: err.on, settles: settlesKey(instances) });
    throw err;
  }
}

function planOrFail(args: FailoverArgs, a: FailoverActual): FailoverStep[] {
  try {
    return failoverPlan(args.state, a, a.host, args.allow_downtime ?? false);
  } catch (e) {
    if (e instanceof FailoverPlanError) throw new ModuleError(`redis_failover: ${e.message}`);
    throw e;
  }
}

function mastersText(v: ClusterView): string {
  return v.nodes
    .filter((n) => n.me.role === 'master' && n.me.slots.length > 0)
    .map((n) => label(n.instance))
    .join(', ');
}

/** The masters, and why losing one host would leave slots unserved (host_loss_risks, [] when it would not). */
function layoutResult(v: ClusterView): { masters: string; host_loss_risks: string[] } {
  return { masters: mastersText(v), host_loss_risks: hostLossRisks(v.nodes) };
}

/** Polls until `done` says the view is right; a timeout names the last reasons. */
async function until(obs: Observer, deadline: number, what: string, reasons: (v: ClusterView) => string[]): Promise<ClusterView> {
  for (;;) {
    const v = await obs.look();
    const why = reasons(v);
    if (why.length === 0) return v;
    if (Date.now() > deadline) throw new ModuleError(`redis_failover: ${what} did not happen in time: ${why.slice(0, 3).join('; ')}`);
    await sleep(200);
  }
}

const offset = (n: ObservedNode | undefined, field: 'master_repl_offset' | 'slave_repl_offset'): number => Number(n?.replication[field] ?? NaN);

/**
 * The gate on replication offsets, then the failover: waits until the replica (still following the
 * master the plan saw) has replicated at least the offset the plan read from the master, its link
 * up, so it is caught up before being asked to take over; CLUSTER FAILOVER then pauses the master's
 * clients until the replica has the rest. Then waits until the roles are swapped and the cluster is
 * whole again, so the next failover starts from an agreed cluster. Returns the view then.
 */
async function failover(obs: Observer, op: Extract<FailoverOp, { kind: 'failover' }>): Promise<ClusterView> {
  const { replica, master } = op;
  const deadline = Date.now() + op.timeoutMs;
  await until(obs, deadline, `${label(replica.instance)} catching up with ${label(master.instance)} (replication offset ${op.offset})`, (v) => {
    const r = v.nodes.find((n) => n.id === replica.id);
    if (r !== undefined && r.me.masterId !== master.id) {
      throw new ModuleError(`redis_failover: ${label(replica.instance)} no longer replicates ${label(master.instance)} (the cluster changed since the plan); nothing was failed over, run again`);
    }
    const at = offset(r, 'slave_repl_offset');
    return r?.replication.master_link_status === 'up' && at >= op.offset ? [] : [`${label(replica.instance)} is at replication offset ${Number.isFinite(at) ? at : '?'} of ${op.offset}`];
  });
  const c = obs.client(replica.instance);
  if (c === undefined) throw new ModuleError(`redis_failover: no connection to ${label(replica.instance)}`);
  try {
    await c.call('CLUSTER', 'FAILOVER');
  } catch (e) {
    throw new ModuleError(`redis_failover: CLUSTER FAILOVER on ${label(replica.instance)}: ${(e as Error).message}`);
  }
  return until(obs, deadline, `${label(replica.instance)} taking over from ${label(master.instance)}`, (v) => {
    const r = v.nodes.find((n) => n.id === replica.id);
    const m = v.nodes.find((n) => n.id === master.id);
    const swapped = [
      ...(r?.me.role === 'master' ? [] : [`${label(replica.instance)} is still a ${r?.me.role ?? 'silent node'}`]),
      ...(m === undefined || m.me.role === 'replica' ? [] : [`${label(master.instance)} is still a master`]),
    ];
    return swapped.length ? swapped : problems(v);
  });
}

/** The one login and set of instances of a plan's operations (a plan is made with one). */
function reachOf(ops: readonly FailoverOp[]): Reach {
  const [first] = ops;
  const key = (o: Reach): string => JSON.stringify([o.login, o.instances]);
  if (first === undefined || ops.some((o) => key(o) !== key(first))) throw new ModuleError('redis_failover: the operations must all reach the same instances the same way');
  return first;
}

/**
 * Moves a host's Redis masters to their replicas on other hosts before the host goes down (drained),
 * and back where the layout puts them once it is up again (restored), with CLUSTER FAILOVER: the
 * replica takes over only once it has every write, so the cluster keeps serving. Both wait first
 * until the cluster is whole, so one host is never taken down while another is still rejoining.
 * Each failover is an operation of the plan; a cluster not whole is waited for, then planned again.
 */
export const redisFailover = defineModule<typeof schema, FailoverActual, FailoverOp>({
  name: 'redis_failover',
  schema,
  async gather(ctx, args): Promise<FailoverActual> {
    const instances = instancesFromArg(args.instances);
    const obs = new Observer(ctx.conn, await loginOf(ctx, args, instances), instances);
    try {
      return { ...(await obs.look()), host: args.host ?? ctx.host };
    } finally {
      obs.close();
    }
  },
  plan(args, a) {
    const steps = planOrFail(args, a);
    const [first, ...rest] = steps;
    if (first === undefined) {
      const msg = args.state === 'drained' ? `no master on ${a.host}; the cluster is whole` : `masters where the layout puts them: ${mastersText(a)}`;
      return { changes: [], msg, result: layoutResult(a) };
    }
    const reach: Reach = {
      login: { login_user: args.login_user, login_password: args.login_password, tls: args.tls },
      instances: instancesFromArg(args.instances),
      timeoutMs: (args.timeout ?? 300) * 1000,
    };
    if (first.kind === 'wait') {
      // Which replica takes over is known once the cluster is whole: planned then, after the wait.
      const then = rest.map(describeFailoverStep);
      const description = `${describeFailoverStep(first)}${then.length ? `; then ${then.join('; ')}` : ''}`;
      // Waiting for the cluster to be whole (a restarted node rejoining) changes nothing by itself.
      return { changes: [{ description, ...(then.length ? {} : { waitOnly: true }), op: { kind: 'wait', for: 'whole', ...reach } }], replan: true };
    }
    const changes = steps.map((s) => {
      if (s.kind !== 'failover' || s.replica === null) throw new ModuleError(`redis_failover: ${describeFailoverStep(s)}: no replica to take over`);
      const at = offset(s.master, 'master_repl_offset');
      if (!Number.isFinite(at)) throw new ModuleError(`redis_failover: ${label(s.master.instance)} reports no replication offset`);
      const op: FailoverOp = { kind: 'failover', replica: { instance: s.replica.instance, id: s.replica.id }, master: { instance: s.master.instance, id: s.master.id }, offset: at, ...reach };
      return { description: describeFailoverStep(s), op };
    });
    // Each failover changes the picture: look again, plan again, until nothing is left.
    return { changes, replan: true };
  },
  async apply(ctx, ops) {
    const reach = reachOf(ops);
    const obs = new Observer(ctx.conn, await loginOf(ctx, reach.login, reach.instances), reach.instances);
    const done: string[] = [];
    let last: ClusterView | undefined;
    try {
      for (const op of ops) {
        if (op.kind === 'wait') {
          last = await until(obs, Date.now() + op.timeoutMs, 'the cluster becoming whole', problems);
          continue;
        }
        last = await failover(obs, op);
        done.push(`${label(op.replica.instance)} took over from ${label(op.master.instance)} (caught up to replication offset ${op.offset} first)`);
      }
    } finally {
      obs.close();
    }
    if (last === undefined) return undefined;
    const moved = done.length ? `${done.join('; ')}; ` : '';
    return { msg: `${moved}masters: ${mastersText(last)}`, result: layoutResult(last) };
  },
});
