// What every emulated region offers without being asked: its availability zones and the public images
// (Canonical's Ubuntu, owner 099720109477, named as Canonical names them, plus a look-alike from another
// owner, so an AMI lookup that forgets the owner picks the wrong one, as it would on AWS).
import { stableId } from './ids.js';

export const DEFAULT_REGIONS = ['us-east-1', 'us-west-2'] as const;
export const CANONICAL = '099720109477';

export interface Zone {
  name: string;
  id: string;
}

const ZONE_ID_PREFIX: Record<string, string> = { 'us-east-1': 'use1', 'us-west-2': 'usw2', 'eu-west-1': 'euw1', 'eu-central-1': 'euc1' };

export function zonesOf(region: string): Zone[] {
  const idPrefix = ZONE_ID_PREFIX[region] ?? region.replace(/-/g, '').slice(0, 5);
  return ['a', 'b', 'c', 'd'].map((letter, i) => ({ name: `${region}${letter}`, id: `${idPrefix}-az${i + 1}` }));
}

export interface CatalogImage {
  id: string;
  name: string;
  ownerId: string;
  architecture: 'x86_64' | 'arm64';
  creationDate: string;
  description: string;
  rootSnapshotId: string;
  rootSize: number;
}

const IMAGES = [
  { name: 'ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240301', owner: CANONICAL, arch: 'x86_64', date: '2024-03-01T09:12:44.000Z', description: 'Canonical, Ubuntu, 22.04 LTS, amd64 jammy image build on 2024-03-01' },
  { name: 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20240423', owner: CANONICAL, arch: 'x86_64', date: '2024-04-23T21:05:12.000Z', description: 'Canonical, Ubuntu, 24.04 LTS, amd64 noble image build on 2024-04-23' },
  { name: 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250305', owner: CANONICAL, arch: 'x86_64', date: '2025-03-05T08:41:27.000Z', description: 'Canonical, Ubuntu, 24.04, amd64 noble image' },
  { name: 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-20250305', owner: CANONICAL, arch: 'arm64', date: '2025-03-05T08:43:02.000Z', description: 'Canonical, Ubuntu, 24.04, arm64 noble image' },
  { name: 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250401', owner: '111122223333', arch: 'x86_64', date: '2025-04-01T12:00:00.000Z', description: 'Ubuntu 24.04 with extras (community image)' },
] as const;

/** Each region has its own copy of an image, under its own id. */
export function imagesOf(region: string): CatalogImage[] {
  return IMAGES.map((i) => ({
    id: stableId('ami', region, i.name, i.owner),
    name: i.name,
    ownerId: i.owner,
    architecture: i.arch,
    creationDate: i.date,
    description: i.description,
    rootSnapshotId: stableId('snap', region, i.name, i.owner),
    rootSize: 8,
  }));
}
