// The runbook's phase 8 on a cluster the runbook's way: three instances launched with UNENCRYPTED roots
// on the EC2 emulator (in this process, over HTTP) backed by real lab hosts, the TLS + ACL Redis cluster
// deployed on them with the real CLI, keys written. playbooks/ebs-encrypt.yml then runs with a writer
// going throughout, is killed (SIGKILL) mid-way with a node stopped and its root detached, and a re-run
// finishes: every root encrypted, every key still there, originals kept and tagged, the re-run changed=0.
// A fourth instance is taken through the migration one operation per run (each run applies only the
// first operation of its plan, encoded and decoded), its data intact.
import type { EC2 as Ec2Client } from '@aws-sdk/client-ec2';
import { inventoryOf } from '../../support/inventory-view.js';
import { EC2 } from '@aws-sdk/client-ec2';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { localConnection } from '../../../runner/connection/local.js';
import type { Ec2Op } from '../../../modules/aws/ec2-operation.js';
import { ebsEncrypt } from '../../../modules/ebs-encrypt.js';
import type { ModuleContext } from '../../../runner/types.js';
import { checkPlan, overTheWire } from '../../support/converge.js';
import { startEc2Emulator, type Ec2Emulator } from '../../../lab/ec2/emulator.js';
import { labHostProvider } from '../../../lab/ec2/host-provider.js';
import { readLabVault } from '../../../lab/lab-vault.js';
import { openCluster, openRedis, type RedisLogin } from '../../../modules/redis/open-redis.js';
import { startLab, type Lab } from '../../lab-fixture.js';
import { onHost } from '../../support/on-host.js';
import { repoDir, rplay, rplayJson, totalChanged, type JsonRun } from '../../support/rplay-cli.js';

const PREFIX = '127.0.10';
const NODES = ['redis-node-1a', 'redis-node-1b', 'redis-node-1c'];
const KEYS = 300;
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

let lab: Lab;
let emu: Ec2Emulator;
let ec2: Ec2Client;
let work: string;
let inventory: string;
let env: Record<string, string>;
let secrets: Record<string, string>;
const local = localConnection();
const t0 = performance.now();
const seconds = (since: number): string => `${((performance.now() - since) / 1000).toFixed(1)} s`;
const book = join(repoDir, 'playbooks', 'ebs-encrypt.yml');

/** inventories/lab-aws as shipped, pointed at this test's emulator and lab folder. */
function copyLabAwsInventory(): string {
  const dir = join(work, 'lab-aws');
  cpSync(join(repoDir, 'inventories', 'lab-aws'), dir, { recursive: true });
  for (const f of ['aws_ec2.yml', join('group_vars', 'all.yml')]) {
    const path = join(dir, f);
    writeFileSync(path, readFileSync(path, 'utf8').replaceAll('http://127.0.0.1:4577', emu.url).replaceAll('.rplay/lab/', `${lab.dir}/`));
  }
  return dir;
}

interface Node {
  name: string;
  id: string;
  state: string;
  address: string;
  root?: string;
  tags: Record<string, string>;
}

