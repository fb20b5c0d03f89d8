// The cert module on a real lab host over SSH: converge, then nothing to do; the files pass OpenSSL
// on the host, Redis serves TLS with them, Node checks the SANs through the SSH tunnel; drift
// (a loosened key mode, a deleted certificate, a new SAN) is reported exactly and put back. Every
// byte the host sends the controller is recorded: no private key made on the node ever arrives.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cert } from '../../modules/cert.js';
import type { Connection, ExecResult } from '../../runner/connection/connection.js';
import { localConnection } from '../../runner/connection/local.js';
import { connectSsh } from '../../runner/connection/ssh.js';
import { withBecome } from '../../runner/connection/become.js';
import { inventoryOf } from '../support/inventory-view.js';
import type { ModuleContext, Plan } from '../../runner/types.js';
import { startLab, type Lab } from '../lab-fixture.js';
import { apply, changedThenNot, checkPlan, overTheWire } from '../support/converge.js';
import type { CertOp } from '../../modules/tls/cert-plan.js';
import { ensureCa } from '../../modules/tls/pki.js';

const test = suite('cert on a lab host');
let lab: Lab;
/** The module's connection: every command's output is recorded on its way to the controller. */
let conn: Connection;
let raw: Connection;
const received: string[] = [];
let address: string;
const projectDir = mkdtempSync(join(tmpdir(), 'rplay-cert-project-'));
const TLS = '/etc/redis/tls';
type Args = Parameters<typeof cert.plan>[0];
const caCertHash = (): string => createHash('sha256').update(readFileSync(join(projectDir, '.rplay/pki/ca.crt'))).digest('hex');
let firstCaHash = '';

const serverArgs = (): Args => ({
  ca_dir: '.rplay/pki',
  common_name: 'node-1',
  sans: ['node-1', address, '127.0.0.1'],
  cert_path: `${TLS}/redis.crt`,
  key_path: `${TLS}/redis.key`,
  ca_path: `${TLS}/ca.crt`,
  owner: 'nobody',
  group: 'nogroup',
});

function context(c: Connection, become: boolean): ModuleContext {
  return { host: c.host, conn: withBecome(c, { become, becomeUser: 'root' }), vars: {}, inventory: inventoryOf({}), projectDir, evaluate: () => undefined };
}

/** What --check shows: gather and plan only. */
function check(args: Args, ctx = context(conn, true)): Promise<Plan> {
  return checkPlan(cert, ctx, args);
}

/** A run as the engine does it (the operations encoded and decoded on the way); the plan is returned. */
async function converge(args: Args, ctx = context(conn, true)): Promise<Plan> {
  return (await apply(cert, ctx, args)).planned;
}

function recording(c: Connection): Connection {
  const keep = (r: ExecResult): ExecResult => {
    received.push(r.stdout, r.stderr);
    return r;
  };
  return {
    host: c.host,
    run: async (argv, opts) => keep(await c.run(argv, opts)),
    sh: async (script, args, opts) => keep(await c.sh(script, args, opts)),
    writeFile: (path, data, opts) => c.writeFile(path, data, opts),
    readFile: async (path, opts) => {
      const data = await c.readFile(path, opts);
      received.push(data.toString('latin1'));
      return data;
    },
    forwardOut: (host, port) => c.forwardOut(host, port),
    close: () => c.close(),
  };
}

/** The test's own look at the host, not through the module's recorded connection. */
async function onHost(script: string): Promise<string> {
  const r = await raw.sh(script, [], { become: true });
  assert.is(r.rc, 0, `${script}\n${r.stderr}`);
  return r.stdout;
}

test.before(async () => {
  lab = await startLab({ hosts: 1, prefix: '127.0.4' });
  address = lab.hosts[0].address;
  raw = await connectSsh({ host: 'node-1', address, port: 22, user: 'ubuntu', privateKeyFile: lab.keyFile, knownHostsFile: lab.knownHostsFile });
  conn = recording(raw);
});
test.after(async () => {
  await raw?.close();
  await lab?.down();
  rmSync(projectDir, { recursive: true, force: true });
});

