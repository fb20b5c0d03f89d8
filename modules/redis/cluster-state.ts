// CLUSTER NODES and CLUSTER INFO as data: one node's view of the cluster.

export const SLOTS = 16384;

/** An inclusive slot range. */
export type SlotRange = readonly [number, number];

export interface ClusterNodeEntry {
  id: string;
  address: string;
  port: number;
  busPort: number;
  flags: readonly string[];
  /** This line describes the node that printed the table. */
  myself: boolean;
  role: 'master' | 'replica';
  /** For a replica, the id of its master. */
  masterId?: string;
  configEpoch: number;
  linkState: string;
  /** Slots it serves (importing/migrating markers left out). */
  slots: SlotRange[];
}

/**
 * One line per node: `<id> <ip:port@cport[,hostname]> <flags> <master> <ping-sent> <pong-recv>
 * <config-epoch> <link-state> <slot>...`, slots as `a-b`, `a` or `[a->-id]` (migrating).
 */
export function parseClusterNodes(text: string): ClusterNodeEntry[] {
  const out: ClusterNodeEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [id, addr, flagText, master, , , epoch, linkState, ...slotFields] = f as [string, string, string, string, string, string, string, string, ...string[]];
    const m = /^(.*):(\d+)@(\d+)/.exec(addr);
    const flags = flagText.split(',');
    const slots: SlotRange[] = [];
    for (const s of slotFields) {
      if (s.startsWith('[')) continue;
      const [a, b] = s.split('-');
      slots.push([Number(a), Number(b ?? a)]);
    }
    out.push({
      id,
      address: m?.[1] ?? '',
      port: Number(m?.[2] ?? 0),
      busPort: Number(m?.[3] ?? 0),
      flags,
      myself: flags.includes('myself'),
      role: flags.includes('slave') ? 'replica' : 'master',
      ...(master !== '-' ? { masterId: master } : {}),
      configEpoch: Number(epoch),
      linkState,
      slots,
    });
  }
  return out;
}

/** `key:value` lines of CLUSTER INFO. */
export function parseClusterInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

export function slotCount(ranges: readonly SlotRange[]): number {
  return ranges.reduce((n, [a, b]) => n + b - a + 1, 0);
}

export function formatRanges(ranges: readonly SlotRange[]): string {
  return ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',');
}

/** Ranges of the slots in [from, to] for which `take(slot)` holds. */
export function rangesWhere(from: number, to: number, take: (slot: number) => boolean): SlotRange[] {
  const out: SlotRange[] = [];
  let start = -1;
  for (let s = from; s <= to + 1; s++) {
    const inside = s <= to && take(s);
    if (inside && start < 0) start = s;
    if (!inside && start >= 0) {
      out.push([start, s - 1]);
      start = -1;
    }
  }
  return out;
}

/**
 * The slots split evenly over `n` masters, as `redis-cli --cluster create` splits them
 * (3 masters: 0-5460, 5461-10922, 10923-16383).
 */
export function evenSlotRanges(n: number): SlotRange[] {
  const per = SLOTS / n;
  const out: SlotRange[] = [];
  let first = 0;
  let cursor = 0;
  for (let i = 0; i < n; i++) {
    let last = Math.round(cursor + per - 1);
    if (last > SLOTS - 1 || i === n - 1) last = SLOTS - 1;
    if (last < first) last = first;
    out.push([first, last]);
    first = last + 1;
    cursor += per;
  }
  return out;
}
