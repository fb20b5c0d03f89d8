// Where each Redis instance of the cluster runs. Every host runs one master on the base port; each
// master gets `replicasPerMaster` replicas, replica j on port base+j of the j-th next host in a ring.
// So every host runs the same ports (one config, unit, data dir and bus port each), no replica
// shares its master's host, and the ring interleaves availability zones so that, where the zones
// allow it, a master's first replica sits in another zone than the master.
import { Type, type Static } from '@sinclair/typebox';

export interface TopologyHost {
  /** Inventory name. */
  name: string;
  /** The private address Redis binds and announces. */
  address: string;
  /** Availability zone, when known. */
  az?: string;
}

export type InstanceRole = 'master' | 'replica';

export interface RedisInstance {
  host: string;
  address: string;
  az?: string;
  port: number;
  role: InstanceRole;
  /** "address:port" of the master this replica follows; absent on masters. */
  replicaOf?: string;
}

export interface TopologyOptions {
  /** Port of the masters; replica j listens on port + j. */
  port: number;
  replicasPerMaster: number;
}

export class TopologyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TopologyError';
  }
}

export function instanceId(i: { address: string; port: number }): string {
  return `${i.address}:${i.port}`;
}

/**
 * Hosts ordered so that neighbours differ in zone where possible: zones taken round-robin, hosts
 * within a zone in inventory order. Hosts without a zone each count as their own zone.
 */
function ringOrder(hosts: readonly TopologyHost[]): TopologyHost[] {
  const zones = new Map<string, TopologyHost[]>();
  for (const h of hosts) {
    const key = h.az ?? `\0${h.name}`;
    const list = zones.get(key);
    if (list) list.push(h);
    else zones.set(key, [h]);
  }
  // Largest zones first, so the last hosts in the ring are not all from one big zone.
  const queues = [...zones.values()].sort((a, b) => b.length - a.length);
  const out: TopologyHost[] = [];
  while (out.length < hosts.length) for (const q of queues) if (q.length) out.push(q.shift() as TopologyHost);
  return out;
}

/** The instances of a cluster over `hosts`: masters first (inventory order), then replicas. */
export function computeTopology(hosts: readonly TopologyHost[], opts: TopologyOptions): RedisInstance[] {
  const { port, replicasPerMaster: r } = opts;
  if (hosts.length === 0) throw new TopologyError('the Redis group has no hosts');
  if (!Number.isInteger(r) || r < 0) throw new TopologyError(`replicas per master must be a whole number ≥ 0, got ${r}`);
  if (r >= hosts.length) {
    throw new TopologyError(
      `${r} replica(s) per master need at least ${r + 1} hosts (a replica never shares its master's host); the group has ${hosts.length}`,
    );
  }
  if (!Number.isInteger(port) || port < 1 || port + r > 55535) {
    // The cluster bus listens on port + 10000.
    throw new TopologyError(`port ${port} leaves no room for ${r} replica port(s) and their bus ports (port + 10000)`);
  }
  const seen = new Map<string, string>();
  for (const h of hosts) {
    const other = seen.get(h.address);
    if (other !== undefined) throw new TopologyError(`hosts ${other} and ${h.name} have the same address ${h.address}`);
    seen.set(h.address, h.name);
  }
  const zone = (h: TopologyHost): { az?: string } => (h.az === undefined ? {} : { az: h.az });
  const masters: RedisInstance[] = hosts.map((h) => ({ host: h.name, address: h.address, ...zone(h), port, role: 'master' }));
  const ring = ringOrder(hosts);
  const replicas: RedisInstance[] = [];
  for (let j = 1; j <= r; j++) {
    ring.forEach((masterHost, i) => {
      const h = ring[(i + j) % ring.length] as TopologyHost;
      replicas.push({ host: h.name, address: h.address, ...zone(h), port: port + j, role: 'replica', replicaOf: instanceId({ address: masterHost.address, port }) });
    });
  }
  return [...masters, ...replicas];
}

/** The layout as modules take it (redis_topology's `redis_instances` fact), for their arg schemas. */
export const redisInstancesArg = Type.Array(
  Type.Object(
    {
      host: Type.String({ minLength: 1 }),
      address: Type.String({ minLength: 1 }),
      az: Type.Optional(Type.String()),
      port: Type.Integer({ minimum: 1, maximum: 55535 }),
      role: Type.Union([Type.Literal('master'), Type.Literal('replica')]),
      /** "address:port" of the master, for a replica. */
      replica_of: Type.Optional(Type.String({ minLength: 1 })),
    },
    { additionalProperties: false },
  ),
  { minItems: 1 },
);

/** The arg's snake_case instances as the topology's own records. */
export function instancesFromArg(list: Static<typeof redisInstancesArg>): RedisInstance[] {
  return list.map((i) => ({
    host: i.host,
    address: i.address,
    ...(i.az ? { az: i.az } : {}),
    port: i.port,
    role: i.role,
    ...(i.replica_of ? { replicaOf: i.replica_of } : {}),
  }));
}
