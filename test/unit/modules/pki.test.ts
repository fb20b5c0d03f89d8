// The controller-side PKI checked with the tools that will consume it: OpenSSL and Node's TLS.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ensureCa, issueEphemeralClientCert, issueKeyAndCertificate, loadCa, readCa, readCertificate } from '../../../modules/tls/pki.js';

const root = mkdtempSync(join(tmpdir(), 'rplay-pki-'));
test.after(() => rmSync(root, { recursive: true, force: true }));
const caDir = join(root, 'pki');
const mode = (p: string): number => statSync(p).mode & 0o777;

test('ensureCa makes one 4096-bit CA (dir 0700, key 0600, cert 0644), however many ask at once', async () => {
  const all = await Promise.all([ensureCa(caDir), ensureCa(caDir), ensureCa(caDir)]);
  assert.ok(all.every((c) => c.certPem === all[0].certPem));
  assert.is(mode(caDir), 0o700);
  assert.is(mode(join(caDir, 'ca.key')), 0o600);
  assert.is(mode(join(caDir, 'ca.crt')), 0o644);
  const text = execFileSync('openssl', ['x509', '-in', join(caDir, 'ca.crt'), '-noout', '-text'], { encoding: 'utf8' });
  assert.match(text, /Public-Key: \(4096 bit\)/);
  assert.match(text, /CA:TRUE/);
  assert.match(text, /Certificate Sign, CRL Sign/);
  // Next time it is loaded, not made again.
  assert.is((await ensureCa(caDir)).certPem, all[0].certPem);
  assert.is((await readCa(caDir)).state, 'present');
});

test('an incomplete CA directory is an error that says what to do', async () => {
  const half = join(root, 'half');
  mkdirSync(half);
  writeFileSync(join(half, 'ca.crt'), readFileSync(join(caDir, 'ca.crt')));
  try {
    await readCa(half);
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).message, `the CA in ${half} is incomplete: ca.crt without ca.key; restore ca.key, or remove ${half} to make a new CA (every certificate is then re-issued)`);
  }
});

const files = join(root, 'leaf');
mkdirSync(files);
const openssl = (...args: string[]) => spawnSync('openssl', args, { encoding: 'utf8' });

test('OpenSSL verifies a server certificate for TLS server and client use, with its SANs', async () => {
  const ca = await loadCa(caDir);
  const leaf = await issueKeyAndCertificate(ca, { kind: 'server', commonName: 'node1', sans: ['node1', '10.0.1.11', '127.0.0.1'], days: 365 }, 2048);
  writeFileSync(join(files, 'server.crt'), leaf.certPem);
  for (const purpose of ['sslserver', 'sslclient']) {
    const r = openssl('verify', '-CAfile', join(caDir, 'ca.crt'), '-purpose', purpose, join(files, 'server.crt'));
    assert.is(r.stdout.trim(), `${join(files, 'server.crt')}: OK`, r.stderr);
  }
  const san = openssl('x509', '-in', join(files, 'server.crt'), '-noout', '-ext', 'subjectAltName');
  assert.match(san.stdout, /DNS:node1, IP Address:10\.0\.1\.11, IP Address:127\.0\.0\.1/);
  assert.equal(readCertificate(leaf.certPem)?.kinds, ['server', 'client']);
});

test('a client certificate is refused for server use', async () => {
  const ca = await loadCa(caDir);
  const leaf = await issueKeyAndCertificate(ca, { kind: 'client', commonName: 'app', sans: [], days: 30 }, 2048);
  writeFileSync(join(files, 'client.crt'), leaf.certPem);
  assert.is(openssl('verify', '-CAfile', join(caDir, 'ca.crt'), '-purpose', 'sslclient', join(files, 'client.crt')).status, 0);
  assert.is.not(openssl('verify', '-CAfile', join(caDir, 'ca.crt'), '-purpose', 'sslserver', join(files, 'client.crt')).status, 0);
});

test('Node TLS: hostname and IP checks pass on the SANs; mutual TLS needs a client certificate from the CA', async () => {
  const ca = await loadCa(caDir);
  const server = await issueKeyAndCertificate(ca, { kind: 'server', commonName: 'node1', sans: ['node1', '127.0.0.1'], days: 365 }, 2048);
  const srv = createServer({ cert: server.certPem, key: server.keyPem.reveal(), ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (s) => s.end('hello\n'));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  const talk = (opts: Record<string, unknown>): Promise<string> =>
    new Promise((resolve) => {
      const s: TLSSocket = connect({ host: '127.0.0.1', port, ca: ca.certPem, ...opts });
      let data = '';
      s.on('data', (d) => (data += d));
      s.on('end', () => resolve(data));
      s.on('error', (e) => resolve(`error: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    });
  try {
    const client = await issueEphemeralClientCert(caDir, 'rplay-admin');
    assert.is(await talk({ cert: client.certPem, key: client.keyPem.reveal() }), 'hello\n');
    assert.is(await talk({ cert: client.certPem, key: client.keyPem.reveal(), servername: 'node1' }), 'hello\n');
    assert.match(await talk({ cert: client.certPem, key: client.keyPem.reveal(), servername: 'node2' }), /ERR_TLS_CERT_ALTNAME_INVALID/);
    assert.not.ok((await talk({})).startsWith('hello'));
  } finally {
    srv.close();
  }
});

test.run();
