// Which of rplay's snapshots a retention policy lets go (pure). Per series (one device of one
// instance): keep the newest `count`, drop those older than `maxAgeDays` — but never the newest
// completed one of a series (an old backup beats none), never one still pending, never one of the
// label being made now, and never a snapshot that is not rplay's (project and snapshot-of tags).
import { newestFirst, seriesKey, type SnapshotFacts } from './snapshot-tags.js';

export interface RetentionPolicy {
  /** Keep at most this many per series (≥ 1). */
  count?: number;
  /** Drop snapshots started more than this many days ago. */
  maxAgeDays?: number;
}

export interface PruneScope {
  project?: string;
  /** The instances (Name tags) whose series are managed. */
  instances: readonly string[];
  /** Snapshots of this label are the ones being made: never pruned. */
  protectLabel?: string;
}

export interface PruneChoice {
  snapshot: SnapshotFacts;
  /** "beyond the newest 7 of redis-node-1a /dev/sda1", "older than 30 days". */
  reason: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** rplay made it, for this project, of one of the managed instances. */
export function isManaged(s: SnapshotFacts, scope: PruneScope): boolean {
  return s.of !== null && scope.instances.includes(s.of) && (scope.project === undefined || s.project === scope.project);
}

export function snapshotsToPrune(snaps: readonly SnapshotFacts[], policy: RetentionPolicy, scope: PruneScope, now: Date): PruneChoice[] {
  if (policy.count === undefined && policy.maxAgeDays === undefined) return [];
  const series = new Map<string, SnapshotFacts[]>();
  for (const s of snaps) {
    if (!isManaged(s, scope)) continue;
    const key = seriesKey(s);
    series.set(key, [...(series.get(key) ?? []), s]);
  }
  const out: PruneChoice[] = [];
  for (const [key, list] of series) {
    const sorted = [...list].sort(newestFirst);
    const newestDone = sorted.find((s) => s.state === 'completed');
    sorted.forEach((s, rank) => {
      if (s === newestDone || s.state === 'pending' || (scope.protectLabel !== undefined && s.label === scope.protectLabel)) return;
      if (policy.count !== undefined && rank >= policy.count) {
        out.push({ snapshot: s, reason: `beyond the newest ${policy.count} of ${key}` });
        return;
      }
      const started = Date.parse(s.startTime);
      if (policy.maxAgeDays !== undefined && Number.isFinite(started) && now.getTime() - started > policy.maxAgeDays * DAY_MS) {
        out.push({ snapshot: s, reason: `older than ${policy.maxAgeDays} day(s)` });
      }
    });
  }
  return out.sort((a, b) => newestFirst(b.snapshot, a.snapshot));
}
