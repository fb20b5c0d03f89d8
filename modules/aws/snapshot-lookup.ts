// Reading rplay's snapshots of some instances (every page).
import type { EC2, Filter } from '@aws-sdk/client-ec2';
import { SNAPSHOT_OF, snapshotFacts, type SnapshotFacts } from './snapshot-tags.js';

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
