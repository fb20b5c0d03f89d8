// Carrying out redis_cluster's formation operations, one at a time, in the plan's order: config
// epochs and slots on fresh masters (before they meet anyone, so the handshakes carry them), MEET,
// the wait until everybody knows everybody, REPLICATE, then the wait until every node agrees and
// serves. A wait polls, with a bound; it never decides anything.
import type { Redis } from 'ioredis';
import { instanceId, type RedisInstance } from './topology.js';
import { label, observe, unsettled, type FormationOp, type NodeObservation, type ObservedNode } from './cluster-plan.js';

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

export interface WaitOptions {
  /** Give up waiting after this long. */
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

/** The instances an operation talks to. */
export function opInstances(op: FormationOp): RedisInstance[] {
  switch (op.kind) {
    case 'meet':
      return op.from;
    case 'add-slots':
    case 'replicate':
      return [op.node];
    case 'wait':
      return op.for === 'all-known' ? op.nodes.map((n) => n.instance) : op.instances;
  }
}

/** Polls every instance until `missing` finds nothing; a timeout names the last reasons. */
async function waitFor(clients: InstanceClients, instances: readonly RedisInstance[], what: string, missing: (nodes: ObservedNode[]) => string[], o: WaitOptions): Promise<NodeObservation[]> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    const raw = await Promise.all(instances.map((i) => observeInstance(clientFor(clients, i), i)));
    const why = missing(raw.map(observe));
    if (why.length === 0) return raw;
    if (Date.now() > deadline) throw new FormationError(`${what} did not happen within ${Math.round(o.timeoutMs / 1000)} s: ${why.slice(0, 3).join('; ')}`);
    await new Promise((r) => setTimeout(r, o.pollMs ?? 100));
  }
}

/**
 * Runs one formation operation. A wait for agreement returns what every instance reports once the
 * cluster has settled; the others return nothing.
 */
export async function runFormationOp(clients: InstanceClients, op: FormationOp, o: WaitOptions): Promise<NodeObservation[] | undefined> {
  switch (op.kind) {
    case 'add-slots': {
      const c = clientFor(clients, op.node);
      if (op.configEpoch !== undefined) await run(`CLUSTER SET-CONFIG-EPOCH on ${label(op.node)}`, () => c.call('CLUSTER', 'SET-CONFIG-EPOCH', op.configEpoch as number));
      await run(`CLUSTER ADDSLOTSRANGE on ${label(op.node)}`, () => c.call('CLUSTER', 'ADDSLOTSRANGE', ...op.ranges.flat()));
      return undefined;
    }
    case 'meet':
      // A MEET of a node already known is dropped by Redis: sending it from everyone is harmless.
      await Promise.all(op.from.map((i) => run(`CLUSTER MEET ${instanceId(op.node)} from ${label(i)}`, () => clientFor(clients, i).call('CLUSTER', 'MEET', op.node.address, op.node.port))));
      return undefined;
    case 'replicate':
      await run(`CLUSTER REPLICATE ${instanceId(op.master)} on ${label(op.node)}`, () => clientFor(clients, op.node).call('CLUSTER', 'REPLICATE', op.masterId));
      return undefined;
    case 'wait':
      if (op.for === 'all-known') {
        const { nodes: wanted } = op;
        await waitFor(
          clients,
          wanted.map((n) => n.instance),
          'every node knowing every other',
          (nodes) =>
            nodes.flatMap((n) =>
              wanted.filter((w) => !n.view.some((e) => e.id === w.id && !e.flags.includes('handshake'))).map((w) => `${label(n.instance)} does not know ${label(w.instance)} yet`),
            ),
          o,
        );
        return undefined;
      }
      return waitFor(clients, op.instances, 'agreement on the cluster', unsettled, o);
  }
}
