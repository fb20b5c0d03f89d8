// The runbook's EBS restore and disaster recovery, end to end on the lab with the real CLI: a
// cluster deployed in us-east-1 by deploy.yml (instances backed by lab hosts, through the EC2
// emulator over HTTP), keys written, backup.yml's EBS snapshots taken; restore.yml's node-failure
// scenario puts one node's snapshot back under it; the primary region is then "lost" (its instances
// stopped); dr.yml copies the snapshots to us-west-2, launches instances there on other lab hosts,
// puts the snapshots' disks under them and brings the same cluster back with every key; the
// failback brings it home with what was written in DR meanwhile. Each re-run changes nothing.
// Last, teardown.yml empties both regions of the project.
import { EC2 } from '@aws-sdk/client-ec2';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cluster } from 'ioredis';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Connection } from '../../../runner/connection/connection.js';
import { connectSsh } from '../../../runner/connection/ssh.js';
import { startEc2Emulator, type Ec2Emulator } from '../../../lab/ec2/emulator.js';
import { labHostProvider } from '../../../lab/ec2/host-provider.js';
import { readLabVault } from '../../../lab/lab-vault.js';
import { openCluster } from '../../../modules/redis/open-redis.js';
import { startLab, type Lab } from '../../lab-fixture.js';
import { copyLabAwsInventory } from '../../support/lab-aws.js';
import { rplayJson, tasksWith, totalChanged } from '../../support/rplay-cli.js';

const test = suite('EBS restores, dr.yml failover to us-west-2 and failback');
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const KEYS = Array.from({ length: 30 }, (_, i) => `patient:dr${i}`);
let lab: Lab;
let emu: Ec2Emulator;
let east: EC2;
let work: string;
let primary: string;
let drInventory: string;
const env = (): Record<string, string> => ({ AWS_ACCESS_KEY_ID: 'AKIDLAB', AWS_SECRET_ACCESS_KEY: 'not-checked', RPLAY_STATE_DIR: join(work, 'state') });
const run = (book: string, inventory: string, ...extra: string[]) => rplayJson([`playbooks/${book}`, '-i', inventory, ...extra], { env: env() });

/** The shipped lab-aws inventory turned into the DR region's (inventories/dr's layout). */
function drCopy(): string {
  const dir = copyLabAwsInventory(join(work, 'dr'), emu.url, lab.dir);
  for (const f of ['aws_ec2.yml', join('group_vars', 'all.yml')]) {
    const path = join(dir, f);
    const text = readFileSync(path, 'utf8')
      .replaceAll('us-east-1', 'us-west-2')
      .replaceAll('10.0.', '10.1.')
      .replaceAll('redis-node-1', 'redis-node-2')
      .replaceAll('redis-subnet-1', 'redis-subnet-2')
      .replace('key_name: redis-cluster-key', 'key_name: redis-cluster-key-dr');
    writeFileSync(path, text);
  }
  return dir;
}

async function cluster(address: string): Promise<{ conn: Connection; client: Cluster }> {
  const host = lab.hosts.find((h) => h.address === address)!;
  const conn = await connectSsh({ host: host.name, address, port: 22, user: 'ubuntu', privateKeyFile: lab.keyFile, knownHostsFile: lab.knownHostsFile });
  const pki = (f: string): string => readFileSync(join(lab.dir, 'pki', f), 'utf8');
  const secrets = readLabVault(lab.dir);
  const client = openCluster(conn, [{ host: address, port: 6379 }], {
    user: 'admin_user',
    password: secrets.vault_redis_admin_password!.reveal(),
    tls: { ca: pki('ca.crt'), cert: pki('rplay-admin.crt'), key: pki('rplay-admin.key') },
  }, { enableReadyCheck: false });
  client.on('error', () => {});
  return { conn, client };
}

async function running(ec2: EC2): Promise<{ name: string; address: string; id: string }[]> {
  const r = await ec2.describeInstances({ Filters: [{ Name: 'instance-state-name', Values: ['running'] }] });
  return (r.Reservations ?? []).flatMap((x) => x.Instances ?? []).map((i) => ({ name: i.Tags?.find((t) => t.Key === 'Name')?.Value ?? '', address: i.PrivateIpAddress ?? '', id: i.InstanceId ?? '' })).sort((a, b) => a.name.localeCompare(b.name));
}

test.before(async () => {
  work = mkdtempSync(join(tmpdir(), 'rplay-dr-'));
  lab = await startLab({ hosts: 6, prefix: '127.0.14' });
  emu = await startEc2Emulator({ stateFile: join(lab.dir, 'ec2', 'state.json'), hosts: labHostProvider(lab.dir), delays: { instance: 100, snapshot: 200, volume: 50 } });
  east = new EC2({ region: 'us-east-1', endpoint: emu.url, credentials: { accessKeyId: 'AKIDLAB', secretAccessKey: 'not-checked' } });
  primary = copyLabAwsInventory(join(work, 'primary'), emu.url, lab.dir);
  drInventory = drCopy();
});

