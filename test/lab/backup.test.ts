// backup.yml and restore.yml (the runbook's data-corruption scenario) with the real CLI on a Redis
// cluster of three lab hosts: the backup's files and SHA256SUMS on the controller, encrypted (no RDB
// magic, no key or value in clear) and 0700/0600 throughout, a re-run changes nothing; restore
// refuses without its variables, with a tampered backup, a wrong key, a flipped byte behind
// rewritten sums or a missing file, before any instance stops; a host whose data folder holds a file
// named to forge the listing fails its own backup and writes nothing on the controller; after
// keys are changed and deleted, restoring node-2 brings back the backup's keys of node-2's slots
// (and only those), on its master and its replica; a re-run changes nothing; from the RDB alone too;
// retention removes a node's older backups once the new one is written.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import calculateSlot from 'cluster-key-slot';
import type { Cluster } from 'ioredis';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Connection } from '../../runner/connection/connection.js';
import { connectSsh } from '../../runner/connection/ssh.js';
import { readLabVault } from '../../lab/lab-vault.js';
import { openCluster } from '../../modules/redis/open-redis.js';
import { startLab, type Lab } from '../lab-fixture.js';
import { snapshot } from '../support/host-snapshot.js';
import { onHost } from '../support/on-host.js';
import { rplay, rplayJson, tasksWith, totalChanged } from '../support/rplay-cli.js';
import { apply, changedThenNot, checkPlan } from '../support/converge.js';
import { moduleContext } from './redis/redis-lab.js';
import { redisBackup } from '../../modules/redis-backup.js';
import { redisRestore } from '../../modules/redis-restore.js';
import { service } from '../../modules/service.js';

const test = suite('backup.yml and restore.yml on a three-host lab cluster');
const sh = promisify(execFile);
const KEYS = Array.from({ length: 60 }, (_, i) => `session:b${i}`);
let lab: Lab;
let backups: string;
let secrets: Record<string, string>;
let via: Connection;
let admin: Cluster;
const env = (): Record<string, string> => ({ RPLAY_STATE_DIR: join(lab.dir, 'controller-state') });
const inv = (): string[] => ['-i', lab.inventoryPath, '-e', `backup_dir=${backups}`];
const backup = (...extra: string[]) => rplayJson(['playbooks/backup.yml', ...inv(), ...extra], { env: env() });
const restore = (...extra: string[]) => rplayJson(['playbooks/restore.yml', ...inv(), ...extra], { env: env() });
const pki = (f: string): string => readFileSync(join(lab.dir, 'pki', f), 'utf8');
const root = (host: string): string => join(lab.dir, 'hosts', host, 'root');
const pidOf = async (host: string, port: number): Promise<string> => (await onHost(lab, host, `cat /run/rplay-svc/redis-${port}.pid`)).stdout.trim();

async function redisCli(target: string, ...args: string[]): Promise<string> {
  const r = await rplay(['redis-cli', '-i', lab.inventoryPath, target, '--', ...args]);
  return r.stdout.trim();
}

