// The cert module's plan, from given facts: real certificates and keys (made by the controller-side
// PKI with 2048-bit keys for speed), fake node stats.
import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cert } from '../../../modules/cert.js';
import type { CertFacts, NodeKey } from '../../../modules/tls/cert-plan.js';
import type { PathState } from '../../../modules/files/file-attrs.js';
import { createCaCertificate, generateRsaKey, issueCertificate, publicKeyPem, type CaMaterial } from '../../../modules/tls/pki.js';
import { ModuleError } from '../../../runner/types.js';

const CERT = '/etc/redis/tls/redis.crt';
const KEY = '/etc/redis/tls/redis.key';
const CAF = '/etc/redis/tls/ca.crt';
const SANS = ['node1', '10.0.1.11', '127.0.0.1'];
const args = {
  ca_dir: '.rplay/pki',
  common_name: 'node1',
  sans: SANS,
  cert_path: CERT,
  key_path: KEY,
  ca_path: CAF,
  owner: 'redis',
  group: 'redis',
};

async function makeCa(): Promise<CaMaterial> {
  const keyPem = await generateRsaKey(2048);
  return { keyPem, certPem: createCaCertificate(keyPem, 'test CA') };
}

const ca = await makeCa();
const otherCa = await makeCa();
const key = await generateRsaKey(2048);
const otherKey = await generateRsaKey(2048);
// What openssl on the node hands back: the public half only.
const pub = publicKeyPem(key);
const goodCert = issueCertificate(ca, pub, { kind: 'server', commonName: 'node1', sans: SANS, days: 365 });

function file(mode: string, owner = 'redis', group = 'redis'): PathState {
  return { type: 'file', mode, owner, group, uid: owner === 'root' ? 0 : 101, gid: group === 'root' ? 0 : 101 };
}
const absent: PathState = { type: 'absent' };

function facts(over: Partial<CertFacts> = {}): CertFacts {
  return {
    now: Date.now(),
    ca: { state: 'present', dir: '/proj/.rplay/pki', certPem: ca.certPem, keyMode: '0600' },
    cert: { state: file('0644'), content: goodCert },
    key: { state: file('0600'), publicKey: pub },
    caFile: { state: file('0644'), content: ca.certPem },
    missingDirs: [],
    ...over,
  };
}

const descriptions = (f: CertFacts, a: Record<string, unknown> = args): string[] =>
  cert.plan(a as Parameters<typeof cert.plan>[0], f).changes.map((c) => c.description);

test('a valid certificate, key and CA file with the right modes and owners: ok', () => {
  const p = cert.plan(args, facts());
  assert.equal(p.changes, []);
  assert.ok(p.msg?.startsWith('node1: valid until '));
  assert.equal(p.result?.sans, ['DNS:node1', 'IP:10.0.1.11', 'IP:127.0.0.1']);
  // Order and spelling of SANs in args do not matter.
  assert.equal(descriptions(facts(), { ...args, sans: ['127.0.0.1', 'NODE1', '10.0.1.11'] }), []);
});

test('a SAN missing from the certificate: re-issue, naming the SAN, with a readable diff', () => {
  const f = facts({ cert: { state: file('0644'), content: issueCertificate(ca, pub, { kind: 'server', commonName: 'node1', sans: ['node1', '10.0.1.11'], days: 365 }) } });
  const p = cert.plan(args, f);
  assert.equal(p.changes.map((c) => c.description), ['SANs differ: +127.0.0.1']);
  const diff = p.changes[0].diff!;
  assert.is(diff.path, CERT);
  assert.ok(diff.before.includes('SANs: DNS:node1, IP:10.0.1.11\n'));
  assert.ok(diff.after.includes('SANs: DNS:node1, IP:10.0.1.11, IP:127.0.0.1\n'));
  const extra = facts({ cert: { state: file('0644'), content: issueCertificate(ca, pub, { kind: 'server', commonName: 'node1', sans: [...SANS, 'old.example'], days: 365 }) } });
  assert.equal(descriptions(extra), ['SANs differ: -old.example']);
});

test('expiring within renew_before, or expired: re-issue', () => {
  const soon = facts({ cert: { state: file('0644'), content: issueCertificate(ca, pub, { kind: 'server', commonName: 'node1', sans: SANS, days: 10 }) } });
  assert.equal(descriptions(soon), [`expires in 10 days (renew_before 30): ${CERT}`]);
  assert.equal(descriptions(soon, { ...args, renew_before: 7 }), []);
  const later = { ...soon, now: soon.now + 12 * 86_400_000 };
  assert.equal(descriptions(later), [`expired 2 days ago: ${CERT}`]);
});