test.after(async () => {
  east?.destroy();
  await emu?.close();
  await lab?.down();
  rmSync(work, { recursive: true, force: true });
});

let primaries: { name: string; address: string; id: string }[] = [];

test('deploy.yml in us-east-1, keys written, backup.yml\'s EBS snapshots taken', async () => {
  const t0 = performance.now();
  const deployed = await run('deploy.yml', primary);
  assert.is(deployed.code, 0, deployed.stdout.slice(-3000) + deployed.stderr);
  console.log(`    deploy.yml in us-east-1: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  primaries = await running(east);
  const p = await cluster(primaries[0]!.address);
  try {
    for (const [i, k] of KEYS.entries()) await p.client.set(k, `v${i}`);
  } finally {
    p.client.disconnect();
    await p.conn.close();
  }
  const snap = await run('backup.yml', primary, '-e', 'label=dr-1', '-e', 'backup_redis=false');
  assert.is(snap.code, 0, snap.stdout.slice(-2000));
});

test('restore.yml scenario node-failure: the node\'s root from its newest snapshot, the cluster whole again; a re-run changes nothing', async () => {
  const t0 = performance.now();
  const r = await run('restore.yml', primary, '-e', 'scenario=node-failure', '-e', 'node=redis-node-1b');
  assert.is(r.code, 0, JSON.stringify(r.json.plays.flatMap((pl) => pl.tasks.filter((t) => Object.values(t.results).some((x) => x.status === 'failed')))).slice(0, 4000));
  console.log(`    restore.yml node-failure: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const node = (await running(east)).find((x) => x.name === 'redis-node-1b')!;
  const { Reservations = [] } = await east.describeInstances({ InstanceIds: [node.id] });
  const rootId = Reservations[0]!.Instances![0]!.BlockDeviceMappings!.find((m) => m.DeviceName === '/dev/sda1')!.Ebs!.VolumeId!;
  const { Volumes = [] } = await east.describeVolumes({ VolumeIds: [rootId] });
  const { Snapshots = [] } = await east.describeSnapshots({ Filters: [{ Name: 'tag:rplay:snapshot-of', Values: ['redis-node-1b'] }] });
  assert.is(Volumes[0]!.SnapshotId, Snapshots[0]!.SnapshotId);
  const p = await cluster(primaries[0]!.address);
  try {
    for (const [i, k] of KEYS.entries()) assert.is(await p.client.get(k), `v${i}`, k);
    assert.match(String(await p.client.call('CLUSTER', 'INFO')), /cluster_state:ok/);
  } finally {
    p.client.disconnect();
    await p.conn.close();
  }
  const again = await run('restore.yml', primary, '-e', 'scenario=node-failure', '-e', 'node=redis-node-1b');
  assert.is(again.code, 0);
  assert.is(totalChanged(again.json), 0, JSON.stringify(['localhost', 'redis-node-1a', 'redis-node-1b', 'redis-node-1c'].map((h) => tasksWith(again.json, h, 'changed'))));
});

test('failover: the primary\'s snapshots become the DR cluster, with every key; a re-run changes nothing', async () => {
  // The primary region is lost.
  await east.stopInstances({ InstanceIds: primaries.map((x) => x.id) });
  await emu.idle();

  const west0 = new EC2({ region: 'us-west-2', endpoint: emu.url, credentials: { accessKeyId: 'AKIDLAB', secretAccessKey: 'not-checked' } });
  const checked = await run('dr.yml', drInventory, '--check');
  assert.is(checked.code, 0, checked.stdout.slice(-3000));
  assert.match(checked.json.plays.flatMap((pl) => pl.tasks).find((t) => t.name === 'Copies of the newest snapshots, encrypted with this region\'s key')!.results.localhost!.msg ?? '', /^CopySnapshot us-east-1\/snap-/);
  assert.equal((await west0.describeSnapshots({ OwnerIds: ['self'] })).Snapshots ?? [], []);
  assert.equal((await west0.describeInstances({})).Reservations ?? [], []);
  west0.destroy();

  const t0 = performance.now();
  const dr = await run('dr.yml', drInventory);
  const ms = performance.now() - t0;
  assert.is(dr.code, 0, JSON.stringify(dr.json.plays.flatMap((pl) => pl.tasks.filter((t) => Object.values(t.results).some((x) => x.status === 'failed')))).slice(0, 4000));
  console.log(`    dr.yml failover: ${(ms / 1000).toFixed(1)} s`);
  for (const n of ['redis-node-2a', 'redis-node-2b', 'redis-node-2c']) {
    assert.ok(tasksWith(dr.json, n, 'changed').includes("nodes.conf of every instance names the nodes' addresses here (instances left stopped)"), n);
  }
  const west = new EC2({ region: 'us-west-2', endpoint: emu.url, credentials: { accessKeyId: 'AKIDLAB', secretAccessKey: 'not-checked' } });
  try {
    const drNodes = await running(west);
    assert.equal(drNodes.map((x) => x.name), ['redis-node-2a', 'redis-node-2b', 'redis-node-2c']);
    assert.ok(drNodes.every((x) => !primaries.some((y) => y.address === x.address)), 'other lab hosts');
    const { Snapshots = [] } = await west.describeSnapshots({ OwnerIds: ['self'] });
    assert.is(Snapshots.length, 3);
    assert.ok(Snapshots.every((s) => s.Encrypted && (s.KmsKeyId ?? '').startsWith('arn:aws:kms:us-west-2:')));

    const d = await cluster(drNodes[1]!.address);
    try {
      for (const [i, k] of KEYS.entries()) assert.is(await d.client.get(k), `v${i}`, k);
      const info = String(await d.client.call('CLUSTER', 'INFO'));
      assert.match(info, /cluster_state:ok/);
      assert.match(info, /cluster_known_nodes:6/);
    } finally {
      d.client.disconnect();
      await d.conn.close();
    }
  } finally {
    west.destroy();
  }

  const again = await run('dr.yml', drInventory);
  assert.is(again.code, 0);
  assert.is(totalChanged(again.json), 0, JSON.stringify(['localhost', 'redis-node-2a', 'redis-node-2b', 'redis-node-2c'].map((h) => tasksWith(again.json, h, 'changed'))));
});

test('failback: a final snapshot of the DR nodes brings the cluster back in us-east-1 with what was written meanwhile', async () => {
  const west = new EC2({ region: 'us-west-2', endpoint: emu.url, credentials: { accessKeyId: 'AKIDLAB', secretAccessKey: 'not-checked' } });
  const drNodes = await running(west);
  west.destroy();
  const d = await cluster(drNodes[0]!.address);
  try {
    await d.client.set('patient:written-in-dr', 'yes');
  } finally {
    d.client.disconnect();
    await d.conn.close();
  }
  const t0 = performance.now();
  const back = await run('dr.yml', primary, '-e', 'dr=failback');
  assert.is(back.code, 0, JSON.stringify(back.json.plays.flatMap((pl) => pl.tasks.filter((t) => Object.values(t.results).some((x) => x.status === 'failed')))).slice(0, 4000));
  console.log(`    dr.yml failback: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const nodes = await running(east);
  assert.equal(nodes.map((x) => x.address).sort(), primaries.map((x) => x.address).sort());
  const p = await cluster(nodes[2]!.address);
  try {
    assert.is(await p.client.get('patient:written-in-dr'), 'yes');
    for (const [i, k] of KEYS.entries()) assert.is(await p.client.get(k), `v${i}`, k);
    assert.match(String(await p.client.call('CLUSTER', 'INFO')), /cluster_state:ok/);
  } finally {
    p.client.disconnect();
    await p.conn.close();
  }
  const again = await run('dr.yml', primary, '-e', 'dr=failback');
  assert.is(again.code, 0);
  assert.is(totalChanged(again.json), 0, JSON.stringify(['localhost', 'redis-node-1a', 'redis-node-1b', 'redis-node-1c'].map((h) => tasksWith(again.json, h, 'changed'))));
});

test('teardown.yml refuses without -e confirm=yes; with it, nothing of the project is left in either region', async () => {
  const west = new EC2({ region: 'us-west-2', endpoint: emu.url, credentials: { accessKeyId: 'AKIDLAB', secretAccessKey: 'not-checked' } });
  try {
    const refused = await run('teardown.yml', drInventory);
    assert.is(refused.code, 2);
    assert.is((await running(west)).length, 3);
    for (const [inventory, ec2] of [[primary, east], [drInventory, west]] as const) {
      const r = await run('teardown.yml', inventory, '-e', 'confirm=yes');
      assert.is(r.code, 0, r.stdout.slice(-2000));
      await emu.idle();
      const Filters = [{ Name: 'tag:project', Values: ['redis-lab'] }];
      const [i, v, s2, g, w, n, c, k] = await Promise.all([
        ec2.describeInstances({ Filters: [...Filters, { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }] }),
        ec2.describeVolumes({ Filters }), ec2.describeSnapshots({ OwnerIds: ['self'], Filters }), ec2.describeSecurityGroups({ Filters }),
        ec2.describeInternetGateways({ Filters }), ec2.describeSubnets({ Filters }), ec2.describeVpcs({ Filters }), ec2.describeKeyPairs({ Filters }),
      ]);
      assert.equal([i.Reservations, v.Volumes, s2.Snapshots, g.SecurityGroups, w.InternetGateways, n.Subnets, c.Vpcs, k.KeyPairs].map((x) => x?.length ?? 0), [0, 0, 0, 0, 0, 0, 0, 0], inventory);
    }
  } finally {
    west.destroy();
  }
});

test.run();
