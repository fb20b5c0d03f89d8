// Reading rplay's snapshots of some instances (every page), and waiting for snapshots to complete.
import type { EC2, Filter } from '@aws-sdk/client-ec2';
import { AwsError } from './errors.js';
import { SNAPSHOT_OF, snapshotFacts, type SnapshotFacts } from './snapshot-tags.js';
import { poll } from './wait.js';

/** The account's own snapshots tagged as rplay's of one of `instances` (+ project tag). */
export async function snapshotsOf(ec2: EC2, instances: readonly string[], project: string | undefined): Promise<SnapshotFacts[]> {
  if (instances.length === 0) return [];
  const filters: Filter[] = [{ Name: `tag:${SNAPSHOT_OF}`, Values: [...instances] }, ...(project === undefined ? [] : [{ Name: 'tag:project', Values: [project] }])];
  const out: SnapshotFacts[] = [];
  let token: string | undefined;
  do {
    const r = await ec2.describeSnapshots({ OwnerIds: ['self'], Filters: filters, MaxResults: 1000, ...(token === undefined ? {} : { NextToken: token }) });
    out.push(...(r.Snapshots ?? []).map(snapshotFacts));
    token = r.NextToken || undefined;
  } while (token !== undefined);
  return out;
}

/** Polls until every snapshot is completed; one in state error fails at once. */
export async function waitCompleted(ec2: EC2, ids: readonly string[], timeoutMs: number): Promise<void> {
  if (ids.length === 0) return;
  await poll(
    `snapshot(s) ${ids.join(', ')} to complete`,
    async (seen) => {
      const { Snapshots = [] } = await ec2.describeSnapshots({ SnapshotIds: [...ids] });
      const failed = Snapshots.find((s) => s.State === 'error');
      if (failed !== undefined) throw new AwsError(`snapshot ${failed.SnapshotId} failed (state error${failed.StateMessage ? `: ${failed.StateMessage}` : ''})`);
      const pending = Snapshots.filter((s) => s.State !== 'completed');
      seen.last = pending.map((s) => `${s.SnapshotId} ${s.State} ${s.Progress ?? ''}`.trim()).join(', ') || 'all completed';
      return pending.length === 0 && Snapshots.length === ids.length ? true : null;
    },
    { timeoutMs, firstDelayMs: 200, maxDelayMs: 15_000 },
  );
}