async function nodes(): Promise<Node[]> {
  const r = await ec2.describeInstances({ Filters: [{ Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }] });
  return (r.Reservations ?? [])
    .flatMap((x) => x.Instances ?? [])
    .map((i) => ({
      name: i.Tags?.find((t) => t.Key === 'Name')?.Value ?? '',
      id: i.InstanceId!,
      state: i.State!.Name!,
      address: i.PrivateIpAddress!,
      root: i.BlockDeviceMappings?.find((b) => b.DeviceName === i.RootDeviceName)?.Ebs?.VolumeId,
      tags: Object.fromEntries((i.Tags ?? []).map((t) => [t.Key!, t.Value ?? ''])),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

async function volume(id: string): Promise<{ encrypted: boolean; kms?: string; state: string; tags: Record<string, string> }> {
  const v = (await ec2.describeVolumes({ VolumeIds: [id] })).Volumes![0]!;
  return { encrypted: v.Encrypted ?? false, kms: v.KmsKeyId, state: v.State!, tags: Object.fromEntries((v.Tags ?? []).map((t) => [t.Key!, t.Value ?? ''])) };
}

function login(user: string, password: string): RedisLogin {
  const pki = (f: string): string => readFileSync(join(lab.dir, 'pki', f), 'utf8');
  return { user, password, tls: { ca: pki('ca.crt'), cert: pki('rplay-admin.crt'), key: pki('rplay-admin.key') } };
}

/**
 * An application's cluster client: the lab's hosts share the controller's loopback, so no tunnel is
 * needed. It gives up on a cluster unreachable for about a minute, so its commands fail, not hang.
 */
function appClient(seeds: Node[]): ReturnType<typeof openCluster> {
  const c = openCluster(local, seeds.map((n) => ({ host: n.address, port: 6379 })), login('app_user', secrets.vault_redis_app_password!), {
    enableReadyCheck: false,
    clusterRetryStrategy: (times) => (times > 40 ? null : Math.min(times * 100, 2000)),
  });
  c.on('error', () => {});
  return c;
}

/** role and cluster_state of every instance, "address:port role state". */
async function clusterRoles(all: Node[]): Promise<string[]> {
  const out: string[] = [];
  for (const n of all) {
    for (const port of [6379, 6380]) {
      const r = await openRedis(local, { ...login('admin_user', secrets.vault_redis_admin_password!), host: n.address, port });
      try {
        const info = String(await r.call('CLUSTER', 'INFO'));
        const role = /role:(\w+)/.exec(String(await r.call('INFO', 'replication')))![1];
        out.push(`${n.name}:${port} ${role} ${/cluster_state:(\w+)/.exec(info)![1]}`);
      } finally {
        r.disconnect();
      }
    }
  }
  return out;
}

const runEnv = (): Record<string, string> => env;

test.before(async () => {
  work = mkdtempSync(join(tmpdir(), 'rplay-ebs-'));
  lab = await startLab({ hosts: 4, prefix: PREFIX });
  secrets = Object.fromEntries(Object.entries(readLabVault(lab.dir)).map(([k, v]) => [k, v.reveal()]));
  emu = await startEc2Emulator({ stateFile: join(lab.dir, 'ec2', 'state.json'), hosts: labHostProvider(lab.dir), delays: { instance: 100, snapshot: 200, volume: 50 } });
  ec2 = new EC2({ region: 'us-east-1', endpoint: emu.url, credentials: { accessKeyId: 'AKIDLAB', secretAccessKey: 'not-checked' } });
  inventory = copyLabAwsInventory();
  env = {
    AWS_ACCESS_KEY_ID: 'AKIDLAB',
    AWS_SECRET_ACCESS_KEY: 'not-checked',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    RPLAY_LAB_DIR: lab.dir,
    RPLAY_STATE_DIR: join(work, 'state'),
  };
});

test.after(async () => {
  ec2?.destroy();
  await local.close();
  await emu?.close();
  await lab?.down();
  rmSync(work, { recursive: true, force: true });
});

test('the runbook\'s cluster: three instances launched unencrypted, Redis deployed on them', async () => {
  const since = performance.now();
  const net = await rplay([join(repoDir, 'playbooks', 'network.yml'), '-i', inventory], { env: runEnv() });
  assert.is(net.code, 0, net.stdout + net.stderr);
  const pub = readFileSync(`${lab.keyFile}.pub`, 'utf8');
  await ec2.importKeyPair({ KeyName: 'redis-cluster-key', PublicKeyMaterial: Buffer.from(pub) });
  const { Images = [] } = await ec2.describeImages({ Owners: ['099720109477'], Filters: [{ Name: 'architecture', Values: ['x86_64'] }] });
  const { Subnets = [] } = await ec2.describeSubnets({});
  const { SecurityGroups = [] } = await ec2.describeSecurityGroups({ Filters: [{ Name: 'group-name', Values: ['redis-cluster-sg'] }] });
  const subnet = (az: string): string => Subnets.find((s) => s.AvailabilityZone === `us-east-1${az}`)!.SubnetId!;
  // The runbook's phase 2 by hand: no encryption asked for, none by default.
  for (const [name, az, role] of [...NODES.map((n) => [n, n.slice(-1), 'redis']), ['redis-spare', 'a', 'spare']] as [string, string, string][]) {
    await ec2.runInstances({
      ImageId: Images[0]!.ImageId,
      InstanceType: 't2.micro',
      MinCount: 1,
      MaxCount: 1,
      SubnetId: subnet(az),
      SecurityGroupIds: [SecurityGroups[0]!.GroupId!],
      KeyName: 'redis-cluster-key',
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: name }, { Key: 'project', Value: 'redis-lab' }, { Key: 'role', Value: role }] }],
    });
  }
  await emu.idle();
  const all = await nodes();
  assert.equal(all.map((n) => `${n.name} ${n.state}`), [...NODES, 'redis-spare'].map((n) => `${n} running`));
  for (const n of all) assert.is((await volume(n.root!)).encrypted, false, n.name);

  const phases = ['redis-install', 'tls', 'acl', 'config', 'cluster'].map((p) => join(repoDir, 'playbooks', `${p}.yml`));
  const deploy = await rplay([...phases, '-i', inventory], { env: runEnv() });
  assert.is(deploy.code, 0, deploy.stdout.slice(-3000) + deploy.stderr);
  assert.equal((await clusterRoles(all.slice(0, 3))).filter((r) => !r.endsWith(' ok')), []);
  console.log(`    lab, instances and Redis deploy: ${seconds(t0)} (deploy ${seconds(since)})`);
});

