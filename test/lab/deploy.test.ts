// The runbook as playbooks, end to end on three fresh lab hosts: --check touches nothing; deploy.yml
// builds the TLS + ACL cluster with replicas from nothing and verifies it; a re-run is changed=0;
// redis-cli --cluster check agrees; an ioredis Cluster client as app_user works within its ACL;
// no secret is printed; each drift the issue names is reported exactly and put back; losing a whole
// host keeps the cluster serving, and it rejoins.
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Connection } from '../../runner/connection/connection.js';
import { openCluster, type RedisLogin } from '../../modules/redis/open-redis.js';
import { startLab, type Lab } from '../lab-fixture.js';
import { snapshot } from '../support/host-snapshot.js';
import { onHost } from '../support/on-host.js';
import { redisDeploy, type RedisDeploy } from '../support/redis-deploy.js';
import { rplay, tasksWith, type JsonRun } from '../support/rplay-cli.js';

const test = suite('deploy.yml on three lab hosts');
let lab: Lab;
let secrets: Record<string, string>;
let run: RedisDeploy;
const deploy = (...extra: string[]) => run.deploy(...extra);
const changedOn = (r: JsonRun): Record<string, string[]> => run.changedOn(r);
const clusterInfo = (host: string, port?: number): Promise<string> => run.clusterInfo(host, port);
const connect = (host: string): Promise<Connection> => run.connect(host);
const env = (): Record<string, string> => run.env();
const root = (host: string): string => join(lab.dir, 'hosts', host, 'root');

async function appClient(via: Connection): Promise<ReturnType<typeof openCluster>> {
  const login: RedisLogin = { user: 'app_user', password: secrets.vault_redis_app_password!, tls: { ca: run.pki('ca.crt'), cert: run.pki('rplay-admin.crt'), key: run.pki('rplay-admin.key') } };
  const c = openCluster(via, lab.hosts.map((h) => ({ host: h.address, port: 6379 })), login, { enableReadyCheck: false });
  c.on('error', () => {});
  return c;
}

test.before(async () => {
  lab = await startLab({ hosts: 3, prefix: '127.0.13' });
  run = redisDeploy(lab);
  secrets = run.secrets();
});
test.after(async () => {
  await lab?.down();
});

test('--check on fresh hosts lists the work and changes nothing', async () => {
  const before = lab.hosts.map((h) => snapshot(root(h.name)));
  const r = await deploy('--check');
  assert.is(r.code, 0, r.stdout.slice(-3000) + r.stderr);
  assert.ok(tasksWith(r.json, 'node-1', 'changed').includes('Instance configs'));
  assert.equal(lab.hosts.map((h) => snapshot(root(h.name))), before);
});

test('deploy builds and verifies the cluster from nothing, printing no secret; the re-run is changed=0', async () => {
  const first = await rplay(['playbooks/redis.yml', '-i', lab.inventoryPath, '-vv', '--diff', '--json'], { env: env() });
  assert.is(first.code, 0, first.stdout.slice(-4000) + first.stderr);
  for (const [name, value] of Object.entries(secrets)) {
    assert.not.ok(first.stdout.includes(value) || first.stderr.includes(value), `${name} printed`);
  }
  const json = JSON.parse(first.stdout) as JsonRun;
  assert.equal(tasksWith(json, 'node-1', 'failed'), []);
  const summary = json.plays.at(-1)!.tasks.find((t) => t.name === 'Cluster summary')!.results['node-1']!.msg!;
  assert.is(summary.split('\n').length, 6);
  assert.match(summary, /master +slots 0-5460/);

  const second = await deploy('-vv', '--diff');
  assert.is(second.code, 0);
  assert.equal(changedOn(second.json), {});
  for (const value of Object.values(secrets)) assert.not.ok(second.stdout.includes(value));
});

test('the cluster is whole: redis-cli --cluster check, and an app_user cluster client within its ACL', async () => {
  const h1 = lab.hosts[0]!.address;
  const check = await onHost(lab, 'node-1', `REDISCLI_AUTH="$1" redis-cli --tls --cacert /etc/redis/tls/ca.crt --cert /etc/redis/tls/redis.crt --key /etc/redis/tls/redis.key --user admin_user --cluster check ${h1}:6379`.replace('"$1"', `'${secrets.vault_redis_admin_password}'`));
  assert.is(check.rc, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /\[OK\] All nodes agree about slots configuration\./);
  assert.match(check.stdout, /\[OK\] All 16384 slots covered\./);

  const via = await connect('node-2');
  const app = await appClient(via);
  try {
    for (let i = 0; i < 20; i++) await app.set(`session:${i}`, `v${i}`);
    for (let i = 0; i < 20; i++) assert.is(await app.get(`session:${i}`), `v${i}`);
    const refusal = (p: Promise<unknown>): Promise<string> => p.then(() => 'allowed', (e: Error) => e.message);
    assert.match(await refusal(app.set('other:1', 'x')), /NOPERM/);
    assert.match(await refusal(app.flushall()), /NOPERM/);
  } finally {
    app.disconnect();
    await via.close();
  }
});

