// EBS encryption decisions, shared by RunInstances, CreateVolume and CopySnapshot: explicit request,
// the region's encryption-by-default, or an encrypted source; and KMS key ids resolved to key ARNs.
import { createHash } from 'node:crypto';
import type { Ec2Context } from './context.js';
import { Ec2Error } from './ec2-error.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A made-up but stable key id for an alias (the emulator has no KMS to ask). */
function keyIdForAlias(region: string, alias: string): string {
  const h = createHash('sha256').update(`${region}/${alias}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The key ARN for a KmsKeyId as EC2 accepts it: key id, key ARN, alias name or alias ARN. */
export function resolveKmsKey(ctx: Ec2Context, kmsKeyId: string | undefined): string {
  const { regionName: region } = ctx;
  const account = ctx.runtime.account.accountId;
  if (kmsKeyId === undefined || kmsKeyId === 'alias/aws/ebs') return ctx.region.defaultKmsKeyId;
  if (/^arn:aws:kms:[a-z0-9-]+:\d{12}:key\/.+$/.test(kmsKeyId)) return kmsKeyId;
  const aliasArn = /^arn:aws:kms:([a-z0-9-]+):(\d{12}):(alias\/.+)$/.exec(kmsKeyId);
  if (aliasArn !== null) {
    if (aliasArn[3] === 'alias/aws/ebs') return ctx.region.defaultKmsKeyId;
    return `arn:aws:kms:${aliasArn[1]}:${aliasArn[2]}:key/${keyIdForAlias(aliasArn[1], aliasArn[3])}`;
  }
  if (UUID.test(kmsKeyId)) return `arn:aws:kms:${region}:${account}:key/${kmsKeyId}`;
  if (kmsKeyId.startsWith('alias/')) return `arn:aws:kms:${region}:${account}:key/${keyIdForAlias(region, kmsKeyId)}`;
  throw new Ec2Error('InvalidParameterValue', `Invalid id: '${kmsKeyId}' (expecting a KMS key id, key ARN, alias name or alias ARN)`);
}

export interface Encryption {
  encrypted: boolean;
  kmsKeyId: string | null;
}

/**
 * Whether a new volume or snapshot copy is encrypted, and with which key: a KmsKeyId needs
 * Encrypted=true; an encrypted source always gives an encrypted result (with its key unless another
 * is named); otherwise it is encrypted when asked or when the region encrypts by default.
 */
export function encryptionFor(ctx: Ec2Context, wanted: { encrypted?: boolean; kmsKeyId?: string }, source: Encryption | null, sourceInOtherRegion = false): Encryption {
  if (wanted.kmsKeyId !== undefined && wanted.encrypted !== true) {
    throw new Ec2Error('InvalidParameterDependency', 'The parameter KmsKeyId requires the parameter Encrypted to be set.');
  }
  if (source?.encrypted) {
    if (wanted.kmsKeyId !== undefined || sourceInOtherRegion) return { encrypted: true, kmsKeyId: resolveKmsKey(ctx, wanted.kmsKeyId) };
    return source;
  }
  if (wanted.encrypted === true || ctx.region.ebsEncryptionByDefault) return { encrypted: true, kmsKeyId: resolveKmsKey(ctx, wanted.kmsKeyId) };
  return { encrypted: false, kmsKeyId: null };
}