test('wrong modes and owners: only those are fixed', () => {
  assert.equal(descriptions(facts({ key: { state: file('0644'), publicKey: pub } })), [`key mode 0644 → 0600 on ${KEY}`]);
  assert.equal(descriptions(facts({ key: { state: file('0600', 'root', 'root'), publicKey: pub }, caFile: { state: file('0600'), content: ca.certPem } })), [
    `key owner root → redis on ${KEY}`,
    `key group root → redis on ${KEY}`,
    `CA certificate mode 0600 → 0644 on ${CAF}`,
  ]);
  // Without owner/group args, owners are not judged.
  assert.equal(descriptions(facts({ key: { state: file('0600', 'root', 'root'), publicKey: pub } }), { ...args, owner: undefined, group: undefined }), []);
});

test('nothing there yet: directory, key, certificate and CA file, key content never shown', () => {
  const f = facts({ cert: { state: absent }, key: { state: absent }, caFile: { state: absent }, missingDirs: ['/etc/redis/tls'] });
  const p = cert.plan(args, f);
  assert.equal(p.changes.map((c) => c.description), [
    'create directory /etc/redis/tls',
    `private key missing: ${KEY}`,
    `certificate missing: ${CERT}`,
    `CA certificate missing: ${CAF}`,
  ]);
  assert.equal(p.changes[1].diff, { path: KEY, before: '', after: '(private key: content not shown)\npublic key: new 2048-bit RSA key\n' });
});

test('a replaced key shows only its public fingerprint; no key material in any plan', () => {
  const f = facts({ key: { state: file('0600'), publicKey: pub } });
  const p = cert.plan({ ...args, key_bits: 4096 }, f);
  assert.equal(p.changes.map((c) => c.description), [`private key size 2048-bit → 4096-bit RSA: ${KEY}`, `certificate must match the new private key: ${CERT}`]);
  assert.match(p.changes[0].diff!.before, /^\(private key: content not shown\)\npublic key: sha256:[0-9a-f]{32}\n$/);
  const body = key.reveal().split('\n')[1];
  for (const plan of [p, cert.plan(args, facts({ cert: { state: absent } })), cert.plan(args, facts())]) {
    assert.not.ok(JSON.stringify(plan).includes(body));
  }
});

test('no CA yet: the plan makes it on the controller first, and re-issues what the old one signed', () => {
  const f = facts({ ca: { state: 'absent', dir: '/proj/.rplay/pki' } });
  assert.equal(descriptions(f), [
    'create CA in .rplay/pki (4096-bit RSA key, mode 0600, kept on the controller)',
    `certificate not signed by the CA in .rplay/pki: ${CERT}`,
    `CA certificate differs from the CA in .rplay/pki: ${CAF}`,
  ]);
});

test('signed by another CA, for another key, for another name, for client use only', () => {
  const foreign = issueCertificate(otherCa, pub, { kind: 'server', commonName: 'node1', sans: SANS, days: 365 });
  assert.equal(descriptions(facts({ cert: { state: file('0644'), content: foreign } })), [`certificate not signed by the CA in .rplay/pki: ${CERT}`]);
  const forOtherKey = issueCertificate(ca, publicKeyPem(otherKey), { kind: 'server', commonName: 'node1', sans: SANS, days: 365 });
  assert.equal(descriptions(facts({ cert: { state: file('0644'), content: forOtherKey } })), [`certificate does not match the private key ${KEY}`]);
  const renamed = issueCertificate(ca, pub, { kind: 'client', commonName: 'node9', sans: SANS, days: 365 });
  assert.equal(descriptions(facts({ cert: { state: file('0644'), content: renamed } })), ['common name differs: node9 → node1; usage differs: client → server+client']);
});

