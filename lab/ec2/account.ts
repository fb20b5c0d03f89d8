// The emulated account: one state per region, as plain JSON-safe records (timestamps are ISO strings).
// The describe actions turn records into the SDK's shapes; records keep only what the emulator decides on.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomUUID } from 'node:crypto';

export const ACCOUNT_ID = '123456789012';

export interface Tag {
  Key: string;
  Value: string;
}

export interface VpcRecord {
  id: string;
  cidr: string;
  dhcpOptionsId: string;
  enableDnsSupport: boolean;
  enableDnsHostnames: boolean;
  tags: Tag[];
}

export interface SubnetRecord {
  id: string;
  vpcId: string;
  cidr: string;
  az: string;
  mapPublicIpOnLaunch: boolean;
  tags: Tag[];
}

export interface InternetGatewayRecord {
  id: string;
  vpcId: string | null;
  tags: Tag[];
}

export interface RouteRecord {
  destination: string;
  /** 'local' for the VPC's own range, else an internet gateway id. */
  gatewayId: string;
  origin: 'CreateRouteTable' | 'CreateRoute';
}

export interface RouteTableAssociationRecord {
  id: string;
  subnetId: string | null;
  main: boolean;
}

export interface RouteTableRecord {
  id: string;
  vpcId: string;
  routes: RouteRecord[];
  associations: RouteTableAssociationRecord[];
  tags: Tag[];
}

/** One security group rule: one protocol/port range and one peer, as EC2's SecurityGroupRule. */
export interface RuleRecord {
  id: string;
  protocol: string;
  fromPort: number | null;
  toPort: number | null;
  cidrIpv4?: string;
  cidrIpv6?: string;
  groupId?: string;
  prefixListId?: string;
  description?: string;
}

export interface SecurityGroupRecord {
  id: string;
  name: string;
  description: string;
  vpcId: string;
  ingress: RuleRecord[];
  egress: RuleRecord[];
  tags: Tag[];
}

export interface KeyPairRecord {
  id: string;
  name: string;
  type: 'rsa' | 'ed25519';
  fingerprint: string;
  publicKey: string;
  createdAt: string;
  tags: Tag[];
}

export type InstanceStateName = 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';

export interface InstanceRecord {
  id: string;
  reservationId: string;
  imageId: string;
  type: string;
  architecture: 'x86_64' | 'arm64';
  state: InstanceStateName;
  keyName: string | null;
  subnetId: string;
  vpcId: string;
  az: string;
  privateIp: string;
  /** Null while stopped: EC2 gives an instance a new public address at each start. */
  publicIp: string | null;
  networkInterfaceId: string;
  securityGroupIds: string[];
  rootDeviceName: string;
  launchIndex: number;
  launchedAt: string;
  clientToken: string | null;
  /** The lab host backing the instance (null without a host provider). */
  host: string | null;
  /** True until the host's disk has been made a fresh machine's (the launch's first step). */
  needsInstall: boolean;
  transitionReason: string;
  stateReason: { code: string; message: string } | null;
  terminatedAt: string | null;
  tags: Tag[];
}

export interface AttachmentRecord {
  instanceId: string;
  device: string;
  state: 'attaching' | 'attached' | 'detaching';
  attachedAt: string;
  deleteOnTermination: boolean;
}

export interface VolumeRecord {
  id: string;
  az: string;
  size: number;
  type: string;
  iops: number | null;
  throughput: number | null;
  encrypted: boolean;
  kmsKeyId: string | null;
  snapshotId: string | null;
  state: 'creating' | 'available' | 'in-use' | 'deleting' | 'error';
  createdAt: string;
  attachment: AttachmentRecord | null;
  /** Whether the volume has contents on disk (a volume made blank has none). */
  hasData: boolean;
  /** The lab host whose root folder holds the contents right now; null: the emulator's own store. */
  dataOn: string | null;
  tags: Tag[];
}

export interface SnapshotRecord {
  id: string;
  volumeId: string;
  volumeSize: number;
  description: string;
  encrypted: boolean;
  kmsKeyId: string | null;
  state: 'pending' | 'completed' | 'error';
  startedAt: string;
  /** When the pending state ends at the earliest (Progress counts towards it). */
  readyAt: string;
  completedAt: string | null;
  hasData: boolean;
  /** For CopySnapshot: the snapshot copied (a restart resumes the copy from it). */
  copiedFrom: { region: string; snapshotId: string } | null;
  tags: Tag[];
}

export interface RegionState {
  vpcs: Record<string, VpcRecord>;
  subnets: Record<string, SubnetRecord>;
  internetGateways: Record<string, InternetGatewayRecord>;
  routeTables: Record<string, RouteTableRecord>;
  securityGroups: Record<string, SecurityGroupRecord>;
  keyPairs: Record<string, KeyPairRecord>;
  instances: Record<string, InstanceRecord>;
  volumes: Record<string, VolumeRecord>;
  snapshots: Record<string, SnapshotRecord>;
  ebsEncryptionByDefault: boolean;
  /** The region's AWS managed key for EBS (alias/aws/ebs), as a key ARN. */
  defaultKmsKeyId: string;
  /** How many public addresses were handed out (without lab hosts, they come from 198.18.0.0/15). */
  publicIpsIssued: number;
}

export interface AccountState {
  version: 1;
  accountId: string;
  regions: Record<string, RegionState>;
}

export function emptyRegion(region: string): RegionState {
  return {
    vpcs: {},
    subnets: {},
    internetGateways: {},
    routeTables: {},
    securityGroups: {},
    keyPairs: {},
    instances: {},
    volumes: {},
    snapshots: {},
    ebsEncryptionByDefault: false,
    defaultKmsKeyId: `arn:aws:kms:${region}:${ACCOUNT_ID}:key/${randomUUID()}`,
    publicIpsIssued: 0,
  };
}

export function emptyAccount(regions: readonly string[]): AccountState {
  return { version: 1, accountId: ACCOUNT_ID, regions: Object.fromEntries(regions.map((r) => [r, emptyRegion(r)])) };
}

/** The account saved in `file`, or a fresh one when there is none; regions missing from it are added. */
export function loadAccount(file: string, regions: readonly string[]): AccountState {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyAccount(regions);
    throw e;
  }
  const account = JSON.parse(text) as AccountState;
  if (account.version !== 1 || typeof account.regions !== 'object') throw new Error(`${file} is not an EC2 emulator state file`);
  for (const r of regions) account.regions[r] ??= emptyRegion(r);
  return account;
}

/** Written to a temporary file and renamed: a crash never leaves half a state file. */
export function saveAccount(file: string, account: AccountState): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(account));
  renameSync(tmp, file);
}
