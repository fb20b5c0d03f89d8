// What Redis is running is state, on a converged three-host lab cluster (playbooks/redis.yml, as a
// user runs it): a setting changed live by hand is reported by --check (exit 3, the setting with its
// live and wanted value, secrets masked) and put back live by a run (same pid); Redis refuses to
// change live exactly the settings rplay restarts for; a node restarted on a foreign CA's certificate
// serves the right one after one run, same pid; a master killed and restarted (its replica took
// over) is handed back by the next run, and then the cluster survives losing any one host (the one
// that held two masters first), each time handed back once the host is up again.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Redis } from 'ioredis';
import { RESTART_ONLY, parseConfig } from '../../modules/redis-config.js';
import type { Connection } from '../../runner/connection/connection.js';
import { openRedis, type RedisLogin } from '../../modules/redis/open-redis.js';
import { startLab, type Lab, type LabHost } from '../lab-fixture.js';
import { redisDeploy, type RedisDeploy } from '../support/redis-deploy.js';
import { type JsonRun } from '../support/rplay-cli.js';

const test = suite('live Redis state on three lab hosts');
const sh = promisify(execFile);
let lab: Lab;
let run: RedisDeploy;
let secrets: Record<string, string>;
const root = (host: string): string => join(lab.dir, 'hosts', host, 'root');
const host = (name: string): LabHost => lab.hosts.find((h) => h.name === name) as LabHost;
const admin = (): RedisLogin => ({ user: 'admin_user', password: secrets.vault_redis_admin_password as string, tls: { ca: run.pki('ca.crt'), cert: run.pki('rplay-admin.crt'), key: run.pki('rplay-admin.key') } });

/** A task's result on a host in a run. */
function result(r: JsonRun, task: string, on: string): { status: string; msg?: string } | undefined {
  return r.plays.flatMap((p) => p.tasks).find((t) => t.name === task && t.results[on] !== undefined)?.results[on];
}

/** Runs `fn` with an admin client on one instance, through that host's own SSH connection. */
async function onInstance<T>(name: string, port: number, fn: (c: Redis) => Promise<T>): Promise<T> {
  const conn = await run.connect(name);
  try {
    const c = await openRedis(conn, { ...admin(), host: host(name).address, port });
    try {
      return await fn(c);
    } finally {
      c.disconnect();
    }
  } finally {
    await conn.close();
  }
}

async function asRoot(name: string, script: string, args: string[] = []): Promise<string> {
  const conn: Connection = await run.connect(name);
  try {
    const r = await conn.sh(script, args, { become: true });
    assert.is(r.rc, 0, `${script}: ${r.stderr}`);
    return r.stdout;
  } finally {
    await conn.close();
  }
}

const pidOf = async (name: string, port: number): Promise<string> => (await asRoot(name, `cat /run/rplay-svc/redis-${port}.pid`)).trim();
const unit = (name: string, action: string, port: number): Promise<string> => asRoot(name, 'systemctl "$1" -- "$2.service"', [action, `redis-${port}`]);

/** The SHA-256 fingerprint `openssl s_client` sees at address:port, presenting rplay's client certificate. */
async function servedFingerprint(address: string, port: number): Promise<string> {
  const dir = join(lab.dir, 'pki');
  const { stdout } = await sh('sh', [
    '-c',
    'openssl s_client -connect "$1" -cert "$2/rplay-admin.crt" -key "$2/rplay-admin.key" </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256',
    'sh',
    `${address}:${port}`,
    dir,
  ]);
  return stdout.trim();
}

const fileFingerprint = async (path: string): Promise<string> => (await sh('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', path])).stdout.trim();

