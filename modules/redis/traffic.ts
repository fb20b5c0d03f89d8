// Application traffic during a roll: a writer whose writes carry sequence numbers and a reader of
// what was acknowledged, so a drill or a test can say how many writes the cluster refused and how
// many acknowledged writes it lost. It writes only keys under its own prefix and deletes them when
// asked to at the end.

/** What the traffic saw, counted from its start to its stop. */
export interface TrafficFigures {
  /** Writes sent. */
  readonly attempted: number;
  /** Writes the cluster answered OK. */
  readonly acknowledged: number;
  /** Writes answered with an error or not answered (a refused write is not a lost one). */
  readonly refused: number;
  /** Acknowledged writes that were not readable with their value at the end: must be 0. */
  readonly lost: number;
  /** Reads of acknowledged keys made while the traffic ran. */
  readonly reads: number;
  /** Of those, reads that failed (an error) or returned another value than was acknowledged. */
  readonly readFailures: number;
  /** Milliseconds from the first refused write to the first acknowledged write after it (0 when none was refused). */
  readonly unavailableMs: number;
}

export interface TrafficOptions {
  /** Key prefix; every key is `<prefix>:<seq>`, spread over the slots (and so over every master). */
  readonly prefix: string;
  /** Pause between two writes (and two reads). Default 10 ms. */
  readonly intervalMs?: number;
  /** Milliseconds the final read-back may retry a key whose read fails (not a wrong value). Default 15000. */
  readonly settleMs?: number;
  /** Delete every key written once they are counted. Default true. */
  readonly cleanup?: boolean;
}

export interface Traffic {
  /** Stops writing and reading, reads back every acknowledged write, and gives the figures. */
  stop(): Promise<TrafficFigures>;
}

// Reads and deletes at the end go this many at a time.
const BATCH = 100;
/** What the traffic needs of a client: an ioredis Cluster is one. */
export interface KeyValueClient {
  set(key: string, value: string): Promise<unknown>;
  get(key: string): Promise<string | null>;
  del(key: string): Promise<unknown>;
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts writing and reading through `cluster` at once; the caller owns the client. */
export function startTraffic(cluster: KeyValueClient, opts: TrafficOptions): Traffic {
  const interval = opts.intervalMs ?? 10;
  const acked = new Map<number, string>();
  let attempted = 0;
  let refused = 0;
  let reads = 0;
  let readFailures = 0;
  let downSince: number | undefined;
  let unavailableMs = 0;
  let running = true;
  const key = (seq: number): string => `${opts.prefix}:${seq}`;

  const writer = (async () => {
    for (let seq = 0; running; seq++) {
      attempted++;
      const value = `${seq}:${Date.now()}`;
      const ok = await cluster.set(key(seq), value).then((r) => r === 'OK', () => false);
      if (ok) {
        acked.set(seq, value);
        if (downSince !== undefined) unavailableMs = Math.max(unavailableMs, Date.now() - downSince);
        downSince = undefined;
      } else {
        refused++;
        downSince ??= Date.now();
      }
      await pause(interval);
    }
  })();

  const reader = (async () => {
    while (running) {
      const seqs = [...acked.keys()];
      if (seqs.length) {
        const seq = seqs[Math.floor(Math.random() * seqs.length)]!;
        reads++;
        const got = await cluster.get(key(seq)).catch(() => undefined);
        if (got !== acked.get(seq)) readFailures++;
      }
      await pause(interval);
    }
  })();

  return {
    async stop() {
      running = false;
      await Promise.all([writer, reader]);
      if (downSince !== undefined) unavailableMs = Math.max(unavailableMs, Date.now() - downSince);
      const deadline = Date.now() + (opts.settleMs ?? 15_000);
      // A failed read is retried until the deadline (the cluster may still be settling); a wrong
      // or missing value is a lost write at once.
      const readBack = async (seq: number, value: string): Promise<boolean> => {
        for (;;) {
          const got = await cluster.get(key(seq)).then((v) => ({ v }), () => undefined);
          if (got !== undefined) return got.v === value;
          if (Date.now() > deadline) return false;
          await pause(200);
        }
      };
      let lost = 0;
      const all = [...acked];
      for (let i = 0; i < all.length; i += BATCH) {
        const kept = await Promise.all(all.slice(i, i + BATCH).map(([seq, value]) => readBack(seq, value)));
        lost += kept.filter((k) => !k).length;
      }
      if (opts.cleanup ?? true) {
        for (let i = 0; i < attempted; i += BATCH) {
          const seqs = Array.from({ length: Math.min(BATCH, attempted - i) }, (_, j) => i + j);
          await Promise.all(seqs.map((seq) => cluster.del(key(seq)).catch(() => 0)));
        }
      }
      return { attempted, acknowledged: acked.size, refused, lost, reads, readFailures, unavailableMs };
    },
  };
}

/** The drill's line: `failover: 6.2 s, 14 writes refused, 0 acknowledged writes lost`. */
export function trafficLine(what: string, seconds: number, f: TrafficFigures): string {
  return `${what}: ${seconds.toFixed(1)} s, ${f.refused} writes refused, ${f.lost} acknowledged writes lost`;
}