test('the operations say what to make on the node and what the CA signs; no key material in them', () => {
  const fresh = facts({ ca: { state: 'absent', dir: '/proj/.rplay/pki' }, cert: { state: absent }, key: { state: absent }, caFile: { state: absent }, missingDirs: ['/etc/redis/tls'] });
  const ops = cert.plan({ ...args, key_bits: 3072, days: 90 }, fresh).changes.map((c) => c.op);
  assert.equal(ops, [
    { kind: 'createCa', caDir: '/proj/.rplay/pki' },
    { kind: 'mkdir', path: '/etc/redis/tls', mode: '0755' },
    { kind: 'newKey', path: KEY, algorithm: 'RSA', bits: 3072, mode: '0600', owner: 'redis', group: 'redis' },
    {
      kind: 'issue', caDir: '/proj/.rplay/pki', caCertSha256: undefined, keyPath: KEY, publicKey: undefined, certPath: CERT,
      certKind: 'server', commonName: 'node1', sans: SANS, days: 90, mode: '0644', owner: 'redis', group: 'redis',
    },
    { kind: 'writeCaFile', caDir: '/proj/.rplay/pki', caCertSha256: undefined, path: CAF, mode: '0644', owner: 'redis', group: 'redis' },
  ]);
  // A CA that exists is named by its certificate's hash; a kept key's gathered public half is what gets signed.
  const renamed = issueCertificate(ca, pub, { kind: 'server', commonName: 'node9', sans: SANS, days: 365 });
  const p = cert.plan(args, facts({ cert: { state: file('0644'), content: renamed }, key: { state: file('0640', 'root'), publicKey: pub } }));
  assert.equal(p.changes.map((c) => [c.description, c.op?.kind]), [
    ['common name differs: node9 → node1', 'issue'],
    [`key mode 0640 → 0600 on ${KEY}`, 'attrs'],
    [`key owner root → redis on ${KEY}`, 'attrs'],
  ]);
  const issue = p.changes[0].op as { caCertSha256: string; publicKey: string };
  assert.is(issue.caCertSha256, createHash('sha256').update(ca.certPem).digest('hex'));
  assert.is(issue.publicKey, pub);
  assert.equal(p.changes.slice(1).map((c) => c.op), [{ kind: 'attrs', path: KEY, mode: '0600' }, { kind: 'attrs', path: KEY, owner: 'redis' }]);
  assert.not.ok(JSON.stringify(p).includes(key.reveal().split('\n')[1]));
  assert.not.ok(JSON.stringify(p).includes(ca.keyPem.reveal().split('\n')[1]));
});

test('a key replaced on the node: its public half no longer matches the certificate, which is re-issued for it', () => {
  const replaced = facts({ key: { state: file('0600'), publicKey: publicKeyPem(otherKey) } });
  assert.equal(descriptions(replaced), [`certificate does not match the private key ${KEY}`]);
  // Only a public key counts: private key text where the public half should be is no key at all.
  assert.equal(descriptions(facts({ key: { state: file('0600'), publicKey: otherKey.reveal() } })), [
    `private key is not a PEM private key: ${KEY}`,
    `certificate must match the new private key: ${CERT}`,
  ]);
});

test('the node has another CA certificate, or the controller CA key is too open', () => {
  assert.equal(descriptions(facts({ caFile: { state: file('0644'), content: otherCa.certPem } })), [`CA certificate differs from the CA in .rplay/pki: ${CAF}`]);
  assert.equal(descriptions(facts({ ca: { state: 'present', dir: '/x', certPem: ca.certPem, keyMode: '0644' } })), ['CA key mode 0644 → 0600 in .rplay/pki']);
});

test('garbage where the certificate or key should be (openssl on the node could not read it as a key)', () => {
  const f = facts({ cert: { state: file('0644'), content: 'hello' }, key: { state: file('0600') } });
  assert.equal(descriptions(f), [`private key is not a PEM private key: ${KEY}`, `certificate is not a PEM certificate: ${CERT}`]);
});

test('a directory where the key should be is an error, not a plan', () => {
  const dir: NodeKey = { state: { type: 'directory', mode: '0755', owner: 'root', group: 'root', uid: 0, gid: 0 } };
  assert.throws(() => cert.plan(args, facts({ key: dir })), (e: Error) => e instanceof ModuleError && e.message === `cert: ${KEY} is a directory, not a private key file`);
});

test('client certificates: clientAuth only, no CA file needed', () => {
  const clientArgs = { ca_dir: '.rplay/pki', kind: 'client' as const, common_name: 'app', cert_path: '/etc/app/client.crt', key_path: '/etc/app/client.key' };
  const c = issueCertificate(ca, pub, { kind: 'client', commonName: 'app', sans: [], days: 365 });
  const f = facts({ cert: { state: file('0644'), content: c }, caFile: undefined });
  assert.equal(descriptions(f, clientArgs), []);
});

test.run();