test('drift: each hand edit is reported exactly by --check --diff, a run puts it back, the next is changed=0', async () => {
  const conf = join(root('node-2'), 'etc/redis/redis-6379.conf');
  writeFileSync(conf, readFileSync(conf, 'utf8').replace('cluster-node-timeout 5000', 'cluster-node-timeout 99999'));
  chmodSync(join(root('node-1'), 'etc/redis/tls/redis.key'), 0o644);
  rmSync(join(root('node-3'), 'etc/redis/tls/redis.crt'));
  const setuser = await rplay(['redis-cli', '-i', lab.inventoryPath, 'node-1:6379', '--', 'ACL', 'SETUSER', 'dev_user', '+flushall']);
  assert.match(setuser.stdout, /OK/);
  const killed = await onHost(lab, 'node-3', 'kill "$(cat /run/rplay-svc/redis-6380.pid)"');
  assert.is(killed.rc, 0, killed.stderr);

  const check = await deploy('--check', '--diff', '--detailed-exitcode');
  assert.is(check.code, 3, check.stderr);
  // The stopped instance keeps the cluster check from reading every node; it is a member the other
  // nodes know, and node-3's service task starts it: it rejoins with nothing to form, so ok (the run's
  // cluster task only waits for it), never FAILED.
  const expected = {
    'node-1': ['Node certificate signed by the CA', 'Users file and live ACLs'],
    'node-2': ['Instance configs', 'Restart Redis on this node'],
    'node-3': ['Node certificate signed by the CA', 'Running instances serve the node certificate', 'Instances enabled and running'],
  };
  assert.equal(changedOn(check.json), expected);
  for (const name of ['Cluster formed', 'Test 1: cluster state']) {
    const t = check.json.plays.flatMap((p) => p.tasks).find((x) => x.name === name)!;
    assert.match(t.results['node-1']!.msg ?? '', /^ok once it is there \(127\.0\.13\.3:6380 \(node-3\) \(not running\) not there yet: an earlier task on node-3 /);
  }
  const confTask = check.json.plays.flatMap((p) => p.tasks).find((t) => t.name === 'Instance configs')!;
  assert.match(confTask.results['node-2']!.diff ?? '', /-cluster-node-timeout 99999\n\+cluster-node-timeout 5000/);

  const pidOf = async (host: string, port: number): Promise<string> => (await onHost(lab, host, `cat /run/rplay-svc/redis-${port}.pid`)).stdout.trim();
  const before = { n1: await pidOf('node-1', 6379), n2: await pidOf('node-2', 6379) };
  const fix = await deploy();
  assert.is(fix.code, 0, fix.stdout.slice(-3000));
  assert.equal(changedOn(fix.json), expected, 'the run changes what --check said it would');
  assert.is(await pidOf('node-1', 6379), before.n1, 'an untouched node is not restarted');
  assert.is.not(await pidOf('node-2', 6379), before.n2, 'the edited node restarts');
  assert.match(readFileSync(conf, 'utf8'), /cluster-node-timeout 5000/);
  const again = await deploy('--detailed-exitcode');
  assert.is(again.code, 0, JSON.stringify(changedOn(again.json)));
});

test('losing a whole host keeps the cluster serving; it rejoins as a replica and the next run is changed=0', async () => {
  const via = await connect('node-1');
  const app = await appClient(via);
  let failures = 0;
  let writes = 0;
  let stop = false;
  const writer = (async () => {
    for (let i = 0; i < 400 && !stop; i++) {
      writes++;
      await app.set(`session:w${i}`, String(i)).catch(() => failures++);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    await lab.stop('node-3');
    const deadline = Date.now() + 20_000;
    let ok = false;
    while (!ok && Date.now() < deadline) {
      ok = /cluster_state:ok/.test(await clusterInfo('node-1')) && /cluster_state:ok/.test(await clusterInfo('node-2'));
      if (!ok) await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(ok, 'cluster_state:ok again within 20 s of losing node-3');
    await new Promise((r) => setTimeout(r, 1000));
    const lateFailures = failures;
    const probe = await app.set('session:after-failover', 'yes').then(() => true, () => false);
    assert.ok(probe, 'writes succeed after the failover');
    console.log(`    writer: ${writes} writes, ${lateFailures} failed while node-3 was down`);
  } finally {
    stop = true;
    await writer;
    app.disconnect();
    await via.close();
    await lab.start('node-3');
  }
  const rejoin = await deploy();
  assert.is(rejoin.code, 0, rejoin.stdout.slice(-3000));
  const after = await deploy('--detailed-exitcode');
  assert.is(after.code, 0, JSON.stringify(changedOn(after.json)));
  assert.match(await clusterInfo('node-3'), /cluster_state:ok/);
  assert.match(await clusterInfo('node-3', 6380), /cluster_known_nodes:6/);
});

test.run();
