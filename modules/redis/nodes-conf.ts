// Moving a Redis Cluster's saved state (nodes.conf) to new addresses (pure). A node restored from a
// snapshot onto another machine — a relaunched instance, the DR region — keeps its node id, slots
// and epochs, but nodes.conf still names every peer, itself included, at the old addresses, which no
// longer answer: the nodes would wait for each other forever. Rewriting the addresses (node ids
// stay) lets the very same cluster come back, with its data, on the new machines.

/** old address → new address. */
export type AddressMoves = ReadonlyMap<string, string>;

/**
 * nodes.conf with every node line's address moved; lines of other nodes and the `vars` line stay.
 * A line is "<id> <ip>:<port>@<cport>[,<hostname>] <flags> …".
 */
export function readdressNodesConf(text: string, moves: AddressMoves): string {
  return text
    .split('\n')
    .map((line) => {
      const m = /^([0-9a-f]{40}) ([^:\s]*):(\d+@\d+\S*)( .*)?$/.exec(line);
      if (m === null) return line;
      const to = moves.get(m[2]);
      return to === undefined ? line : `${m[1]} ${to}:${m[3]}${m[4] ?? ''}`;
    })
    .join('\n');
}

/** The addresses of node lines (old ones the moves would change). */
export function addressesIn(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^[0-9a-f]{40} ([^:\s]*):\d+@\d+/.exec(line);
    if (m !== null) out.push(m[1]);
  }
  return out;
}

/**
 * The moves from pairs of (old, new) addresses, skipping unknown or unchanged ones. Two old
 * addresses moving to one new one, or one old going to two new, is a mistake in the inventory.
 */
export function addressMoves(pairs: readonly { from: string; to: string; host: string }[]): Map<string, string> {
  const moves = new Map<string, string>();
  const takenBy = new Map<string, string>();
  for (const p of pairs) {
    if (p.from === '' || p.to === '' || p.from === p.to) continue;
    const before = moves.get(p.from);
    if (before !== undefined && before !== p.to) throw new Error(`address ${p.from} would move to both ${before} and ${p.to} (host ${p.host})`);
    const other = takenBy.get(p.to);
    if (other !== undefined && other !== p.from) throw new Error(`both ${other} and ${p.from} would move to ${p.to} (host ${p.host})`);
    moves.set(p.from, p.to);
    takenBy.set(p.to, p.from);
  }
  return moves;
}