test('check mode on a fresh host and controller: everything to do, nothing written anywhere', async () => {
  const p = await check(serverArgs());
  assert.equal(p.changes.map((c) => c.description), [
    'create CA in .rplay/pki (4096-bit RSA key, mode 0600, kept on the controller)',
    `create directory ${TLS}`,
    `private key missing: ${TLS}/redis.key`,
    `certificate missing: ${TLS}/redis.crt`,
    `CA certificate missing: ${TLS}/ca.crt`,
  ]);
  assert.not.ok(existsSync(join(projectDir, '.rplay')));
  assert.is(await onHost(`[ -e ${TLS} ] && echo exists || echo absent`), 'absent\n');
});

test('a run makes the CA and issues; the next run has nothing to do', async () => {
  const t0 = Date.now();
  // Planned, the operations serialised and deserialised, exactly those applied; a fresh plan is empty.
  const first = (await changedThenNot(cert, context(conn, true), serverArgs())).planned;
  const firstMs = Date.now() - t0;
  assert.equal(first.changes.map((c) => c.op?.kind), ['createCa', 'mkdir', 'newKey', 'issue', 'writeCaFile']);
  const t1 = Date.now();
  const second = await check(serverArgs());
  const secondMs = Date.now() - t1;
  assert.equal(second.changes, []);
  assert.match(second.msg ?? '', /^node-1: valid until \d{4}-\d\d-\d\d, signed by the CA in \.rplay\/pki$/);
  // A converged check is one round trip plus local parsing.
  assert.ok(secondMs < 500, `converged check took ${secondMs} ms`);
  assert.ok(firstMs < 15_000, `first run took ${firstMs} ms`);

  const pki = join(projectDir, '.rplay/pki');
  firstCaHash = caCertHash();
  assert.is(statSync(join(pki, 'ca.key')).mode & 0o777, 0o600);
  assert.is(statSync(join(pki, 'ca.crt')).mode & 0o777, 0o644);
  assert.is(await onHost(`stat -c '%a %U %G %n' ${TLS}/redis.key ${TLS}/redis.crt ${TLS}/ca.crt`), [
    `600 nobody nogroup ${TLS}/redis.key`,
    `644 nobody nogroup ${TLS}/redis.crt`,
    `644 nobody nogroup ${TLS}/ca.crt`,
    '',
  ].join('\n'));
});

test('OpenSSL on the host verifies the certificate against the CA and shows the SANs', async () => {
  assert.is(await onHost(`openssl verify -CAfile ${TLS}/ca.crt ${TLS}/redis.crt`), `${TLS}/redis.crt: OK\n`);
  const san = await onHost(`openssl x509 -in ${TLS}/redis.crt -noout -ext subjectAltName`);
  assert.match(san, new RegExp(`DNS:node-1, IP Address:${address.replace(/\./g, '\\.')}, IP Address:127\\.0\\.0\\.1`));
  // The CA's private key never reached the host.
  const caKeyLine = readFileSync(join(projectDir, '.rplay/pki/ca.key'), 'utf8').split('\n')[1];
  assert.is(await onHost(`grep -rlF -- '${caKeyLine}' /etc /home /root /tmp /var 2>/dev/null || echo none`), 'none\n');
});

test('Redis serves TLS with these files; a Node client checks the SANs through the SSH tunnel', async () => {
  // A client certificate for the controller, written locally (as delegate_to: localhost would).
  const local = localConnection();
  const clientDir = join(projectDir, 'client');
  const clientArgs: Args = {
    ca_dir: '.rplay/pki',
    kind: 'client',
    common_name: 'rplay-admin',
    cert_path: join(clientDir, 'admin.crt'),
    key_path: join(clientDir, 'admin.key'),
    ca_path: join(clientDir, 'ca.crt'),
  };
  try {
    assert.ok((await converge(clientArgs, context(local, false))).changes.length > 0);
    assert.equal((await check(clientArgs, context(local, false))).changes, []);
  } finally {
    await local.close();
  }
  assert.is(statSync(join(clientDir, 'admin.key')).mode & 0o777, 0o600);

  await onHost(`redis-server --port 0 --tls-port 6390 --bind ${address} --tls-cert-file ${TLS}/redis.crt --tls-key-file ${TLS}/redis.key \
    --tls-ca-cert-file ${TLS}/ca.crt --tls-auth-clients yes --daemonize yes --pidfile /run/cert-test-redis.pid --save '' --dir /tmp --logfile /tmp/cert-test-redis.log`);
  try {
    const answer = await new Promise<string>((resolve, reject) => {
      const ping = async (): Promise<void> => {
        const stream = await conn.forwardOut(address, 6390);
        const s = tlsConnect({
          socket: stream,
          servername: 'node-1',
          ca: readFileSync(join(clientDir, 'ca.crt')),
          cert: readFileSync(join(clientDir, 'admin.crt')),
          key: readFileSync(join(clientDir, 'admin.key')),
        });
        let data = '';
        s.on('secureConnect', () => s.write('PING\r\n'));
        s.on('data', (d) => {
          data += d;
          if (data.includes('\r\n')) {
            s.end();
            resolve(data);
          }
        });
        s.on('error', reject);
      };
      // redis-server daemonizes before it listens: retry briefly.
      let tries = 0;
      const attempt = (): void => void ping().catch((e) => (++tries < 50 ? setTimeout(attempt, 50) : reject(e)));
      attempt();
    });
    assert.is(answer, '+PONG\r\n');
  } finally {
    await onHost('kill "$(cat /run/cert-test-redis.pid)"');
  }
});