async function until(what: string, ms: number, ok: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok().catch(() => false))) {
    if (Date.now() > end) assert.unreachable(`${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** "role address:port" of every instance, as node-1:6379 sees the cluster (CLUSTER NODES). */
async function roles(via = 'node-1', port = 6379): Promise<string[]> {
  const nodes = String(await onInstance(via, port, (c) => c.call('CLUSTER', 'NODES')));
  return nodes
    .trim()
    .split('\n')
    .map((l) => l.split(' '))
    .map((f) => `${/master/.test(f[2] as string) ? 'master' : 'replica'} ${(f[1] as string).split('@')[0]}`)
    .sort();
}

async function converge(): Promise<void> {
  const r = await run.deploy('--detailed-exitcode');
  assert.ok(r.code === 0 || r.code === 3, r.stdout.slice(-3000) + r.stderr);
  const again = await run.deploy('--detailed-exitcode');
  assert.is(again.code, 0, JSON.stringify(run.changedOn(again.json)));
}

test.before(async () => {
  lab = await startLab({ hosts: 3, prefix: '127.0.27' });
  run = redisDeploy(lab);
  secrets = run.secrets();
  const first = await run.deploy();
  assert.is(first.code, 0, first.stdout.slice(-3000) + first.stderr);
});
test.after(async () => {
  await lab?.down();
});

test('CONFIG SET by hand: --check exits 3 naming the setting (live, wanted; masterauth masked); a run puts it back live, same pid; then changed=0', async () => {
  const handSecret = 'hand-set-masterauth-0123456789';
  await onInstance('node-2', 6379, (c) => c.call('CONFIG', 'SET', 'appendonly', 'no'));
  await onInstance('node-3', 6380, (c) => c.call('CONFIG', 'SET', 'masterauth', handSecret));
  const pids = { n2: await pidOf('node-2', 6379), n3: await pidOf('node-3', 6380) };

  const check = await run.deploy('--check', '--detailed-exitcode');
  assert.is(check.code, 3, check.stdout.slice(-3000) + check.stderr);
  assert.equal(run.changedOn(check.json), { 'node-2': ['Live settings as configured'], 'node-3': ['Live settings as configured'] });
  assert.match(result(check.json, 'Live settings as configured', 'node-2')?.msg ?? '', /appendonly: live no, wanted yes/);
  assert.match(result(check.json, 'Live settings as configured', 'node-3')?.msg ?? '', /masterauth: live value differs from the wanted one \(secret, not shown\)/);
  for (const secret of [handSecret, ...Object.values(secrets)]) assert.not.ok(check.stdout.includes(secret) || check.stderr.includes(secret), 'a secret printed');
  // Check mode touched nothing.
  assert.equal(await onInstance('node-2', 6379, (c) => c.call('CONFIG', 'GET', 'appendonly')), ['appendonly', 'no']);

  const fix = await run.deploy('--detailed-exitcode');
  assert.is(fix.code, 3, fix.stdout.slice(-3000));
  assert.equal(run.changedOn(fix.json), { 'node-2': ['Live settings as configured'], 'node-3': ['Live settings as configured'] });
  for (const secret of [handSecret, ...Object.values(secrets)]) assert.not.ok(fix.stdout.includes(secret), 'a secret printed');
  assert.equal(await onInstance('node-2', 6379, (c) => c.call('CONFIG', 'GET', 'appendonly')), ['appendonly', 'yes']);
  assert.equal(await onInstance('node-3', 6380, (c) => c.call('CONFIG', 'GET', 'masterauth')), ['masterauth', secrets.vault_redis_replication_password]);
  assert.equal({ n2: await pidOf('node-2', 6379), n3: await pidOf('node-3', 6380) }, pids, 'fixed live, not restarted');
  // The file on disk is the template's, not rewritten by Redis.
  assert.not.match(readFileSync(join(root('node-2'), 'etc/redis/redis-6379.conf'), 'utf8'), /CONFIG REWRITE|Generated by/);

  const again = await run.deploy('--detailed-exitcode');
  assert.is(again.code, 0, JSON.stringify(run.changedOn(again.json)));
});

test('Redis refuses to change live exactly the settings of the config that rplay restarts for', async () => {
  const conf = readFileSync(join(root('node-1'), 'etc/redis/redis-6380.conf'), 'utf8');
  const names = parseConfig(conf, 'redis-6380.conf').map((s) => s.name);
  const refused = await onInstance('node-1', 6380, async (c) => {
    const out: string[] = [];
    for (const name of names) {
      const [, value] = (await c.call('CONFIG', 'GET', name)) as [string, string];
      // Setting the value it has: accepted unless Redis cannot change the setting live at all.
      const ok = await c.call('CONFIG', 'SET', name, value).then(
        () => true,
        (e: Error) => (/immutable|protected/.test(e.message) ? false : Promise.reject(e)),
      );
      if (!ok) out.push(name);
    }
    return out;
  });
  assert.equal(refused, names.filter((n) => RESTART_ONLY.has(n)));
  assert.ok(refused.length >= 5, refused.join(' '));
});

test("a node restarted on a foreign CA's certificate serves the right one after one run, same pid; the next run is changed=0", async () => {
  const work = mkdtempSync(join(tmpdir(), 'rplay-foreign-ca-'));
  try {
    const h1 = host('node-1');
    const o = (args: string[]) => sh('openssl', args, { cwd: work });
    await o(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=foreign CA']);
    await o(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'n.key', '-out', 'n.csr', '-subj', '/CN=node-1']);
    writeFileSync(join(work, 'n.ext'), `subjectAltName=DNS:node-1,IP:${h1.address},IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n`);
    await o(['x509', '-req', '-in', 'n.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'n.crt', '-days', '2', '-extfile', 'n.ext']);
    const conn = await run.connect('node-1');
    try {
      await conn.writeFile('/etc/redis/tls/redis.crt', readFileSync(join(work, 'n.crt')), { mode: '0644', owner: 'redis', group: 'redis', become: true });
      await conn.writeFile('/etc/redis/tls/redis.key', readFileSync(join(work, 'n.key')), { mode: '0600', owner: 'redis', group: 'redis', become: true });
    } finally {
      await conn.close();
    }
    for (const port of [6379, 6380]) await unit('node-1', 'restart', port);
    const foreign = await fileFingerprint(join(work, 'n.crt'));
    await until('node-1:6379 serving the foreign certificate', 5000, async () => (await servedFingerprint(h1.address, 6379)) === foreign);
    const pids = [await pidOf('node-1', 6379), await pidOf('node-1', 6380)];

    const fix = await run.deploy();
    assert.is(fix.code, 0, fix.stdout.slice(-4000) + fix.stderr);
    assert.is(result(fix.json, 'Node certificate signed by the CA', 'node-1')?.status, 'changed');
    assert.is(result(fix.json, 'Running instances serve the node certificate', 'node-1')?.status, 'changed');
    const onDisk = await fileFingerprint(join(root('node-1'), 'etc/redis/tls/redis.crt'));
    assert.is.not(onDisk, foreign);
    for (const port of [6379, 6380]) assert.is(await servedFingerprint(h1.address, port), onDisk, `node-1:${port} serves the certificate on disk`);
    assert.equal([await pidOf('node-1', 6379), await pidOf('node-1', 6380)], pids, 'loaded live, not restarted');

    const again = await run.deploy('--detailed-exitcode');
    assert.is(again.code, 0, JSON.stringify(run.changedOn(again.json)));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('a master killed and restarted (its replica took over) is handed back by the next run; then losing any one host leaves cluster_state:ok on the others', async () => {
  const [a1, a2, a3] = lab.hosts.map((h) => h.address) as [string, string, string];
  const layout = [`master ${a1}:6379`, `master ${a2}:6379`, `master ${a3}:6379`, `replica ${a1}:6380`, `replica ${a2}:6380`, `replica ${a3}:6380`].sort();
  assert.equal(await roles(), layout);
  await asRoot('node-1', 'kill -9 "$(cat /run/rplay-svc/redis-6379.pid)"');
  // node-1's master's replica is on node-2 (port 6380): it takes over after cluster-node-timeout.
  await until('node-2:6380 taking over', 30_000, async () => (await roles('node-2', 6379)).includes(`master ${a2}:6380`));
  // A write the promoted master acknowledged must survive the hand-back.
  const key = await onInstance('node-2', 6380, async (c) => {
    for (let n = 0; ; n++) if (Number(await c.call('CLUSTER', 'KEYSLOT', `k${n}`)) <= 5460) return `k${n}`;
  });
  await onInstance('node-2', 6380, (c) => c.call('SET', key, 'written-while-node-2-was-master'));
  await unit('node-1', 'start', 6379);
  await until('node-1:6379 back as a replica', 30_000, async () => (await roles('node-2', 6379)).includes(`replica ${a1}:6379`));

  const check = await run.deploy('--check', '--detailed-exitcode');
  assert.is(check.code, 3, check.stdout.slice(-3000) + check.stderr);
  const would = result(check.json, 'Masters where the layout puts them', 'node-1');
  assert.is(would?.status, 'changed');
  assert.match(would?.msg ?? '', new RegExp(`CLUSTER FAILOVER on ${a1.replace(/\./g, '\\.')}:6379 \\(node-1\\): it takes over slots 0-5460 from ${a2.replace(/\./g, '\\.')}:6380 \\(node-2\\)`));

  const fix = await run.deploy('--detailed-exitcode');
  assert.is(fix.code, 3, fix.stdout.slice(-3000) + fix.stderr);
  const handedBack = result(fix.json, 'Masters where the layout puts them', 'node-1');
  assert.is(handedBack?.status, 'changed');
  assert.match(handedBack?.msg ?? '', /127\.0\.27\.1:6379 \(node-1\) took over from 127\.0\.27\.2:6380 \(node-2\) \(caught up to replication offset \d+ first\)/, handedBack?.msg);
  assert.is(result(fix.json, 'The cluster survives the loss of any one host', 'node-1')?.status, 'ok');
  assert.equal(await roles(), layout);
  assert.is(await onInstance('node-1', 6379, (c) => c.call('GET', key)), 'written-while-node-2-was-master');
  const again = await run.deploy('--detailed-exitcode');
  assert.is(again.code, 0, JSON.stringify(run.changedOn(again.json)));

  // node-2 first: before the hand-back it held two of the three masters.
  for (const down of ['node-2', 'node-1', 'node-3']) {
    const others = lab.hosts.map((h) => h.name).filter((n) => n !== down);
    await lab.stop(down);
    try {
      await until(`cluster_state:ok on ${others.join(' and ')} without ${down}`, 30_000, async () => {
        for (const o of others) if (!/cluster_state:ok/.test(await run.clusterInfo(o))) return false;
        return true;
      });
    } finally {
      await lab.start(down);
    }
    await converge();
    assert.equal(await roles(others[0], 6379), layout, `the layout again after ${down} came back`);
  }
});

test.run();
