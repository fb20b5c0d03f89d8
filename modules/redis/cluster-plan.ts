// Pure: from what every instance says about the cluster (CLUSTER NODES, CLUSTER INFO, DBSIZE) to the
// steps that make it one cluster with every slot served and the wanted number of replicas per
// master, each on another host than its master. Roles that failovers swapped are accepted as they
// are: a promoted replica is a master now, its old master (back again) its replica. A node that holds
// keys or belongs to another cluster is never reset or reassigned: that is an error naming it.
import { instanceId, type RedisInstance } from './topology.js';
import {
  evenSlotRanges,
  formatRanges,
  parseClusterInfo,
  parseClusterNodes,
  rangesWhere,
  SLOTS,
  type ClusterNodeEntry,
  type SlotRange,
} from './cluster-state.js';

/** What one instance reported. */
export interface NodeObservation {
  instance: RedisInstance;
  nodesText: string;
  infoText: string;
  /** INFO replication. */
  replicationText: string;
  /** DBSIZE. */
  keys: number;
}

/** An instance and the node id it reported when the plan was made. */
export interface KnownNode {
  instance: RedisInstance;
  id: string;
}

/**
 * One formation step, as data: what to send to which instance, or what to wait for. Each is an
 * operation of redis_cluster's plan; the module adds how to log in.
 */
export type FormationOp =
  /** CLUSTER MEET `node` from each of `from` (every other instance: the full mesh at once, not over gossip rounds). */
  | { kind: 'meet'; node: RedisInstance; via: RedisInstance; from: RedisInstance[] }
  /** configEpoch: set first (CLUSTER SET-CONFIG-EPOCH) on a fresh master, as redis-cli does, so masters never collide. */
  | { kind: 'add-slots'; node: RedisInstance; ranges: SlotRange[]; configEpoch?: number }
  | { kind: 'replicate'; node: RedisInstance; master: RedisInstance; masterId: string }
  /** Until every node knows every other one by its id (the meetings have gossiped): a replica can only follow a master it knows. */
  | { kind: 'wait'; for: 'all-known'; nodes: KnownNode[] }
  /** Until every node agrees and serves (cluster_state:ok, one slot map, one role map, replicas in sync). */
  | { kind: 'wait'; for: 'agreement'; instances: RedisInstance[]; reasons: string[] };

export class ClusterPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClusterPlanError';
  }
}

/** An observation, parsed. */
export interface ObservedNode {
  instance: RedisInstance;
  id: string;
  view: ClusterNodeEntry[];
  me: ClusterNodeEntry;
  info: Record<string, string>;
  replication: Record<string, string>;
  keys: number;
}

export function label(i: RedisInstance): string {
  return `${instanceId(i)} (${i.host})`;
}

export function observe(o: NodeObservation): ObservedNode {
  const view = parseClusterNodes(o.nodesText);
  const me = view.find((e) => e.myself);
  if (!me) throw new ClusterPlanError(`${label(o.instance)}: CLUSTER NODES has no 'myself' line`);
  return { instance: o.instance, id: me.id, view, me, info: parseClusterInfo(o.infoText), replication: parseClusterInfo(o.replicationText), keys: o.keys };
}

const FAILING = ['fail', 'fail?', 'handshake', 'noaddr'];

/** A view's slot map: master id → slot ranges, in a form two views can be compared by. */
function slotSignature(view: readonly ClusterNodeEntry[]): string {
  return view
    .filter((e) => e.slots.length)
    .map((e) => `${e.id}:${formatRanges([...e.slots].sort((a, b) => a[0] - b[0]))}`)
    .sort()
    .join(' ');
}

function roleSignature(view: readonly ClusterNodeEntry[], ids: ReadonlySet<string>): string {
  return view
    .filter((e) => ids.has(e.id))
    .map((e) => `${e.id}:${e.role}:${e.masterId ?? '-'}`)
    .sort()
    .join(' ');
}

