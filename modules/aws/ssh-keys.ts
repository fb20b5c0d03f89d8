// The controller's SSH key for EC2 key pairs: made here (ed25519, OpenSSH format), its public half
// imported into EC2, and compared with EC2's record of it by fingerprint, computed the way EC2
// computes it for imported keys.
import { createHash, createPublicKey } from 'node:crypto';
import ssh2 from 'ssh2';

export interface KeyPairText {
  /** OpenSSH private key (-----BEGIN OPENSSH PRIVATE KEY-----). */
  privateKey: string;
  /** "ssh-ed25519 AAAA… comment". */
  publicKey: string;
}

export function generateEd25519(comment: string): KeyPairText {
  const kp = ssh2.utils.generateKeyPairSync('ed25519', { comment });
  return { privateKey: kp.private, publicKey: kp.public.trim() };
}

/** The public key line of an unencrypted private key, or null when it cannot be read (a passphrase). */
export function publicKeyOfPrivate(privateKey: string): string | null {
  const k = ssh2.utils.parseKey(privateKey);
  if (k instanceof Error || Array.isArray(k)) return null;
  return `${k.type} ${k.getPublicSSH().toString('base64')}`;
}

function sshFields(blob: Buffer): Buffer[] {
  const fields: Buffer[] = [];
  for (let at = 0; at + 4 <= blob.length; ) {
    const n = blob.readUInt32BE(at);
    fields.push(blob.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  return fields;
}

/**
 * EC2's fingerprint of an imported public key: base64 SHA-256 of the key blob for ED25519, the MD5
 * of the DER public key (colon hex) for RSA. Null for a line that is not an ssh-ed25519/ssh-rsa key.
 */
export function ec2Fingerprint(publicKeyLine: string): string | null {
  const [type, body] = publicKeyLine.trim().split(/\s+/);
  if (body === undefined) return null;
  const blob = Buffer.from(body, 'base64');
  if (type === 'ssh-ed25519') return createHash('sha256').update(blob).digest('base64');
  if (type === 'ssh-rsa') {
    const [, e, n] = sshFields(blob);
    if (e === undefined || n === undefined) return null;
    const unsigned = (b: Buffer): string => (b[0] === 0 ? b.subarray(1) : b).toString('base64url');
    const der = createPublicKey({ key: { kty: 'RSA', e: unsigned(e), n: unsigned(n) }, format: 'jwk' }).export({ type: 'spki', format: 'der' });
    return createHash('md5').update(der).digest('hex').match(/../g)!.join(':');
  }
  return null;
}

/** Fingerprints written with or without "SHA256:" and base64 padding are the same fingerprint. */
export function sameFingerprint(a: string, b: string): boolean {
  // MD5 colon hex is case-insensitive; base64 is not.
  const norm = (f: string): string => {
    const t = f.trim().replace(/^SHA256:/, '').replace(/=+$/, '');
    return /^[0-9a-f]{2}(:[0-9a-f]{2})+$/i.test(t) ? t.toLowerCase() : t;
  };
  return norm(a) === norm(b);
}
