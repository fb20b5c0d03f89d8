// Key pairs: imported OpenSSH public keys (the private key stays with whoever made it).
import { createHash, createPublicKey } from 'node:crypto';
import type {
  DeleteKeyPairRequest,
  DescribeKeyPairsRequest,
  DescribeKeyPairsResult,
  ImportKeyPairRequest,
  ImportKeyPairResult,
  KeyPairInfo,
} from '@aws-sdk/client-ec2';
import type { KeyPairRecord } from '../account.js';
import type { Ec2Context } from '../context.js';
import { Ec2Error } from '../ec2-error.js';
import { applyFilters } from '../filters.js';
import { newId } from '../ids.js';
import { required } from '../resources.js';
import { sdkTags, tagsFor } from '../tags.js';

const badKey = (): Ec2Error => new Ec2Error('InvalidKey.Format', 'Key is not in valid OpenSSH public key format');

/** The length-prefixed fields of an SSH public key blob. */
function sshFields(blob: Buffer): Buffer[] {
  const fields: Buffer[] = [];
  for (let at = 0; at < blob.length; ) {
    if (at + 4 > blob.length) throw badKey();
    const n = blob.readUInt32BE(at);
    if (at + 4 + n > blob.length) throw badKey();
    fields.push(blob.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  return fields;
}

/** EC2's fingerprints: MD5 of the DER public key for RSA, base64 SHA-256 of the key for ED25519. */
function parsePublicKey(material: string): { type: 'rsa' | 'ed25519'; fingerprint: string; text: string } {
  const [algorithm, body] = material.trim().split(/\s+/);
  const blob = Buffer.from(body ?? '', 'base64');
  const fields = sshFields(blob);
  if (fields[0]?.toString() !== algorithm) throw badKey();
  if (algorithm === 'ssh-ed25519' && fields.length === 2 && fields[1].length === 32) {
    return { type: 'ed25519', fingerprint: createHash('sha256').update(blob).digest('base64'), text: material.trim() };
  }
  if (algorithm === 'ssh-rsa' && fields.length === 3) {
    const unsigned = (b: Buffer): string => (b[0] === 0 ? b.subarray(1) : b).toString('base64url');
    const key = createPublicKey({ key: { kty: 'RSA', e: unsigned(fields[1]), n: unsigned(fields[2]) }, format: 'jwk' });
    const der = key.export({ type: 'spki', format: 'der' });
    const md5 = createHash('md5').update(der).digest('hex');
    return { type: 'rsa', fingerprint: md5.match(/../g)!.join(':'), text: material.trim() };
  }
  throw badKey();
}

function keyView(k: KeyPairRecord, withPublicKey: boolean): KeyPairInfo {
  return {
    KeyPairId: k.id,
    KeyName: k.name,
    KeyType: k.type,
    KeyFingerprint: k.fingerprint,
    CreateTime: new Date(k.createdAt),
    PublicKey: withPublicKey ? k.publicKey : undefined,
    Tags: sdkTags(k.tags),
  };
}

export function keyPairByName(ctx: Ec2Context, name: string): KeyPairRecord {
  const k = Object.values(ctx.region.keyPairs).find((x) => x.name === name);
  if (k === undefined) throw new Ec2Error('InvalidKeyPair.NotFound', `The key pair '${name}' does not exist`);
  return k;
}

export function ImportKeyPair(ctx: Ec2Context, input: ImportKeyPairRequest): ImportKeyPairResult {
  const name = required(input.KeyName, 'KeyName');
  const material = Buffer.from(required(input.PublicKeyMaterial, 'PublicKeyMaterial')).toString('utf8');
  if (Object.values(ctx.region.keyPairs).some((k) => k.name === name)) {
    throw new Ec2Error('InvalidKeyPair.Duplicate', `The keypair '${name}' already exists.`);
  }
  const parsed = parsePublicKey(material);
  const k: KeyPairRecord = {
    id: newId('key'),
    name,
    type: parsed.type,
    fingerprint: parsed.fingerprint,
    publicKey: parsed.text,
    createdAt: ctx.now().toISOString(),
    tags: tagsFor(input.TagSpecifications, 'key-pair'),
  };
  ctx.region.keyPairs[k.id] = k;
  ctx.changed();
  return { KeyPairId: k.id, KeyName: k.name, KeyFingerprint: k.fingerprint, Tags: sdkTags(k.tags) };
}

export function DescribeKeyPairs(ctx: Ec2Context, input: DescribeKeyPairsRequest): DescribeKeyPairsResult {
  let records = Object.values(ctx.region.keyPairs);
  if (input.KeyNames?.length) records = input.KeyNames.map((n) => keyPairByName(ctx, n));
  if (input.KeyPairIds?.length) {
    const missing = input.KeyPairIds.find((id) => ctx.region.keyPairs[id] === undefined);
    if (missing !== undefined) throw new Ec2Error('InvalidKeyPair.NotFound', `The key pair '${missing}' does not exist`);
    records = records.filter((k) => input.KeyPairIds!.includes(k.id));
  }
  const matching = applyFilters(records, input.Filters, {
    'key-pair-id': (k) => [k.id],
    'key-name': (k) => [k.name],
    fingerprint: (k) => [k.fingerprint],
    'key-type': (k) => [k.type],
  });
  return { KeyPairs: matching.map((k) => keyView(k, input.IncludePublicKey === true)) };
}

export function DeleteKeyPair(ctx: Ec2Context, input: DeleteKeyPairRequest): object {
  if (input.KeyPairId !== undefined) {
    const k = ctx.region.keyPairs[input.KeyPairId];
    if (k === undefined) throw new Ec2Error('InvalidKeyPair.NotFound', `The key pair '${input.KeyPairId}' does not exist`);
    delete ctx.region.keyPairs[k.id];
  } else {
    // As in EC2, deleting a key name that does not exist succeeds.
    const name = required(input.KeyName, 'KeyName');
    for (const k of Object.values(ctx.region.keyPairs)) if (k.name === name) delete ctx.region.keyPairs[k.id];
  }
  ctx.changed();
  return { Return: true };
}