/** Why the cluster has not converged yet ([] when every node agrees and serves, and replicas are in sync). */
export function unsettled(nodes: readonly ObservedNode[]): string[] {
  const reasons: string[] = [];
  const ids = new Set(nodes.map((n) => n.id));
  for (const n of nodes) {
    const state = n.info.cluster_state ?? '?';
    if (state !== 'ok') reasons.push(`${label(n.instance)} reports cluster_state:${state}`);
    const assigned = n.info.cluster_slots_assigned;
    if (assigned !== String(SLOTS)) reasons.push(`${label(n.instance)} sees ${assigned ?? '?'} of ${SLOTS} slots assigned`);
    // A replica that has not synced yet could not take over: losing its master would lose the slots.
    const link = n.replication.master_link_status;
    if (n.me.role === 'replica' && link !== 'up') reasons.push(`${label(n.instance)} is not in sync with its master yet (master_link_status:${link ?? '?'})`);
    const known = new Map(n.view.map((e) => [e.id, e]));
    for (const other of nodes) {
      const e = known.get(other.id);
      if (!e) reasons.push(`${label(n.instance)} does not know ${label(other.instance)} yet`);
      else if (e.flags.some((f) => FAILING.includes(f))) reasons.push(`${label(n.instance)} sees ${label(other.instance)} as ${e.flags.filter((f) => FAILING.includes(f)).join(',')}`);
    }
  }
  const [first, ...rest] = nodes;
  if (first) {
    const slots = slotSignature(first.view);
    const roles = roleSignature(first.view, ids);
    for (const n of rest) {
      if (slotSignature(n.view) !== slots) reasons.push(`${label(n.instance)} and ${label(first.instance)} disagree about the slot map`);
      else if (roleSignature(n.view, ids) !== roles) reasons.push(`${label(n.instance)} and ${label(first.instance)} disagree about who replicates whom`);
    }
  }
  return reasons;
}

function unionFind(n: number): { find(i: number): number; union(a: number, b: number): void } {
  const parent = Array.from({ length: n }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i] as number] as number;
    return i;
  };
  return { find, union: (a, b) => void (parent[find(a)] = find(b)) };
}

/** Nodes grouped by the cluster they belong to (they know each other's ids). */
function clusters(nodes: readonly ObservedNode[]): ObservedNode[][] {
  const index = new Map(nodes.map((n, i) => [n.id, i]));
  const uf = unionFind(nodes.length);
  nodes.forEach((n, i) => {
    for (const e of n.view) {
      const j = index.get(e.id);
      if (j !== undefined) uf.union(i, j);
    }
  });
  const groups = new Map<number, ObservedNode[]>();
  nodes.forEach((n, i) => {
    const g = uf.find(i);
    groups.set(g, [...(groups.get(g) ?? []), n]);
  });
  return [...groups.values()];
}

/** The node has met another one (beyond a handshake still in progress). */
function knowsOthers(n: ObservedNode): boolean {
  return n.view.some((e) => !e.myself && !e.flags.includes('handshake'));
}

function servesSlots(n: ObservedNode): SlotRange[] {
  return n.view.filter((e) => e.role === 'master').flatMap((e) => e.slots);
}

function foreignReason(n: ObservedNode): string {
  const parts: string[] = [];
  if (n.keys > 0) parts.push(`holds ${n.keys} key(s)`);
  const others = n.view.filter((e) => !e.myself).length;
  const own = n.me.slots;
  const what = [others ? `knows ${others} other node(s)` : '', own.length ? `serves slots ${formatRanges(own)}` : ''].filter(Boolean).join(' and ');
  parts.push(`belongs to another cluster (it ${what})`);
  return `${label(n.instance)} ${parts.join(' and ')}`;
}

const NEVER_RESET = 'rplay never resets or reassigns such a node; if its data may go, CLUSTER RESET it by hand and run again';