const keyHash = async (): Promise<string> => (await onHost(`sha256sum < ${TLS}/redis.key`)).trim();

/** The node key's file, read on the host by the test itself. */
async function keyFile(path = `${TLS}/redis.key`): Promise<string> {
  const text = await onHost(`cat ${path}`);
  assert.match(text, /^-----BEGIN PRIVATE KEY-----\n/);
  return text;
}

/** None of the key's bytes reached the controller: no PEM line of it, nor the file as base64. */
function assertNeverReceived(key: string): void {
  const all = received.join('\n');
  assert.not.ok(all.includes('PRIVATE KEY'), 'a private key header reached the controller');
  for (const l of key.split('\n').slice(1, -2)) assert.not.ok(all.includes(l), 'a line of the node key reached the controller');
  assert.not.ok(all.includes(Buffer.from(key).toString('base64').slice(0, 200)), 'the key file reached the controller as base64');
}

test('the key made on the node never reached the controller; it is the certificate\'s key', async () => {
  assert.ok(received.length > 0);
  assertNeverReceived(await keyFile());
  assert.is(await onHost(`openssl pkey -in ${TLS}/redis.key -pubout | sha256sum`), await onHost(`openssl x509 -in ${TLS}/redis.crt -noout -pubkey | sha256sum`));
  // The staging folder is gone.
  assert.is(await onHost(`ls -A ${TLS}`), 'ca.crt\nredis.crt\nredis.key\n');
});

test('a key replaced by hand is found on the host and the certificate re-issued for it; never read by the controller', async () => {
  await onHost(`openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out ${TLS}/redis.key 2>/dev/null && chown nobody:nogroup ${TLS}/redis.key && chmod 600 ${TLS}/redis.key`);
  const planted = await keyHash();
  received.length = 0;
  const p = await check(serverArgs());
  assert.equal(p.changes.map((c) => c.description), [`certificate does not match the private key ${TLS}/redis.key`]);
  await converge(serverArgs());
  assert.is(await keyHash(), planted, 'a valid key is kept');
  assert.is(await onHost(`openssl pkey -in ${TLS}/redis.key -pubout | sha256sum`), await onHost(`openssl x509 -in ${TLS}/redis.crt -noout -pubkey | sha256sum`));
  assert.equal((await check(serverArgs())).changes, []);
  assertNeverReceived(await keyFile());

  // Garbage or a key of the wrong size: a new key, made on the node.
  await onHost(`echo 'not a key' > ${TLS}/redis.key`);
  received.length = 0;
  assert.equal((await check(serverArgs())).changes.map((c) => c.description), [`private key is not a PEM private key: ${TLS}/redis.key`, `certificate must match the new private key: ${TLS}/redis.crt`]);
  await converge(serverArgs());
  assert.is(await onHost(`stat -c '%a %U %G' ${TLS}/redis.key`), '600 nobody nogroup\n');
  assert.equal((await check(serverArgs())).changes, []);
  assertNeverReceived(await keyFile());
  assert.is(await onHost(`openssl verify -CAfile ${TLS}/ca.crt ${TLS}/redis.crt`), `${TLS}/redis.crt: OK\n`);
});