test('--check lists each node\'s failover and EC2 calls and changes nothing', async () => {
  const before = await nodes();
  const r = await rplayJson([book, '-i', inventory, '--check'], { env: runEnv() });
  assert.is(r.code, 0, r.stdout.slice(-2000) + r.stderr);
  const task = (name: string) => r.json.plays.flatMap((p) => p.tasks).filter((t) => t.name === name);
  const swaps = task('Root volume swapped for an encrypted copy (stop, snapshot, copy, volume, swap, start)');
  for (const n of before.slice(0, 3)) {
    const res = swaps.map((t) => t.results[n.name]).find((x) => x !== undefined)!;
    assert.is(res.status, 'changed');
    for (const call of [`StopInstances ${n.id} (${n.name})`, `CreateSnapshot ${n.root}`, 'CopySnapshot <the new snapshot> encrypted with alias/redis-lab-ebs', `DetachVolume ${n.root}`, 'AttachVolume', 'StartInstances']) {
      assert.ok(res.msg?.includes(call), `${n.name}: ${call} in ${res.msg}`);
    }
  }
  const drain = task('Its masters handed to their replicas on other nodes').map((t) => t.results['redis-node-1a']).find((x) => x !== undefined)!;
  assert.match(drain.msg ?? '', /^CLUSTER FAILOVER on \S+:6380 \(redis-node-1b\): it takes over slots 0-5460/);
  assert.equal(await nodes(), before);
  assert.equal((await ec2.describeSnapshots({ OwnerIds: ['self'] })).Snapshots, []);
});

let written = 0;
let writes = 0;
let failures = 0;

test('ebs-encrypt.yml, killed with a node stopped and its root detached, then run again: the cluster serves throughout', async () => {
  const before = await nodes();
  const app = appClient(before);
  for (let i = 0; i < KEYS; i++) await app.set(`patient:${i}`, `record-${i}`);
  written = KEYS;
  let stop = false;
  const failed: string[] = [];
  const acknowledged: number[] = [];
  const writer = (async () => {
    for (let i = 0; !stop; i++) {
      writes++;
      await app.set(`session:w${i}`, String(i)).then(
        () => acknowledged.push(i),
        (e: Error) => {
          failures++;
          if (failed.length < 5) failed.push(e.message);
        },
      );
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const since = performance.now();
  try {
    // Killed once the second node's original root is detached: stopped, and out of the inventory.
    const child = spawn(process.execPath, [join(repoDir, 'dist', 'runner', 'cli.js'), book, '-i', inventory], { cwd: repoDir, env: { ...process.env, ...runEnv() }, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let killedAt: Node | undefined;
    for (let done = false; !done; ) {
      const b = (await nodes()).find((n) => n.name === 'redis-node-1b')!;
      if (b.tags['rplay:ebs-encrypt'] === 'detach') {
        child.kill('SIGKILL');
        killedAt = b;
      }
      done = killedAt !== undefined || (await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 50))]));
    }
    await exited;
    assert.ok(killedAt, 'the run was killed mid-way (it finished before redis-node-1b was detached)');
    assert.is(killedAt.state, 'stopped');
    await emu.idle();
    const mid = await nodes();
    // The kill races the next call (AttachVolume): either way the original is off and the node is down.
    assert.is.not(mid.find((n) => n.name === 'redis-node-1b')!.root, killedAt.tags['rplay:encrypts'], 'killed with the original root detached');
    const probe = await app.set('session:while-1b-is-down', 'yes').then(() => 'ok', (e: Error) => e.message);
    assert.is(probe, 'ok', 'the cluster serves with a node down mid-migration');
    console.log(`    killed after ${seconds(since)}: ${mid.map((n) => `${n.name} ${n.state} ${n.tags['rplay:ebs-encrypt'] ?? '-'}`).join(', ')}`);

    const rerun = performance.now();
    const r = await rplayJson([book, '-i', inventory], { env: runEnv() });
    assert.is(r.code, 0, r.stdout.slice(-3000) + r.stderr);
    const finished = r.json.plays[0]!.tasks[0]!.results.localhost!;
    assert.match(finished.msg ?? '', /redis-node-1b\): .*replaced/, 'the first play finished the stopped node');
    console.log(`    re-run: ${seconds(rerun)}; writer: ${writes} writes, ${failures} failed${failed.length ? ` (${failed.join('; ')})` : ''}`);
  } finally {
    stop = true;
    await writer;
  }
  for (let i = 0; i < written; i++) assert.is(await app.get(`patient:${i}`), `record-${i}`, `patient:${i}`);
  // Every write the cluster acknowledged during the migration is there too: no failover lost one.
  for (const i of acknowledged) assert.is(await app.get(`session:w${i}`), String(i), `session:w${i}`);
  app.disconnect();
  assert.ok(failures <= writes / 100, `${failures} of ${writes} writes failed`);
});

