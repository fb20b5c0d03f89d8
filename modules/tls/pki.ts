// The controller-side PKI: one CA per directory (its key never leaves the controller), leaf keys
// and certificates issued from it. Keys come from Node's native RSA key generation (a 4096-bit key
// in about a second; node-forge's JavaScript keygen takes minutes) and signatures from native
// crypto; node-forge only assembles the X.509 structures. Certificates are read back with Node's
// X509Certificate, which is what the cert module's pure plan uses.
import { createPrivateKey, createPublicKey, generateKeyPair, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { constants, promises as fsp } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { Secret } from '../../runner/secret.js';

const generateKeyPairAsync = promisify(generateKeyPair);

export const CA_KEY_FILE = 'ca.key';
export const CA_CERT_FILE = 'ca.crt';
export const CA_KEY_BITS = 4096;
const CA_DAYS = 3650;
const DAY_MS = 86_400_000;
// Leaf certificates start an hour early so a node whose clock lags a little still accepts them.
const BACKDATE_MS = 3_600_000;

const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/**
 * server: TLS server and client, because Redis presents its one certificate both when accepting and
 * when it connects out (cluster bus, replication with tls-cluster/tls-replication); without
 * clientAuth its peers reject it. client: client authentication only.
 */
export type CertKind = 'server' | 'client';

export interface CaMaterial {
  certPem: string;
  keyPem: Secret;
}

/** A new RSA private key, PKCS#1 PEM (what OpenSSL, Redis and Node all read). */
export async function generateRsaKey(bits: number): Promise<Secret> {
  const { privateKey } = await generateKeyPairAsync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return new Secret(privateKey);
}

/** Serial numbers: 16 random bytes, top bit clear so the DER integer stays positive. */
function serialNumber(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f;
  return b.toString('hex');
}

/** Sign the assembled certificate with native crypto (forge's JavaScript RSA is far slower). */
function signNatively(cert: forge.pki.Certificate, signerKeyPem: Secret): string {
  cert.signatureOid = cert.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption;
  // getTBSCertificate is public in node-forge but missing from its type declarations.
  const tbs = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  cert.tbsCertificate = tbs;
  const der = Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary');
  cert.signature = sign('sha256', der, signerKeyPem.reveal()).toString('binary');
  return forge.pki.certificateToPem(cert);
}

/** The public half of a private key, SPKI PEM (what `openssl pkey -pubout` prints). */
export function publicKeyPem(keyPem: Secret): string {
  return createPublicKey(keyPem.reveal()).export({ type: 'spki', format: 'pem' }).toString();
}

/** A self-signed CA certificate for `keyPem`. */
export function createCaCertificate(keyPem: Secret, commonName: string, days = CA_DAYS): string {
  const cert = forge.pki.createCertificate();
  cert.serialNumber = serialNumber();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKeyPem(keyPem));
  const now = Date.now();
  cert.validity.notBefore = new Date(now - BACKDATE_MS);
  cert.validity.notAfter = new Date(now + days * DAY_MS);
  const name = [{ shortName: 'CN', value: commonName }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  return signNatively(cert, keyPem);
}

export interface LeafRequest {
  kind: CertKind;
  commonName: string;
  /** DNS names and IP addresses. */
  sans: readonly string[];
  days: number;
}

/**
 * A certificate for a public key (SPKI PEM), signed by the CA: the private key it belongs to is
 * not needed, so a node's key can stay on the node.
 */
export function issueCertificate(ca: CaMaterial, publicKey: string, req: LeafRequest): string {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const cert = forge.pki.createCertificate();
  cert.serialNumber = serialNumber();
  const pub = readPublicKey(publicKey);
  if (pub?.asymmetricKeyType !== 'rsa') throw new Error(`not an RSA public key (${pub ? pub.asymmetricKeyType : 'unreadable'})`);
  cert.publicKey = forge.pki.publicKeyFromPem(pub.export({ type: 'spki', format: 'pem' }).toString());
  const now = Date.now();
  cert.validity.notBefore = new Date(now - BACKDATE_MS);
  cert.validity.notAfter = new Date(now + req.days * DAY_MS);
  cert.setSubject([{ shortName: 'CN', value: req.commonName }]);
  cert.setIssuer(caCert.subject.attributes);
  const extensions: object[] = [
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: req.kind === 'server', clientAuth: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ];
  if (req.sans.length > 0) {
    extensions.push({
      name: 'subjectAltName',
      altNames: req.sans.map((s) => (isIP(s) ? { type: 7, ip: s } : { type: 2, value: s })),
    });
  }
  cert.setExtensions(extensions);
  return signNatively(cert, ca.keyPem);
}

/** A fresh key and a certificate for it. */
export async function issueKeyAndCertificate(ca: CaMaterial, req: LeafRequest, keyBits: number): Promise<{ keyPem: Secret; certPem: string }> {
  const keyPem = await generateRsaKey(keyBits);
  return { keyPem, certPem: issueCertificate(ca, publicKeyPem(keyPem), req) };
}

// ---------------------------------------------------------------------------------------------
// Reading certificates (pure: what the cert module's plan uses)

/** A SAN as written in args or found in a certificate, in one canonical spelling ("IP:…"/"DNS:…"). */
export function canonicalSan(s: string): string {
  const t = s.trim();
  if (isIP(t) === 4) return `IP:${t}`;
  if (isIP(t) === 6) return `IP:${new URL(`http://[${t}]/`).hostname.slice(1, -1)}`;
  return `DNS:${t.toLowerCase()}`;
}

export interface CertInfo {
  x509: X509Certificate;
  commonName: string;
  issuer: string;
  /** Canonical SANs, sorted. */
  sans: string[];
  kinds: CertKind[];
  notAfter: number;
  keyBits: number;
  fingerprint256: string;
}

function cnOf(dn: string): string {
  return dn.split('\n').find((l) => l.startsWith('CN='))?.slice(3) ?? '';
}

/** Parse a PEM certificate; undefined when it is not one. */
export function readCertificate(pem: string): CertInfo | undefined {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(pem);
  } catch {
    return undefined;
  }
  const sans = (x509.subjectAltName ?? '')
    .split(', ')
    .filter(Boolean)
    .map((e) => {
      const [type, ...rest] = e.split(':');
      const value = rest.join(':');
      return type === 'IP Address' ? canonicalSan(value) : type === 'DNS' ? canonicalSan(value) : e;
    })
    .sort();
  const eku = x509.keyUsage ?? [];
  const kinds: CertKind[] = [];
  if (eku.includes(OID_SERVER_AUTH)) kinds.push('server');
  if (eku.includes(OID_CLIENT_AUTH)) kinds.push('client');
  return {
    x509,
    commonName: cnOf(x509.subject),
    issuer: cnOf(x509.issuer),
    sans,
    kinds,
    notAfter: Date.parse(x509.validTo),
    keyBits: x509.publicKey.asymmetricKeyDetails?.modulusLength ?? 0,
    fingerprint256: x509.fingerprint256,
  };
}