test('drift: chmod 644 on the key is one change, fixed without a new key', async () => {
  const before = await keyHash();
  await onHost(`chmod 644 ${TLS}/redis.key`);
  assert.equal((await check(serverArgs())).changes.map((c) => c.description), [`key mode 0644 → 0600 on ${TLS}/redis.key`]);
  await converge(serverArgs());
  assert.is(await onHost(`stat -c %a ${TLS}/redis.key`), '600\n');
  assert.is(await keyHash(), before);
  assert.equal((await check(serverArgs())).changes, []);
});

test('drift: a deleted certificate is re-issued for the same key', async () => {
  const before = await keyHash();
  await onHost(`rm ${TLS}/redis.crt`);
  assert.equal((await check(serverArgs())).changes.map((c) => c.description), [`certificate missing: ${TLS}/redis.crt`]);
  await converge(serverArgs());
  assert.is(await keyHash(), before);
  assert.is(await onHost(`openssl verify -CAfile ${TLS}/ca.crt ${TLS}/redis.crt`), `${TLS}/redis.crt: OK\n`);
  assert.equal((await check(serverArgs())).changes, []);
});

test('a CA replaced on the controller between plan and apply: refused, nothing written to the node', async () => {
  const before = await onHost(`sha256sum ${TLS}/redis.crt`);
  await onHost(`rm ${TLS}/redis.crt`);
  const planned = await check(serverArgs());
  const pki = join(projectDir, '.rplay/pki');
  const keep = { key: readFileSync(join(pki, 'ca.key')), crt: readFileSync(join(pki, 'ca.crt')) };
  const other = await ensureCa(join(projectDir, 'other-ca'));
  writeFileSync(join(pki, 'ca.crt'), other.certPem);
  writeFileSync(join(pki, 'ca.key'), other.keyPem.reveal(), { mode: 0o600 });
  try {
    await cert.apply!(context(conn, true), overTheWire(planned.changes.map((c) => c.op!)) as CertOp[]);
    assert.unreachable('apply with a replaced CA');
  } catch (e) {
    assert.is((e as Error).message, `cert: the CA in ${pki} was replaced after this plan was made; plan again`);
  } finally {
    writeFileSync(join(pki, 'ca.crt'), keep.crt);
    writeFileSync(join(pki, 'ca.key'), keep.key, { mode: 0o600 });
  }
  assert.is(await onHost(`[ -e ${TLS}/redis.crt ] && echo exists || echo absent`), 'absent\n');
  await converge(serverArgs());
  assert.is(await onHost(`openssl verify -CAfile ${TLS}/ca.crt ${TLS}/redis.crt`), `${TLS}/redis.crt: OK\n`);
  assert.not.equal(await onHost(`sha256sum ${TLS}/redis.crt`), before, 're-issued');
});

test('a new SAN re-issues; renew_before beyond the lifetime asks for renewal', async () => {
  const args = { ...serverArgs(), sans: [...serverArgs().sans!, 'redis.internal'] };
  assert.equal((await check(args)).changes.map((c) => c.description), ['SANs differ: +redis.internal']);
  await converge(args);
  assert.match(await onHost(`openssl x509 -in ${TLS}/redis.crt -noout -ext subjectAltName`), /DNS:redis\.internal/);
  assert.equal((await check(args)).changes, []);
  assert.equal((await check({ ...args, renew_before: 400 })).changes.map((c) => c.description), [`expires in 365 days (renew_before 400): ${TLS}/redis.crt`]);
});

test('without become, a folder or key the login user cannot read is a clear error, not "missing"', async () => {
  const refused = async (args: Args): Promise<string> => {
    try {
      await check(args, context(conn, false));
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };
  assert.is(await refused(serverArgs()), 'cert: cannot look into /etc/redis on node-1 as the login user; run the task with become');
  const open = { ...serverArgs(), cert_path: '/srv/pub/a.crt', key_path: '/srv/pub/a.key', ca_path: '/srv/pub/ca.crt' };
  await converge(open);
  assert.is(await refused(open), 'cert: cannot read /srv/pub/a.key on node-1 as the login user (mode 0600, owner nobody); run the task with become');
});

test('the CA was made once: every later run used the same one', () => {
  assert.is(caCertHash(), firstCaHash);
});

test.run();
