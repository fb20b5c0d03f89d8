import { Type } from '@sinclair/typebox';
import { computeTopology, TopologyError, type RedisInstance, type TopologyHost } from './redis/topology.js';
import { defineModule, ModuleError, type ModuleContext } from '../runner/types.js';

const schema = Type.Object(
  {
    /** Inventory group of the Redis hosts. Default redis. */
    group: Type.Optional(Type.String({ minLength: 1 })),
    /** The masters' port; replica j listens on port + j. Default 6379. */
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 55535 })),
    /** Default 1; 0 is the runbook's masters-only cluster. */
    replicas_per_master: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Host variables holding each host's private address and availability zone. */
    address_var: Type.Optional(Type.String({ minLength: 1 })),
    az_var: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

/** The fact shape (snake_case, as playbooks and redis_cluster's `instances` use it). */
interface InstanceFact {
  host: string;
  address: string;
  az?: string;
  port: number;
  role: 'master' | 'replica';
  replica_of?: string;
}

function fact(i: RedisInstance): InstanceFact {
  return {
    host: i.host,
    address: i.address,
    ...(i.az === undefined ? {} : { az: i.az }),
    port: i.port,
    role: i.role,
    ...(i.replicaOf === undefined ? {} : { replica_of: i.replicaOf }),
  };
}

function hostsOf(ctx: ModuleContext, group: string, addressVar: string, azVar: string): TopologyHost[] {
  const names = ctx.inventory.groupHosts(group);
  if (names.length === 0) throw new ModuleError(`redis_topology: inventory group '${group}' has no hosts`);
  return names.map((host): TopologyHost => {
    const vars = ctx.inventory.hostVars(host);
    const address = vars[addressVar];
    if (typeof address !== 'string' || address === '') throw new ModuleError(`redis_topology: host ${host} has no '${addressVar}' variable (its private address)`);
    const az = vars[azVar];
    return { name: host, address, ...(typeof az === 'string' && az !== '' ? { az } : {}) };
  });
}

/**
 * The cluster's layout from the inventory, touching no host: sets `redis_instances` (all
 * instances) and `redis_local_instances` (this host's, one config, unit, data dir and bus port each).
 */
export const redisTopology = defineModule({
  name: 'redis_topology',
  schema,
  async gather(ctx, args): Promise<{ host: string; instances: RedisInstance[] }> {
    const hosts = hostsOf(ctx, args.group ?? 'redis', args.address_var ?? 'private_ip', args.az_var ?? 'az');
    try {
      return { host: ctx.host, instances: computeTopology(hosts, { port: args.port ?? 6379, replicasPerMaster: args.replicas_per_master ?? 1 }) };
    } catch (e) {
      if (e instanceof TopologyError) throw new ModuleError(`redis_topology: ${e.message}`);
      throw e;
    }
  },
  plan(_args, s) {
    const all = s.instances.map(fact);
    const local = all.filter((i) => i.host === s.host);
    const masters = all.filter((i) => i.role === 'master').length;
    return {
      changes: [],
      msg: `${masters} master(s), ${all.length - masters} replica(s); here: ${local.map((i) => `${i.role} :${i.port}`).join(', ') || 'none'}`,
      setVars: { redis_instances: all, redis_local_instances: local },
    };
  },
});