/** The steps that form or complete the cluster; [] when it is formed, agreed and laid out as wanted. */
export function planFormation(observations: readonly NodeObservation[]): FormationOp[] {
  const nodes = observations.map(observe);
  if (nodes.length === 0) return [];
  const wantedMasters = nodes.filter((n) => n.instance.role === 'master');
  const wantedReplicas = nodes.filter((n) => n.instance.role === 'replica');
  if (wantedMasters.length === 0) throw new ClusterPlanError('the instances name no master');
  const byInstance = new Map(nodes.map((n) => [instanceId(n.instance), n]));
  const byId = new Map(nodes.map((n) => [n.id, n]));

  // Each wanted master's share of the even split.
  const shares = new Map(evenSlotRanges(wantedMasters.length).map((r, i) => [wantedMasters[i] as ObservedNode, r]));
  // A lone node that serves only slots of its own share and holds nothing: a run that assigned
  // slots and stopped before MEET left it so. It is this cluster's, not another one's.
  const ownShareOnly = (n: ObservedNode): boolean => {
    const share = shares.get(n);
    return n.keys === 0 && share !== undefined && n.me.slots.every(([x, y]) => x >= share[0] && y <= share[1]);
  };

  // 1. Which cluster: the nodes that know each other (the largest such group); any other group, or
  // a lone node serving slots that are not its own share, is another cluster.
  const groups = clusters(nodes);
  const joined = groups
    .filter((g) => g.length > 1 || g.some(knowsOthers))
    .sort((a, b) => b.length - a.length || Number(b.includes(wantedMasters[0] as ObservedNode)) - Number(a.includes(wantedMasters[0] as ObservedNode)));
  const main = joined[0] ?? [];
  const loneForeign = groups.filter((g) => g.length === 1 && !joined.includes(g) && servesSlots(g[0] as ObservedNode).length > 0 && !ownShareOnly(g[0] as ObservedNode));
  const foreign = [...joined.slice(1), ...loneForeign].flat();
  if (foreign.length) throw new ClusterPlanError(`${foreign.map(foreignReason).join('; ')}; ${NEVER_RESET}`);
  const members = new Set(main);
  const loaded = nodes.filter((n) => !members.has(n) && n.keys > 0);
  if (loaded.length) {
    throw new ClusterPlanError(`${loaded.map((n) => `${label(n.instance)} holds ${n.keys} key(s) outside the cluster`).join('; ')}; ${NEVER_RESET}`);
  }
  const fresh = main.length === 0;
  const anchor = nodes.find((n) => members.has(n)) ?? (wantedMasters[0] as ObservedNode);
  const steps: FormationOp[] = [];

  // 2. Slots, where nobody serves them yet: before MEET, as redis-cli does, so that the handshake
  // already carries every master's slots (and the cluster agrees seconds sooner).
  const owner: (string | undefined)[] = new Array(SLOTS).fill(undefined);
  for (const n of nodes) for (const e of n.view) if (e.role === 'master') for (const [a, b] of e.slots) for (let s = a; s <= b; s++) owner[s] ??= e.id;
  [...shares].forEach(([master, [a, b]], i) => {
    const missing = rangesWhere(a, b, (s) => owner[s] === undefined);
    if (!missing.length) return;
    let target = master;
    if (target.me.role === 'replica') {
      const current = target.me.masterId === undefined ? undefined : byId.get(target.me.masterId);
      if (!current) throw new ClusterPlanError(`slots ${formatRanges(missing)} are unserved and ${label(target.instance)}, whose share they are, replicates a node rplay does not manage`);
      target = current;
    }
    for (const [x, y] of missing) for (let s = x; s <= y; s++) owner[s] = target.id;
    const epoch = fresh && target.info.cluster_my_epoch === '0' ? i + 1 : undefined;
    steps.push({ kind: 'add-slots', node: target.instance, ranges: missing, ...(epoch === undefined ? {} : { configEpoch: epoch }) });
  });
  const instances = nodes.map((n) => n.instance);
  const newcomers = nodes.filter((n) => n !== anchor && !members.has(n));
  for (const n of newcomers) steps.push({ kind: 'meet', node: n.instance, via: anchor.instance, from: instances.filter((i) => i !== n.instance) });
  // A MEET is answered by a handshake that takes gossip rounds; REPLICATE needs the master known.
  if (newcomers.length) steps.push({ kind: 'wait', for: 'all-known', nodes: nodes.map((n) => ({ instance: n.instance, id: n.id })) });

  const perMaster = wantedReplicas.length / wantedMasters.length;
  if (!Number.isInteger(perMaster)) throw new ClusterPlanError('the instances must give every master the same number of replicas');

  // 3. Replicas: keep every replica that follows a master on another host (up to perMaster each),
  // give every other node a master that lacks one.
  const masters = nodes.filter((n) => owner.includes(n.id));
  const count = new Map(masters.map((m) => [m.id, 0]));
  const pool: ObservedNode[] = [];
  for (const n of nodes) {
    if (count.has(n.id)) continue;
    const m = n.me.role === 'replica' && n.me.masterId !== undefined ? byId.get(n.me.masterId) : undefined;
    const c = m ? count.get(m.id) : undefined;
    if (m && c !== undefined && c < perMaster && m.instance.host !== n.instance.host) count.set(m.id, c + 1);
    else pool.push(n);
  }
  for (const n of pool) {
    const eligible = masters.filter((m) => (count.get(m.id) ?? 0) < perMaster && m.instance.host !== n.instance.host);
    if (!eligible.length) continue;
    const wanted = n.instance.replicaOf === undefined ? undefined : byInstance.get(n.instance.replicaOf);
    const heir = wanted?.me.role === 'replica' && wanted.me.masterId !== undefined ? byId.get(wanted.me.masterId) : undefined;
    const rank = (m: ObservedNode): number[] => [
      m === wanted ? 0 : m === heir ? 1 : 2,
      count.get(m.id) ?? 0,
      m.instance.az !== undefined && m.instance.az === n.instance.az ? 1 : 0,
      nodes.indexOf(m),
    ];
    const [target] = [...eligible].sort((x, y) => {
      const [rx, ry] = [rank(x), rank(y)];
      const i = rx.findIndex((v, k) => v !== ry[k]);
      return i < 0 ? 0 : (rx[i] as number) - (ry[i] as number);
    }) as [ObservedNode];
    if (n.me.role === 'master' && n.keys > 0) {
      throw new ClusterPlanError(`${label(n.instance)} holds ${n.keys} key(s) and would have to become a replica of ${label(target.instance)}, discarding them; ${NEVER_RESET}`);
    }
    count.set(target.id, (count.get(target.id) ?? 0) + 1);
    steps.push({ kind: 'replicate', node: n.instance, master: target.instance, masterId: target.id });
  }

  // 4. Agreement.
  const reasons = steps.length ? [] : unsettled(nodes);
  if (steps.length || reasons.length) steps.push({ kind: 'wait', for: 'agreement', instances, reasons });
  return steps;
}