test('afterwards: every root encrypted with the key, originals kept and tagged, masters where the layout puts them', async () => {
  const all = (await nodes()).filter((n) => n.tags.role === 'redis');
  for (const n of all) {
    const root = await volume(n.root!);
    assert.is(root.encrypted, true, n.name);
    assert.match(root.kms ?? '', /^arn:aws:kms:us-east-1:\d{12}:key\//);
    assert.is(n.tags['rplay:ebs-encrypt'], 'done');
    const original = await volume(n.tags['rplay:encrypts']!);
    assert.equal([original.encrypted, original.state, original.tags['rplay:replaced-by']], [false, 'available', n.root], n.name);
  }
  assert.equal(await clusterRoles(all), NODES.flatMap((n) => [`${n}:6379 master ok`, `${n}:6380 slave ok`]));
});

test('a second run changes nothing', async () => {
  const since = performance.now();
  const r = await rplayJson([book, '-i', inventory], { env: runEnv() });
  assert.is(r.code, 0, r.stdout.slice(-2000));
  const changed = (j: JsonRun) => j.plays.flatMap((p) => p.tasks.filter((t) => Object.values(t.results).some((x) => x.status === 'changed')).map((t) => t.name));
  assert.is(totalChanged(r.json), 0, changed(r.json).join(', '));
  console.log(`    converged re-run: ${seconds(since)}`);
});

test('an instance taken through the migration one operation per run: each run resumes where the last stopped, the data survives', async () => {
  const since = performance.now();
  const spare = (await nodes()).find((n) => n.name === 'redis-spare')!;
  const host = lab.hosts.find((h) => h.address === spare.address)!.name;
  const mark = await onHost(lab, host, 'echo "written before the migration" > /home/ubuntu/marker');
  assert.is(mark.rc, 0, mark.stderr);
  // The module as a task on localhost runs it, with the lab inventory's AWS settings.
  const ctx: ModuleContext = {
    host: 'localhost',
    conn: local,
    inventory: inventoryOf({}),
    vars: { aws_region: 'us-east-1', aws_endpoint_url: emu.url, aws_access_key: 'AKIDLAB', aws_secret_key: 'not-checked' },
    projectDir: work,
    evaluate: () => {
      throw new Error('not used');
    },
  };
  const args = { name: 'redis-spare', project: 'redis-lab', kms_key_id: 'alias/redis-lab-ebs' };
  const seen: string[] = [];
  for (let run = 0; run < 20; run++) {
    const plan = ebsEncrypt.plan(args, await ebsEncrypt.gather(ctx, args));
    if (plan.changes.length === 0) break;
    await ebsEncrypt.apply!(ctx, overTheWire([plan.changes[0]!.op!]) as Ec2Op[]);
    const now = (await nodes()).find((n) => n.name === 'redis-spare')!;
    seen.push(`${now.tags['rplay:ebs-encrypt']} ${now.state}`);
  }
  assert.equal(seen, ['mark running', 'stop stopped', 'snapshot stopped', 'copy stopped', 'volume stopped', 'detach stopped', 'attach stopped', 'start running', 'done running']);
  const after = (await nodes()).find((n) => n.name === 'redis-spare')!;
  assert.is((await volume(after.root!)).encrypted, true);
  const data = await onHost(lab, host, 'cat /home/ubuntu/marker');
  assert.is(data.stdout, 'written before the migration\n', 'the host booted from the encrypted copy of its disk');
  assert.equal((await checkPlan(ebsEncrypt, ctx, args)).changes, []);
  console.log(`    one-operation-per-run migration of a fourth instance: ${seconds(since)}; whole file: ${seconds(t0)}`);
});

test.run();
