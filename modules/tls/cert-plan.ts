// The cert module's pure half: from what is on the node and on the controller, decide what to do
// (make the CA, a new key, a new certificate, the CA file, modes and owners), say it in words that
// name exactly what is wrong, and put it in operations: apply runs those and decides nothing.
import { createHash, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { ModuleError, type Change, type FileDiff, type Plan, type Vars } from '../../runner/types.js';
import { attrChanges, type PathState, type WantedAttrs } from '../files/file-attrs.js';
import { CA_KEY_FILE, canonicalSan, readCertificate, readPublicKey, samePem, spkiDer, type CaState, type CertInfo, type CertKind } from './pki.js';

export const KEY_MODE = '0600';
export const CERT_MODE = '0644';
const DAY_MS = 86_400_000;
const HIDDEN = '(private key: content not shown)';

/** The args, defaults filled in. */
export interface WantedCert {
  caDir: string;
  kind: CertKind;
  commonName: string;
  sans: string[];
  certPath: string;
  keyPath: string;
  caPath?: string;
  owner?: string;
  group?: string;
  keyBits: number;
  days: number;
  renewBefore: number;
}

/** A file on the node: its stat, and its text when it is a regular file. */
export interface NodeFile {
  state: PathState;
  content?: string;
}

/**
 * The node's private key as the controller knows it: its stat, and the public half that openssl
 * derived from it on the node (absent when openssl could not read it as a key). The key itself
 * never leaves the node.
 */
export interface NodeKey {
  state: PathState;
  publicKey?: string;
}

export interface CertFacts {
  /** Milliseconds since the epoch when gathered: expiry is judged against it. */
  now: number;
  ca: CaState;
  cert: NodeFile;
  key: NodeKey;
  caFile?: NodeFile;
  /** Parent folders of the three files that do not exist yet. */
  missingDirs: string[];
}

/**
 * What apply does, one per change. `caDir` is the controller folder, absolute. A CA that existed
 * when planned is named by its certificate's sha256 (apply refuses a CA replaced since); without it
 * the CA is the one a `createCa` before it made. The CA key never appears in an operation.
 */
export type CertOp =
  | { kind: 'createCa'; caDir: string }
  | { kind: 'caKeyMode'; path: string; mode: string }
  | { kind: 'mkdir'; path: string; mode: string }
  /** A private key made by openssl on the node; only its public half comes back. */
  | { kind: 'newKey'; path: string; algorithm: 'RSA'; bits: number; mode: string; owner?: string; group?: string }
  /** Sign the public half of `keyPath` (the key a `newKey` before it made, else `publicKey` as gathered). */
  | {
      kind: 'issue';
      caDir: string;
      caCertSha256?: string;
      keyPath: string;
      publicKey?: string;
      certPath: string;
      certKind: CertKind;
      commonName: string;
      sans: string[];
      days: number;
      mode: string;
      owner?: string;
      group?: string;
    }
  | { kind: 'writeCaFile'; caDir: string; caCertSha256?: string; path: string; mode: string; owner?: string; group?: string }
  | { kind: 'attrs'; path: string; mode?: string; owner?: string; group?: string };

export interface AttrFix {
  path: string;
  wanted: WantedAttrs;
  /** What each fix says; the plan gives them their operation. */
  changes: Pick<Change, 'description'>[];
}

export interface CertDecision {
  createCa: boolean;
  /** The CA key's mode when it is not 0600. */
  caKeyMode?: string;
  missingDirs: string[];
  /** Why a new key is needed (empty: keep the node's key). */
  newKey: string[];
  /** Why a new certificate is needed (empty: keep it). */
  issue: string[];
  /** Why the node's CA certificate must be written. */
  writeCaFile: string[];
  attrFixes: AttrFix[];
}

function stateWord(path: string, s: PathState, what: string): string | undefined {
  if (s.type === 'absent') return `${what} missing: ${path}`;
  if (s.type === 'directory' || s.type === 'other') throw new ModuleError(`cert: ${path} is a ${s.type}, not a ${what} file`);
  if (s.type === 'link') return `${what} ${path} is a symlink (→ ${s.linkTarget}); a file replaces it`;
  return undefined;
}

function days(ms: number): number {
  return Math.round(ms / DAY_MS);
}

function keyProblems(w: WantedCert, key: NodeKey): string[] {
  const word = stateWord(w.keyPath, key.state, 'private key');
  if (word) return [word];
  const k = nodePublicKey(key);
  if (!k) return [`private key is not a PEM private key: ${w.keyPath}`];
  const bits = k.asymmetricKeyType === 'rsa' ? k.asymmetricKeyDetails?.modulusLength : undefined;
  if (bits !== w.keyBits) return [`private key size ${bits ? `${bits}-bit` : k.asymmetricKeyType} → ${w.keyBits}-bit RSA: ${w.keyPath}`];
  return [];
}

function nodePublicKey(key: NodeKey): KeyObject | undefined {
  return key.state.type === 'file' && key.publicKey !== undefined ? readPublicKey(key.publicKey) : undefined;
}

function kindsWanted(kind: CertKind): CertKind[] {
  return kind === 'server' ? ['server', 'client'] : ['client'];
}

function certProblems(w: WantedCert, f: CertFacts, newKey: boolean): string[] {
  const word = stateWord(w.certPath, f.cert.state, 'certificate');
  if (word) return [word];
  const c = readCertificate(f.cert.content ?? '');
  if (!c) return [`certificate is not a PEM certificate: ${w.certPath}`];
  const out: string[] = [];
  const ca = f.ca.state === 'present' ? readCertificate(f.ca.certPem) : undefined;
  if (!ca || !c.x509.checkIssued(ca.x509) || !c.x509.verify(ca.x509.publicKey)) out.push(`certificate not signed by the CA in ${w.caDir}: ${w.certPath}`);
  if (newKey) out.push(`certificate must match the new private key: ${w.certPath}`);
  else {
    const k = nodePublicKey(f.key);
    if (k && !spkiDer(k).equals(spkiDer(c.x509.publicKey))) out.push(`certificate does not match the private key ${w.keyPath}`);
  }
  if (c.commonName !== w.commonName) out.push(`common name differs: ${c.commonName || '(none)'} → ${w.commonName}`);
  const want = [...new Set(w.sans.map(canonicalSan))].sort();
  const plus = want.filter((s) => !c.sans.includes(s));
  const minus = c.sans.filter((s) => !want.includes(s));
  if (plus.length || minus.length) {
    const bare = (s: string): string => s.replace(/^(IP|DNS):/, '');
    out.push(`SANs differ: ${[...plus.map((s) => `+${bare(s)}`), ...minus.map((s) => `-${bare(s)}`)].join(' ')}`);
  }
  const kinds = kindsWanted(w.kind);
  if (kinds.join(',') !== c.kinds.join(',')) out.push(`usage differs: ${c.kinds.join('+') || '(none)'} → ${kinds.join('+')}`);
  const left = c.notAfter - f.now;
  if (left <= 0) out.push(`expired ${days(-left)} days ago: ${w.certPath}`);
  else if (left < w.renewBefore * DAY_MS) out.push(`expires in ${days(left)} days (renew_before ${w.renewBefore}): ${w.certPath}`);
  return out;
}

function caFileProblems(w: WantedCert, f: CertFacts): string[] {
  if (!w.caPath || !f.caFile) return [];
  const word = stateWord(w.caPath, f.caFile.state, 'CA certificate');
  if (word) return [word];
  if (f.ca.state !== 'present' || !samePem(f.caFile.content ?? '', f.ca.certPem)) return [`CA certificate differs from the CA in ${w.caDir}: ${w.caPath}`];
  return [];
}

/** Pure: what must happen for the node to hold a valid key, certificate and CA certificate. */
export function decideCert(w: WantedCert, f: CertFacts): CertDecision {
  const newKey = keyProblems(w, f.key);
  const issue = certProblems(w, f, newKey.length > 0);
  const writeCaFile = caFileProblems(w, f);
  const attrs = { owner: w.owner, group: w.group };
  const attrFixes: AttrFix[] = [];
  // One fix per attribute: each is its own change and operation.
  const fix = (path: string, wanted: WantedAttrs, state: PathState, what: string): void => {
    for (const one of [{ mode: wanted.mode }, { owner: wanted.owner }, { group: wanted.group }]) {
      if (Object.values(one)[0] === undefined) continue;
      const changes = attrChanges(path, one, state).map((c) => ({ description: `${what} ${c.description}` }));
      if (changes.length) attrFixes.push({ path, wanted: one, changes });
    }
  };
  if (newKey.length === 0) fix(w.keyPath, { mode: KEY_MODE, ...attrs }, f.key.state, 'key');
  if (issue.length === 0) fix(w.certPath, { mode: CERT_MODE, ...attrs }, f.cert.state, 'certificate');
  if (w.caPath && f.caFile && writeCaFile.length === 0) fix(w.caPath, { mode: CERT_MODE, ...attrs }, f.caFile.state, 'CA certificate');
  return {
    createCa: f.ca.state === 'absent',
    caKeyMode: f.ca.state === 'present' && f.ca.keyMode !== KEY_MODE ? f.ca.keyMode : undefined,
    missingDirs: f.missingDirs,
    newKey,
    issue,
    writeCaFile,
    attrFixes,
  };
}

/** A certificate as a few lines a diff can show (PEM bytes would say nothing). */
function describeCert(c: CertInfo | undefined): string {
  if (!c) return '';
  return [
    `subject: CN=${c.commonName}`,
    `issuer: CN=${c.issuer}`,
    `SANs: ${c.sans.join(', ') || '(none)'}`,
    `usage: ${c.kinds.join('+') || '(none)'}`,
    `expires: ${new Date(c.notAfter).toISOString().slice(0, 10)}`,
    '',
  ].join('\n');
}

function describeWanted(w: WantedCert, f: CertFacts): string {
  const issuer = f.ca.state === 'present' ? `CN=${readCertificate(f.ca.certPem)?.issuer}` : `(new CA in ${w.caDir})`;
  return [
    `subject: CN=${w.commonName}`,
    `issuer: ${issuer}`,
    `SANs: ${[...new Set(w.sans.map(canonicalSan))].sort().join(', ') || '(none)'}`,
    `usage: ${kindsWanted(w.kind).join('+')}`,
    `expires: ${new Date(f.now + w.days * DAY_MS).toISOString().slice(0, 10)}`,
    '',
  ].join('\n');
}

/** What a key diff may show: that a key is there and its public half's fingerprint, never the key. */
function publicKeyLine(key: NodeKey): string {
  const k = nodePublicKey(key);
  if (!k) return key.state.type === 'absent' ? '' : `${HIDDEN}\n`;
  return `${HIDDEN}\npublic key: sha256:${createHash('sha256').update(spkiDer(k)).digest('hex').slice(0, 32)}\n`;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Pure: the decision as one change per operation, its description every reason for it. */
export function planCert(w: WantedCert, f: CertFacts): Plan<CertOp> {
  const d = decideCert(w, f);
  const caDir = f.ca.dir;
  const caCertSha256 = f.ca.state === 'present' ? sha256(f.ca.certPem) : undefined;
  const attrs = { owner: w.owner, group: w.group };
  const changes: Change<CertOp>[] = [];
  if (d.createCa) changes.push({ description: `create CA in ${w.caDir} (4096-bit RSA key, mode 0600, kept on the controller)`, op: { kind: 'createCa', caDir } });
  if (d.caKeyMode) changes.push({ description: `CA key mode ${d.caKeyMode} → ${KEY_MODE} in ${w.caDir}`, op: { kind: 'caKeyMode', path: join(caDir, CA_KEY_FILE), mode: KEY_MODE } });
  for (const dir of d.missingDirs) changes.push({ description: `create directory ${dir}`, op: { kind: 'mkdir', path: dir, mode: '0755' } });
  if (d.newKey.length) {
    const diff: FileDiff = { path: w.keyPath, before: publicKeyLine(f.key), after: `${HIDDEN}\npublic key: new ${w.keyBits}-bit RSA key\n` };
    const op: CertOp = { kind: 'newKey', path: w.keyPath, algorithm: 'RSA', bits: w.keyBits, mode: KEY_MODE, ...attrs };
    changes.push({ description: d.newKey.join('; '), diff, op });
  }
  if (d.issue.length) {
    const before = f.cert.state.type === 'file' ? describeCert(readCertificate(f.cert.content ?? '')) : '';
    const diff: FileDiff = { path: w.certPath, before, after: describeWanted(w, f) };
    const op: CertOp = {
      kind: 'issue',
      caDir,
      caCertSha256,
      keyPath: w.keyPath,
      publicKey: d.newKey.length ? undefined : f.key.publicKey,
      certPath: w.certPath,
      certKind: w.kind,
      commonName: w.commonName,
      sans: w.sans,
      days: w.days,
      mode: CERT_MODE,
      ...attrs,
    };
    changes.push({ description: d.issue.join('; '), diff, op });
  }
  if (d.writeCaFile.length && w.caPath) {
    const before = f.caFile?.state.type === 'file' ? describeCert(readCertificate(f.caFile.content ?? '')) : '';
    const after = f.ca.state === 'present' ? describeCert(readCertificate(f.ca.certPem)) : `(new CA in ${w.caDir})\n`;
    const op: CertOp = { kind: 'writeCaFile', caDir, caCertSha256, path: w.caPath, mode: CERT_MODE, ...attrs };
    changes.push({ description: d.writeCaFile.join('; '), diff: { path: w.caPath, before, after }, op });
  }
  for (const fx of d.attrFixes) changes.push(...fx.changes.map((c) => ({ ...c, op: { kind: 'attrs' as const, path: fx.path, ...fx.wanted } })));
  // The certificate that stays in place is already what the result says; a new one, apply reports.
  const result = d.issue.length ? certPaths(w) : certResult(w, f.cert.content ?? '');
  if (changes.length) return { changes, result };
  return { changes, msg: `${w.commonName}: valid until ${String(result.not_after).slice(0, 10)}, signed by the CA in ${w.caDir}`, result };
}

function certPaths(w: WantedCert): Vars {
  return { cert_path: w.certPath, key_path: w.keyPath, ca_path: w.caPath };
}

/** What the registered result says of a certificate. */
export function certFields(certPem: string): Vars {
  const c = readCertificate(certPem);
  return { not_after: c ? new Date(c.notAfter).toISOString() : '', sans: c?.sans ?? [], fingerprint_sha256: c?.fingerprint256 ?? '' };
}

/** The registered result: where the files are and what the certificate says. */
function certResult(w: WantedCert, certPem: string): Vars {
  return { ...certPaths(w), ...certFields(certPem) };
}

/** Wanted SANs must be DNS names or IP addresses. */
export function checkSans(sans: readonly string[]): void {
  for (const s of sans) {
    if (isIP(s) === 0 && !/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(s)) {
      throw new ModuleError(`cert: SAN ${JSON.stringify(s)} is neither a DNS name nor an IP address`);
    }
  }
}