/** The "address:port" of the master serving each key now (CLUSTER SLOTS). */
async function owners(): Promise<Map<string, string>> {
  const slots = (await admin.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  const out = new Map<string, string>();
  for (const k of KEYS) {
    const s = calculateSlot(k);
    const range = slots.find(([a, b]) => s >= a && s <= b);
    out.set(k, range === undefined ? '?' : `${range[2][0]}:${range[2][1]}`);
  }
  return out;
}

function adminClient(): Cluster {
  const c = openCluster(via, lab.hosts.map((x) => ({ host: x.address, port: 6379 })), {
    user: 'admin_user',
    password: secrets.vault_redis_admin_password!,
    tls: { ca: pki('ca.crt'), cert: pki('rplay-admin.crt'), key: pki('rplay-admin.key') },
  }, { enableReadyCheck: false });
  c.on('error', () => {});
  return c;
}

test.before(async () => {
  backups = mkdtempSync(join(tmpdir(), 'rplay-backups-'));
  lab = await startLab({ hosts: 3, prefix: '127.0.11' });
  secrets = Object.fromEntries(Object.entries(readLabVault(lab.dir)).map(([k, v]) => [k, v.reveal()]));
  const t0 = performance.now();
  const deploy = await rplay(['playbooks/redis.yml', '-i', lab.inventoryPath], { env: env() });
  assert.is(deploy.code, 0, deploy.stdout.slice(-3000) + deploy.stderr);
  console.log(`    redis.yml on three fresh hosts: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const h = lab.hosts[0]!;
  via = await connectSsh({ host: h.name, address: h.address, port: 22, user: 'ubuntu', privateKeyFile: lab.keyFile, knownHostsFile: lab.knownHostsFile });
  admin = adminClient();
});

test.after(async () => {
  admin?.disconnect();
  await via?.close();
  await lab?.down();
  rmSync(backups, { recursive: true, force: true });
});

test('backup.yml fetches every instance\'s RDB and AOF with SHA256SUMS; the same label again changes nothing', async () => {
  for (const [i, k] of KEYS.entries()) await admin.set(k, `v${i}`);
  const keysNow = (await Promise.all(admin.nodes('master').map((n) => n.dbsize()))).reduce((a, b) => a + b, 0);
  assert.ok(keysNow >= KEYS.length);
  const checked = await backup('-e', 'label=t1', '--check');
  assert.is(checked.code, 0, checked.stdout + checked.stderr);
  const step = checked.json.plays.flatMap((p) => p.tasks).find((t) => t.name.startsWith('BGSAVE'))!;
  assert.match(step.results['node-1']!.msg ?? '', /^BGSAVE on 127\.0\.11\.1:6379 as admin_user, fetch the RDB and the AOF folder to .*t1\/node-1\/6379; BGSAVE on 127\.0\.11\.1:6380/);
  assert.not.ok(existsSync(join(backups, 't1')), 'check mode wrote nothing');
  const t0 = performance.now();
  const r = await backup('-e', 'label=t1');
  const ms = performance.now() - t0;
  assert.is(r.code, 0, r.stdout + r.stderr);
  for (const h of lab.hosts) assert.equal(tasksWith(r.json, h.name, 'changed'), ['BGSAVE, then the RDB and the AOF folder of each instance fetched to the controller'], h.name);
  for (const h of lab.hosts) {
    for (const port of [6379, 6380]) {
      const dir = join(backups, 't1', h.name, String(port));
      const files = readdirSync(dir).sort();
      assert.equal(files, ['SHA256SUMS', 'appendonlydir', 'backup.json', 'dump.rdb'], dir);
      assert.ok(readdirSync(join(dir, 'appendonlydir')).some((f) => f.endsWith('.manifest')));
      const check = await sh('sha256sum', ['-c', 'SHA256SUMS'], { cwd: dir });
      assert.match(check.stdout, /dump\.rdb: OK/);
      assert.match(check.stdout, /appendonly\.aof\.manifest: OK/);
      const meta = JSON.parse(readFileSync(join(dir, 'backup.json'), 'utf8')) as Record<string, unknown>;
      assert.is(meta.port, port);
      assert.is(meta.role, port === 6379 ? 'master' : 'replica');
      assert.is(meta.appendonly, true);
      assert.is(meta.dir, `/var/lib/redis/${port}`);
    }
  }
  // PHI at rest: every data file is ciphertext; the whole tree is the owner's alone.
  for (const entry of snapshot(join(backups, 't1'))) {
    const [path = '', kind, mode] = entry.split(' ');
    assert.is(mode, kind === 'dir' ? '700' : '600', entry);
    if (kind !== 'file' || /(backup\.json|SHA256SUMS)$/.test(path)) continue;
    const bytes = readFileSync(path);
    assert.not.ok(bytes.includes('REDIS'), `${path}: RDB magic in clear`);
    assert.not.ok(bytes.includes('session:b') || bytes.includes('v17'), `${path}: a key or value in clear`);
    assert.not.ok(bytes.includes(secrets.vault_backup_key!), `${path}: the key`);
  }
  assert.is(statSync(join(backups, 't1')).mode & 0o777, 0o700);
  assert.not.ok(r.stdout.includes(secrets.vault_backup_key!) || r.stderr.includes(secrets.vault_backup_key!), 'the key in the output');
  const masterKeys = lab.hosts.map((h) => JSON.parse(readFileSync(join(backups, 't1', h.name, '6379', 'backup.json'), 'utf8')).keys as number);
  assert.is(masterKeys.reduce((a, b) => a + b, 0), keysNow);
  console.log(`    backup.yml (6 instances): ${ms.toFixed(0)} ms`);

  const again = await backup('-e', 'label=t1');
  assert.is(again.code, 0);
  assert.is(totalChanged(again.json), 0);
});

test('a backup changed after it was written: the next backup.yml with its label says so and leaves it', async () => {
  const stray = join(backups, 't1', 'node-3', '6380', 'appendonlydir', 'stray.aof');
  writeFileSync(stray, 'x');
  try {
    const r = await backup('-e', 'label=t1');
    assert.is(r.code, 2);
    assert.match(r.json.plays.flatMap((p) => p.tasks).find((t) => t.name.startsWith('BGSAVE'))!.results['node-3']!.msg ?? '', /has file\(s\) SHA256SUMS does not list: appendonlydir\/stray\.aof\. A backup is never rewritten: move it away, or use another label/);
    assert.ok(existsSync(stray));
  } finally {
    rmSync(stray);
  }
});

test('restore.yml refuses without its variables and touches nothing', async () => {
  const pids = [await pidOf('node-2', 6379), await pidOf('node-2', 6380)];
  for (const args of [[], ['-e', 'scenario=data-corruption', '-e', 'node=node-2'], ['-e', 'scenario=data-corruption', '-e', 'node=nobody', '-e', 'backup=t1']]) {
    const r = await restore(...args);
    assert.is(r.code, 2, args.join(' '));
    const msg = r.json.plays[0]!.tasks[0]!.results.localhost?.msg ?? '';
    assert.match(msg, /restore/, JSON.stringify(r.json.plays[0]));
    assert.match(msg, /restore\.yml needs -e scenario=node-failure .* Nothing was touched/);
    assert.equal(r.json.plays.slice(1).flatMap((p) => p.tasks.filter((t) => Object.values(t.results).some((x) => x.status !== 'skipped'))), [], args.join(' '));
  }
  assert.equal([await pidOf('node-2', 6379), await pidOf('node-2', 6380)], pids);
});

test('a backup whose file no longer matches SHA256SUMS is refused before any instance stops', async () => {
  cpSync(join(backups, 't1'), join(backups, 'tampered'), { recursive: true });
  const rdb = join(backups, 'tampered', 'node-2', '6379', 'dump.rdb');
  const bytes = readFileSync(rdb);
  bytes[bytes.length - 12] ^= 0xff;
  writeFileSync(rdb, bytes);
  const pid = await pidOf('node-2', 6379);
  const r = await restore('-e', 'scenario=data-corruption', '-e', 'node=node-2', '-e', 'backup=tampered');
  assert.is(r.code, 2);
  const msg = r.json.plays.flatMap((p) => p.tasks).find((t) => t.name === 'The backup checks against its SHA256SUMS; the instances it is not in yet')!.results['node-2']!.msg ?? '';
  assert.match(msg, /refusing to restore node-2:6379: backup .*tampered\/node-2\/6379: checksum mismatch for dump\.rdb/);
  assert.is(await pidOf('node-2', 6379), pid);
});

test('a wrong key, a flipped byte behind rewritten sums, a missing file: refused before any instance stops', async () => {
  const damaged = (label: string, damage: (dir: string) => void): void => {
    cpSync(join(backups, 't1'), join(backups, label), { recursive: true });
    damage(join(backups, label, 'node-2', '6379'));
  };
  const resum = (dir: string): void => {
    const lines = readFileSync(join(dir, 'SHA256SUMS'), 'utf8').trim().split('\n').map((l) => {
      const path = l.slice(66);
      return `${createHash('sha256').update(readFileSync(join(dir, path))).digest('hex')}  ${path}`;
    });
    writeFileSync(join(dir, 'SHA256SUMS'), `${lines.join('\n')}\n`);
  };
  damaged('flipped', (d) => {
    const aof = join(d, 'appendonlydir', readdirSync(join(d, 'appendonlydir')).find((f) => f.endsWith('.incr.aof'))!);
    const bytes = readFileSync(aof);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    writeFileSync(aof, bytes);
    resum(d);
  });
  damaged('missing', (d) => rmSync(join(d, 'dump.rdb')));
  const cases: [string, string[], RegExp][] = [
    ['t1', ['-e', 'vault_backup_key=a-wrong-key-of-the-right-length-0000000'], /refusing to restore node-2:6379: backup .*t1\/node-2\/6379: \S+ fails its authentication tag: wrong vault_backup_key/],
    ['t1', ['-e', 'vault_backup_key=short'], /vault_backup_key is 5 characters; backups need 32 or more; nothing was changed/],
    ['flipped', [], /refusing to restore node-2:6379: backup .*flipped\/node-2\/6379: appendonlydir\/appendonly\.aof\.\d+\.incr\.aof fails its authentication tag/],
    ['missing', [], /refusing to restore node-2:6379: backup .*missing\/node-2\/6379 is missing dump\.rdb, which SHA256SUMS lists/],
  ];
  const pids = [await pidOf('node-2', 6379), await pidOf('node-2', 6380)];
  const data = snapshot(join(root('node-2'), 'var/lib/redis'));
  for (const [label, extra, message] of cases) {
    const r = await restore('-e', 'scenario=data-corruption', '-e', 'node=node-2', '-e', `backup=${label}`, ...extra);
    assert.is(r.code, 2, `${label} ${extra.join(' ')}`);
    const msg = r.json.plays.flatMap((p) => p.tasks).find((t) => t.name === 'The backup checks against its SHA256SUMS; the instances it is not in yet')!.results['node-2']!.msg ?? '';
    assert.match(msg, message, `${label} ${extra.join(' ')}`);
    assert.not.ok(r.stdout.includes(secrets.vault_backup_key!));
    assert.equal([await pidOf('node-2', 6379), await pidOf('node-2', 6380)], pids, `${label}: an instance restarted`);
  }
  assert.equal(snapshot(join(root('node-2'), 'var/lib/redis')).filter((l) => !/\/(appendonlydir|dump\.rdb|nodes\.conf)/.test(l)), data.filter((l) => !/\/(appendonlydir|dump\.rdb|nodes\.conf)/.test(l)), 'nothing placed in the data folders');
  for (const label of ['flipped', 'missing', 'tampered']) rmSync(join(backups, label), { recursive: true, force: true });
});

test('data-corruption restore of node-2 brings back the backup\'s keys of its slots, on master and replica', async () => {
  const before = await owners();
  const node2 = `${lab.hosts[1]!.address}:6379`;
  const mine = KEYS.filter((k) => before.get(k) === node2);
  assert.ok(mine.length > 5 && mine.length < KEYS.length, `${mine.length} keys on node-2`);
  // The "corruption": every key changed or deleted.
  for (const [i, k] of KEYS.entries()) {
    if (i % 2 === 0) await admin.set(k, 'corrupted');
    else await admin.del(k);
  }
  const pid = await pidOf('node-2', 6379);
  const checked = await restore('-e', 'scenario=data-corruption', '-e', 'node=node-2', '-e', 'backup=t1', '--check');
  assert.is(checked.code, 0, checked.stdout.slice(-2000));
  assert.ok(tasksWith(checked.json, 'node-2', 'changed').includes('Runbook step 1: the instances stopped'));
  assert.is(await pidOf('node-2', 6379), pid, 'check mode stopped nothing');
  assert.is(await admin.get(KEYS[0]!), 'corrupted');

  const t0 = performance.now();
  const r = await restore('-e', 'scenario=data-corruption', '-e', 'node=node-2', '-e', 'backup=t1', '-vv');
  const ms = performance.now() - t0;
  assert.is(r.code, 0, JSON.stringify(r.json.plays.flatMap((p) => p.tasks.filter((t) => Object.values(t.results).some((x) => x.status === 'failed')))) + r.stderr);
  // The cluster check waits until the restored master's replica has resynced.
  assert.equal(tasksWith(r.json, 'node-1', 'changed').filter((t) => t !== 'Cluster formed'), []);
  assert.ok(tasksWith(r.json, 'node-2', 'changed').includes('Runbook steps 2–5: the backup in place, the instances started'));
  console.log(`    restore.yml data-corruption of node-2 (with redis.yml's verification): ${ms.toFixed(0)} ms`);

  // A client that has not seen node-2 restart.
  admin.disconnect();
  admin = adminClient();
  const after = await owners();
  assert.equal(after, before, 'no failover happened: node-2 still serves its slots');
  for (const [i, k] of KEYS.entries()) {
    const want = mine.includes(k) ? `v${i}` : i % 2 === 0 ? 'corrupted' : null;
    assert.is(await admin.get(k), want, k);
  }
  // Its replica on another host resynced from the restored master.
  const replica = after.get(mine[0]!) === node2 ? (await redisCli('node-2:6379', 'INFO', 'replication')).match(/slave0:ip=([\d.]+),port=(\d+)/) : null;
  assert.ok(replica, 'node-2:6379 has a replica');
  const host = lab.hosts.find((x) => x.address === replica![1])!.name;
  assert.is(await redisCli(`${host}:${replica![2]}`, 'DBSIZE'), await redisCli('node-2:6379', 'DBSIZE'));

  // The replaced files are kept for forensics; the restored ones belong to redis, mode 0640.
  const data = join(root('node-2'), 'var/lib/redis/6379');
  assert.ok(readdirSync(data).some((f) => /^replaced-\d{8}T\d{6}Z$/.test(f)));
  const mode = statSync(join(data, 'dump.rdb')).mode & 0o777;
  assert.is(mode, 0o640);
  assert.match(readFileSync(join(data, 'rplay-restored'), 'utf8'), /^t1 [0-9a-f]{64}\n$/);
  assert.ok(existsSync(join(data, 'nodes.conf')));
});

test('a second restore of the same backup changes nothing', async () => {
  const pid = await pidOf('node-2', 6379);
  const r = await restore('-e', 'scenario=data-corruption', '-e', 'node=node-2', '-e', 'backup=t1');
  assert.is(r.code, 0, r.stdout.slice(-2000));
  assert.is(totalChanged(r.json), 0, JSON.stringify(lab.hosts.map((h) => tasksWith(r.json, h.name, 'changed'))));
  assert.is(await pidOf('node-2', 6379), pid);
});

test('-e restore_from=rdb: node-3 from its RDB alone (the AOF rebuilt on it), its keys back', async () => {
  const node3 = `${lab.hosts[2]!.address}:6379`;
  const mine = [...(await owners())].filter(([, o]) => o === node3).map(([k]) => k);
  assert.ok(mine.length > 0);
  for (const k of mine) await admin.del(k);
  const r = await restore('-e', 'scenario=data-corruption', '-e', 'node=node-3', '-e', 'backup=t1', '-e', 'restore_from=rdb');
  assert.is(r.code, 0, r.stdout.slice(-2000));
  const step = r.json.plays.flatMap((p) => p.tasks).find((t) => t.name === 'Runbook steps 2–5: the backup in place, the instances started')!;
  assert.match(step.results['node-3']!.msg ?? '', /6379: rdb of t1 in place/);
  admin.disconnect();
  admin = adminClient();
  for (const k of mine) assert.is(await admin.get(k), `v${KEYS.indexOf(k)}`, k);
  const manifest = readFileSync(join(root('node-3'), 'var/lib/redis/6379/appendonlydir/appendonly.aof.manifest'), 'utf8');
  assert.match(manifest, /^file appendonly\.aof\.\d+\.base\.rdb seq \d+ type b\n/);
});

test('retention: a new backup with backup_retain_count=1 leaves only itself, once it is written', async () => {
  const r = await backup('-e', 'label=t2', '-e', 'backup_retain_count=1');
  assert.is(r.code, 0, r.stdout.slice(-2000));
  assert.equal(readdirSync(backups), ['t2']);
  assert.equal(readdirSync(join(backups, 't2')).sort(), ['node-1', 'node-2', 'node-3']);
  const again = await backup('-e', 'label=t2', '-e', 'backup_retain_count=1');
  assert.is(totalChanged(again.json), 0);
});

test('a host whose data folder holds a file named to forge its listing fails its own backup; the controller is untouched', async () => {
  // A file name with a newline, then a forged "<size> <sha256> <path>" line naming `..`.
  await onHost(lab, 'node-1', `printf 'evil' > "/var/lib/redis/6379/appendonlydir/$(printf 'x\\n5 ${'0'.repeat(64)} ..')"`);
  assert.is((await onHost(lab, 'node-1', 'ls /var/lib/redis/6379/appendonlydir | grep -c "^x$"')).stdout.trim(), '1');
  const before = snapshot(backups);
  try {
    const r = await backup('-e', 'label=t3');
    assert.is(r.code, 2, r.stdout.slice(-2000));
    const msg = r.json.plays.flatMap((p) => p.tasks).find((t) => t.name.startsWith('BGSAVE'))!.results['node-1']!.msg ?? '';
    assert.ok(/^redis_backup: unexpected listing line " {2}5 0{64} \.\.": refused$/.test(msg), msg);
    // The other nodes' backups of t3 are theirs; nothing else under the backup folder changed.
    const t3 = join(backups, 't3');
    assert.equal(snapshot(backups).filter((l) => !l.startsWith(`${t3} `) && !l.startsWith(`${t3}/node-2`) && !l.startsWith(`${t3}/node-3`)), before);
    assert.equal(readdirSync(t3).sort(), ['node-2', 'node-3']);
    // The host's staging folder went with the failure.
    assert.is((await onHost(lab, 'node-1', 'ls /tmp | grep -c rplay-backup || true')).stdout.trim(), '0');
  } finally {
    await onHost(lab, 'node-1', 'rm -f /var/lib/redis/6379/appendonlydir/x?5*');
  }
});

test('redis_backup and redis_restore as modules: each change an op, applied as encoded, then nothing to do', async () => {
  const ctx = moduleContext(via);
  const h = lab.hosts[0]!;
  const login = { login_user: 'admin_user', login_password: secrets.vault_redis_admin_password!, tls: { ca: join(lab.dir, 'pki', 'ca.crt'), cert: join(lab.dir, 'pki', 'rplay-admin.crt'), key: join(lab.dir, 'pki', 'rplay-admin.key') } };
  const backupArgs = { instances: [{ address: h.address, port: 6380 }], label: 'm1', dest: backups, encryption_key: secrets.vault_backup_key!, ...login };
  const made = await changedThenNot(redisBackup, ctx, backupArgs);
  assert.equal(made.planned.changes.map((c) => c.op?.kind), ['backup']);
  assert.equal((made.result?.result?.made as { port: number }[]).map((b) => b.port), [6380]);
  assert.ok(existsSync(join(backups, 'm1', h.name, '6380', 'SHA256SUMS')));

  // A running instance is never restored under: stop it first, as restore.yml does.
  const restoreArgs = { instances: [{ port: 6380 }], label: 'm1', src: backups, encryption_key: secrets.vault_backup_key! };
  await apply(service, ctx, { name: 'redis-6380', state: 'stopped' });
  const planned = await checkPlan(redisRestore, ctx, restoreArgs);
  assert.equal(planned.changes.map((c) => c.op?.kind), ['restore']);
  const restored = await changedThenNot(redisRestore, ctx, restoreArgs);
  assert.match(restored.result?.msg ?? '', /^6380: aof of m1 in place \(old files in \/var\/lib\/redis\/6380\/replaced-\d{8}T\d{6}Z if any\), redis-6380 started$/);
  const marker = await onHost(lab, h.name, 'cat /var/lib/redis/6380/rplay-restored');
  assert.match(marker.stdout, /^m1 [0-9a-f]{64}\n$/);
});

test.run();
