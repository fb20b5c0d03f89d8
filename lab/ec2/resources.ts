// Finding a record by id, with the error EC2 gives for an id that does not exist.
import type { RegionState, Tag } from './account.js';
import { Ec2Error } from './ec2-error.js';

type Collection = 'vpcs' | 'subnets' | 'internetGateways' | 'routeTables' | 'securityGroups' | 'keyPairs' | 'instances' | 'volumes' | 'snapshots';

interface Kind {
  collection: Collection;
  prefix: string;
  /** The resource type DescribeTags and TagSpecifications name it by. */
  resourceType: string;
  notFound: string;
  message(ids: string[]): string;
}

const quoted = (ids: string[]): string => `'${ids.join(', ')}'`;
const exist = (ids: string[]): string => (ids.length === 1 ? 'does not exist' : 'do not exist');

export const KINDS: readonly Kind[] = [
  { collection: 'vpcs', prefix: 'vpc', resourceType: 'vpc', notFound: 'InvalidVpcID.NotFound', message: (ids) => `The vpc ID ${quoted(ids)} ${exist(ids)}` },
  { collection: 'subnets', prefix: 'subnet', resourceType: 'subnet', notFound: 'InvalidSubnetID.NotFound', message: (ids) => `The subnet ID ${quoted(ids)} ${exist(ids)}` },
  { collection: 'internetGateways', prefix: 'igw', resourceType: 'internet-gateway', notFound: 'InvalidInternetGatewayID.NotFound', message: (ids) => `The internetGateway ID ${quoted(ids)} ${exist(ids)}` },
  { collection: 'routeTables', prefix: 'rtb', resourceType: 'route-table', notFound: 'InvalidRouteTableID.NotFound', message: (ids) => `The routeTable ID ${quoted(ids)} ${exist(ids)}` },
  { collection: 'securityGroups', prefix: 'sg', resourceType: 'security-group', notFound: 'InvalidGroup.NotFound', message: (ids) => `The security group ${quoted(ids)} ${exist(ids)}` },
  { collection: 'keyPairs', prefix: 'key', resourceType: 'key-pair', notFound: 'InvalidKeyPair.NotFound', message: (ids) => `The key pair ${quoted(ids)} ${exist(ids)}` },
  { collection: 'instances', prefix: 'i', resourceType: 'instance', notFound: 'InvalidInstanceID.NotFound', message: (ids) => `The instance ID${ids.length === 1 ? '' : 's'} ${quoted(ids)} ${exist(ids)}` },
  { collection: 'volumes', prefix: 'vol', resourceType: 'volume', notFound: 'InvalidVolume.NotFound', message: (ids) => `The volume ${quoted(ids)} ${exist(ids)}.` },
  { collection: 'snapshots', prefix: 'snap', resourceType: 'snapshot', notFound: 'InvalidSnapshot.NotFound', message: (ids) => `The snapshot ${quoted(ids)} ${exist(ids)}.` },
];

function kind(collection: Collection): Kind {
  const k = KINDS.find((x) => x.collection === collection);
  if (k === undefined) throw new Error(`no resource kind ${collection}`);
  return k;
}

export function notFound(collection: Collection, ids: string[]): Ec2Error {
  const k = kind(collection);
  return new Ec2Error(k.notFound, k.message(ids));
}

/** The record with this id, or EC2's NotFound error for its kind. */
export function find<C extends Collection>(region: RegionState, collection: C, id: string | undefined): RegionState[C][string] {
  const record = id === undefined ? undefined : (region[collection][id] as RegionState[C][string] | undefined);
  if (record === undefined) throw notFound(collection, [id ?? '']);
  return record;
}

/** The records with these ids, in that order; every missing id is named in one error. */
export function findAll<C extends Collection>(region: RegionState, collection: C, ids: readonly string[]): RegionState[C][string][] {
  const missing = ids.filter((id) => region[collection][id] === undefined);
  if (missing.length > 0) throw notFound(collection, missing);
  return ids.map((id) => region[collection][id] as RegionState[C][string]);
}

/** Any taggable record, by the kind its id's prefix names. */
export function findTaggable(region: RegionState, id: string): { tags: Tag[]; resourceType: string } {
  const prefix = id.slice(0, id.lastIndexOf('-'));
  const k = KINDS.find((x) => x.prefix === prefix);
  if (k === undefined) throw new Ec2Error('InvalidID', `The ID '${id}' is not valid`);
  const record = region[k.collection][id] as { tags: Tag[] } | undefined;
  if (record === undefined) throw new Ec2Error(k.notFound, k.message([id]));
  return { tags: record.tags, resourceType: k.resourceType };
}

/** Fails with MissingParameter when a required input member is absent, as EC2 does. */
export function required<T>(value: T | undefined | null, name: string): T {
  if (value === undefined || value === null || value === '') throw new Ec2Error('MissingParameter', `The request must contain the parameter ${name}`);
  return value;
}