export function describeFormationOp(s: FormationOp): string {
  switch (s.kind) {
    case 'meet':
      return `meet ${label(s.node)} into the cluster (via ${instanceId(s.via)})`;
    case 'add-slots':
      return `assign slots ${formatRanges(s.ranges)} to ${label(s.node)}`;
    case 'replicate':
      return `${label(s.node)} replicates ${label(s.master)}`;
    case 'wait': {
      if (s.for === 'all-known') return 'wait until every node knows every other (the meetings have gossiped)';
      const why = s.reasons.length ? `: ${s.reasons.slice(0, 3).join('; ')}${s.reasons.length > 3 ? ` (+${s.reasons.length - 3} more)` : ''}` : '';
      return `wait until every node agrees (cluster_state:ok everywhere, one slot map, replicas in sync)${why}`;
    }
  }
}

/** One line per instance for reports: role, whom it replicates, slots. */
export interface ClusterMember {
  host: string;
  address: string;
  port: number;
  az?: string;
  id: string;
  role: 'master' | 'replica';
  /** "address:port" of its master, for a replica. */
  master?: string;
  slots: string;
}

export function clusterMembers(observations: readonly NodeObservation[]): ClusterMember[] {
  const nodes = observations.map(observe);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  return nodes.map((n) => {
    const m = n.me.masterId === undefined ? undefined : byId.get(n.me.masterId);
    return {
      host: n.instance.host,
      address: n.instance.address,
      port: n.instance.port,
      ...(n.instance.az === undefined ? {} : { az: n.instance.az }),
      id: n.id,
      role: n.me.role,
      ...(n.me.role === 'replica' && m ? { master: instanceId(m.instance) } : {}),
      slots: formatRanges(n.me.slots),
    };
  });
}
