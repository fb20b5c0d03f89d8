// What ebs_encrypt reads from EC2 about one instance, in one look (nothing is waited for): the instance
// (found by its Name and project tags), the volume at its root device, and the pieces of a migration of
// it, found by the tag rplay:encrypts=<the volume being replaced>.
import type { EC2 } from '@aws-sdk/client-ec2';
import { ENCRYPTS_TAG, volumeToReplace, type MigrationFacts } from './ebs-encrypt-plan.js';
import { AwsError } from './errors.js';
import { describeVolumes, inPassing, instancesNamed, type VolumeFacts } from './resources.js';
import { snapshotFacts } from './snapshot-tags.js';
import { identityText } from './tags.js';

export interface InstanceIdentity {
  name: string;
  project?: string;
}

/** Gone, or going: never a migration's piece. */
const GONE = ['deleting', 'deleted'];

async function volumes(ec2: EC2, filters: { Name: string; Values: string[] }[]): Promise<VolumeFacts[]> {
  return (await describeVolumes(ec2, filters)).filter((v) => !GONE.includes(v.state));
}

export async function gatherMigration(ec2: EC2, id: InstanceIdentity): Promise<MigrationFacts> {
  const found = await instancesNamed(ec2, id.name, id.project);
  const who = identityText(id.name, id.project);
  if (found.length === 0) throw new AwsError(`no instance is named ${who}`);
  if (found.length > 1) throw new AwsError(`${found.length} instances are named ${who}: ${found.map((i) => i.id).join(', ')}. Terminate or rename the extra one(s), then run again`);
  const instance = found[0];
  const nothing = { instance, root: null, original: null, snapshots: [], volumes: [] };
  // Where it lands decides the migration: the plan waits for it first.
  if (inPassing(instance) !== null) return nothing;
  const rootId = instance.volumes[instance.rootDevice];
  const [root = null] = rootId === undefined ? [] : await volumes(ec2, [{ Name: 'volume-id', Values: [rootId] }]);
  const originalId = volumeToReplace(instance, root);
  if (originalId === null) return { ...nothing, root };
  const byTag = [{ Name: `tag:${ENCRYPTS_TAG}`, Values: [originalId] }];
  const [[original = null], tagged, { Snapshots = [] }] = await Promise.all([
    originalId === root?.id ? Promise.resolve([root]) : volumes(ec2, [{ Name: 'volume-id', Values: [originalId] }]),
    volumes(ec2, byTag),
    ec2.describeSnapshots({ OwnerIds: ['self'], Filters: byTag }),
  ]);
  return { instance, root, original, snapshots: Snapshots.map(snapshotFacts), volumes: tagged };
}