/** A private key from PEM; undefined when it is not one. */
export function readPrivateKey(pem: string): KeyObject | undefined {
  try {
    return createPrivateKey(pem);
  } catch {
    return undefined;
  }
}

/** A public key from PEM (SPKI or PKCS#1); undefined when it is not one. */
export function readPublicKey(pem: string): KeyObject | undefined {
  if (!/-----BEGIN (RSA )?PUBLIC KEY-----/.test(pem)) return undefined;
  try {
    return createPublicKey(pem);
  } catch {
    return undefined;
  }
}

/** A public key's DER SubjectPublicKeyInfo: two keys are the same key when these bytes are. */
export function spkiDer(k: KeyObject): Buffer {
  return k.export({ type: 'spki', format: 'der' });
}

/** The same certificate, whatever its line endings or surrounding whitespace. */
export function samePem(a: string, b: string): boolean {
  const norm = (s: string): string => s.replace(/\r\n/g, '\n').trim();
  return norm(a) === norm(b);
}

// ---------------------------------------------------------------------------------------------
// The CA directory on the controller

export type CaState =
  | { state: 'absent'; dir: string }
  | { state: 'present'; dir: string; certPem: string; keyMode: string };

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** The CA in `dir` without its key (what planning needs). An incomplete or broken CA is an error. */
export async function readCa(dir: string): Promise<CaState> {
  const certPem = await readIfExists(join(dir, CA_CERT_FILE));
  let keyMode: string | undefined;
  try {
    keyMode = ((await fsp.stat(join(dir, CA_KEY_FILE))).mode & 0o7777).toString(8).padStart(4, '0');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (certPem === undefined && keyMode === undefined) return { state: 'absent', dir };
  if (certPem === undefined || keyMode === undefined) {
    const [has, lacks] = certPem === undefined ? [CA_KEY_FILE, CA_CERT_FILE] : [CA_CERT_FILE, CA_KEY_FILE];
    throw new Error(
      `the CA in ${dir} is incomplete: ${has} without ${lacks}; restore ${lacks}, or remove ${dir} to make a new CA (every certificate is then re-issued)`,
    );
  }
  if (!readCertificate(certPem)) throw new Error(`${join(dir, CA_CERT_FILE)} is not a PEM certificate`);
  return { state: 'present', dir, certPem, keyMode };
}

/** The CA's certificate and key, checked to belong together. */
export async function loadCa(dir: string): Promise<CaMaterial> {
  const certPem = await fsp.readFile(join(dir, CA_CERT_FILE), 'utf8');
  const keyPem = new Secret(await fsp.readFile(join(dir, CA_KEY_FILE), 'utf8'));
  const cert = readCertificate(certPem);
  const key = readPrivateKey(keyPem.reveal());
  if (!cert || !key || !cert.x509.checkPrivateKey(key)) {
    throw new Error(`${join(dir, CA_KEY_FILE)} does not belong to ${join(dir, CA_CERT_FILE)}`);
  }
  return { certPem, keyPem };
}

// Hosts' tasks that ask at the same time share one creation; later calls read the files again.
const creating = new Map<string, Promise<CaMaterial>>();

/**
 * The CA in `dir`, made first when there is none: directory 0700, key 0600, certificate 0644. The
 * key is linked into place with O_EXCL semantics, so two rplay processes never make two CAs.
 */
export function ensureCa(dir: string): Promise<CaMaterial> {
  const abs = resolve(dir);
  let p = creating.get(abs);
  if (!p) {
    p = makeOrLoadCa(abs).finally(() => creating.delete(abs));
    creating.set(abs, p);
  }
  return p;
}

async function makeOrLoadCa(dir: string): Promise<CaMaterial> {
  if ((await readCa(dir)).state === 'present') return loadCa(dir);
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const keyPem = await generateRsaKey(CA_KEY_BITS);
  const certPem = createCaCertificate(keyPem, `rplay CA ${randomBytes(4).toString('hex')}`);
  const tag = randomBytes(6).toString('hex');
  const tmpKey = join(dir, `.${CA_KEY_FILE}.${tag}`);
  const tmpCert = join(dir, `.${CA_CERT_FILE}.${tag}`);
  try {
    await fsp.writeFile(tmpKey, keyPem.reveal(), { mode: 0o600, flag: 'wx' });
    await fsp.writeFile(tmpCert, certPem, { mode: 0o644, flag: 'wx' });
    await fsp.chmod(tmpCert, 0o644);
    try {
      await fsp.link(tmpKey, join(dir, CA_KEY_FILE));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      return await waitForCa(dir);
    }
    await fsp.link(tmpCert, join(dir, CA_CERT_FILE));
    return { certPem, keyPem };
  } finally {
    await fsp.rm(tmpKey, { force: true });
    await fsp.rm(tmpCert, { force: true });
  }
}

/** Another process linked its key first: use its CA once its certificate is in place too. */
async function waitForCa(dir: string): Promise<CaMaterial> {
  for (let i = 0; i < 100; i++) {
    try {
      await fsp.access(join(dir, CA_CERT_FILE), constants.R_OK);
      return await loadCa(dir);
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return loadCa(dir);
}

/**
 * A short-lived client certificate, in memory only, for rplay's own connections to Redis: nothing
 * is written anywhere, so no client key lies on the controller or a node between runs.
 */
export async function issueEphemeralClientCert(caDir: string, commonName: string, hours = 24): Promise<{ certPem: string; keyPem: Secret; caPem: string }> {
  const ca = await loadCa(caDir);
  const { keyPem, certPem } = await issueKeyAndCertificate(ca, { kind: 'client', commonName, sans: [], days: hours / 24 }, 2048);
  return { certPem, keyPem, caPem: ca.certPem };
}
