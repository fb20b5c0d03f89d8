// Carrying out planned formation steps, in the order Redis needs them: config epochs and slots on
// fresh masters (before they meet anyone, so the handshakes carry them), MEET, wait until everybody
// knows everybody, REPLICATE, then wait until every node agrees and serves (cluster_state:ok, one
// slot map, one role map).
import type { Redis } from 'ioredis';
import { instanceId, type RedisInstance } from './topology.js';
import { label, observe, unsettled, type FormationStep, type NodeObservation, type ObservedNode } from './cluster-plan.js';

/** One connected, logged-in client per instance, by "address:port". */
export type InstanceClients = ReadonlyMap<string, Redis>;

export async function observeInstance(client: Redis, instance: RedisInstance): Promise<NodeObservation> {
  const [nodesText, infoText, replicationText, keys] = await Promise.all([
    client.call('CLUSTER', 'NODES'),
    client.call('CLUSTER', 'INFO'),
    client.call('INFO', 'replication'),
    client.call('DBSIZE'),
  ]);
  return { instance, nodesText: String(nodesText), infoText: String(infoText), replicationText: String(replicationText), keys: Number(keys) };
}

export interface FormationOptions {
  /** Give up waiting for the cluster after this long. */
  timeoutMs: number;
  pollMs?: number;
}

export class FormationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FormationError';
  }
}

function clientFor(clients: InstanceClients, i: RedisInstance): Redis {
  const c = clients.get(instanceId(i));
  if (!c) throw new FormationError(`no connection to ${label(i)}`);
  return c;
}

async function run(what: string, op: () => Promise<unknown>): Promise<void> {
  try {
    await op();
  } catch (e) {
    throw new FormationError(`${what}: ${(e as Error).message}`);
  }
}

/**
 * Performs `steps` on the instances of `observations` (what the plan was made from) and returns
 * what every instance reports once the cluster has settled.
 */
export async function applyFormation(clients: InstanceClients, observations: readonly NodeObservation[], steps: readonly FormationStep[], opts: FormationOptions): Promise<NodeObservation[]> {
  const deadline = Date.now() + opts.timeoutMs;
  const instances = observations.map((o) => o.instance);
  const ids = new Map(observations.map((o) => [instanceId(o.instance), observe(o).id]));
  const observeAll = (): Promise<NodeObservation[]> => Promise.all(instances.map((i) => observeInstance(clientFor(clients, i), i)));
  const waitFor = async (what: string, missing: (nodes: ObservedNode[]) => string[]): Promise<NodeObservation[]> => {
    for (;;) {
      const raw = await observeAll();
      const why = missing(raw.map(observe));
      if (why.length === 0) return raw;
      if (Date.now() > deadline) {
        throw new FormationError(`${what} did not happen within ${Math.round(opts.timeoutMs / 1000)} s: ${why.slice(0, 3).join('; ')}`);
      }
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 100));
    }
  };

  const slots = steps.filter((s) => s.kind === 'add-slots');
  const meets = steps.filter((s) => s.kind === 'meet');
  const replicas = steps.filter((s) => s.kind === 'replicate');
  for (const s of slots) {
    if (s.configEpoch !== undefined) await run(`CLUSTER SET-CONFIG-EPOCH on ${label(s.node)}`, () => clientFor(clients, s.node).call('CLUSTER', 'SET-CONFIG-EPOCH', s.configEpoch as number));
    await run(`CLUSTER ADDSLOTSRANGE on ${label(s.node)}`, () => clientFor(clients, s.node).call('CLUSTER', 'ADDSLOTSRANGE', ...s.ranges.flat()));
  }
  // The plan names one node each newcomer meets; every instance meeting it makes the full mesh at
  // once instead of over several gossip rounds (a MEET of a known node is dropped by Redis).
  await Promise.all(
    meets.flatMap((s) =>
      instances
        .filter((i) => instanceId(i) !== instanceId(s.node))
        .map((i) => run(`CLUSTER MEET ${instanceId(s.node)} from ${label(i)}`, () => clientFor(clients, i).call('CLUSTER', 'MEET', s.node.address, s.node.port))),
    ),
  );
  if (meets.length) {
    await waitFor('every node knowing every other', (nodes) =>
      nodes.flatMap((n) =>
        instances
          .filter((i) => !n.view.some((e) => e.id === ids.get(instanceId(i)) && !e.flags.includes('handshake')))
          .map((i) => `${label(n.instance)} does not know ${label(i)} yet`),
      ),
    );
  }
  for (const s of replicas) {
    await run(`CLUSTER REPLICATE ${instanceId(s.master)} on ${label(s.node)}`, () => clientFor(clients, s.node).call('CLUSTER', 'REPLICATE', s.masterId));
  }
  return waitFor('agreement on the cluster', unsettled);
}
