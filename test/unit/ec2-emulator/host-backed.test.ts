// Instances backed by machines (here a stand-in for the lab's hosts: folders and a power switch): the
// instance's address is its host's, stop/start switch the host, and a root volume is the host's disk,
// so snapshots and volumes made from them carry its files through an encrypt-by-swap.
import {
  AttachVolumeCommand,
  CopySnapshotCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeInstancesCommand,
  DescribeVolumesCommand,
  DetachVolumeCommand,
  ImportKeyPairCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceRunning,
  waitUntilInstanceStopped,
  waitUntilInstanceTerminated,
  waitUntilSnapshotCompleted,
  waitUntilVolumeAvailable,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { BackingHost, HostProvider } from '../../../lab/ec2/host-provider.js';
import { failure, fast, nameTag, testEc2, type TestEc2 } from './client.js';
import { network, type Network } from './fixtures.js';

const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGlWeYhbRBt4m7W2xWxP6vJGm1zI3t6d4sE9nWGv8Xz0 controller';

/** Two machines whose disks are folders; booting needs a disk with an /etc/hostname on it. */
class FakeHosts implements HostProvider {
  readonly up = new Map<string, boolean>();
  /** The next boot fails, as a host whose sshd never comes up. */
  failNextBoot = false;
  constructor(readonly dir: string) {}
  hosts(): BackingHost[] {
    return [
      { name: 'node-1', address: '192.0.2.1' },
      { name: 'node-2', address: '192.0.2.2' },
    ];
  }
  rootDir(name: string): string {
    return join(this.dir, 'hosts', name, 'root');
  }
  async powerOff(name: string): Promise<void> {
    this.up.set(name, false);
  }
  async powerOn(name: string): Promise<void> {
    if (this.failNextBoot) {
      this.failNextBoot = false;
      throw new Error(`${name}: sshd not listening`);
    }
    if (!existsSync(join(this.rootDir(name), 'etc', 'hostname'))) throw new Error(`${name}: no bootable disk`);
    this.up.set(name, true);
  }
  async install(name: string, key: string | null): Promise<void> {
    const root = this.rootDir(name);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc', 'hostname'), `${name}\n`);
    mkdirSync(join(root, 'home', 'ubuntu', '.ssh'), { recursive: true });
    writeFileSync(join(root, 'home', 'ubuntu', '.ssh', 'authorized_keys'), `${key ?? ''}\n`);
  }
  /** What the machine has written on its disk. */
  read(name: string, file: string): string | null {
    const path = join(this.rootDir(name), file);
    return existsSync(path) ? readFileSync(path, 'utf8') : null;
  }
  write(name: string, file: string, text: string): void {
    writeFileSync(join(this.rootDir(name), file), text);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'rplay-ec2-hosts-'));
let hosts: FakeHosts;
const logged: string[] = [];
let t: TestEc2;
let ec2: EC2Client;
let net: Network;

test.before(async () => {
  hosts = new FakeHosts(dir);
  t = await testEc2({ stateFile: join(dir, 'ec2', 'state.json'), hosts, delays: { instance: 100, snapshot: 100, volume: 100 }, log: (line) => logged.push(line) });
  ec2 = t.client();
  net = await network(ec2);
  await ec2.send(new ImportKeyPairCommand({ KeyName: 'redis-cluster-key', PublicKeyMaterial: Buffer.from(PUBLIC_KEY) }));
});
test.after(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(name: string, subnet = net.subnets.a): Promise<string> {
  const [i] = (await ec2.send(new RunInstancesCommand({ ImageId: net.imageId, InstanceType: 't2.micro', MinCount: 1, MaxCount: 1, SubnetId: subnet, KeyName: 'redis-cluster-key', TagSpecifications: nameTag('instance', name) }))).Instances!;
  await waitUntilInstanceRunning(fast(ec2), { InstanceIds: [i.InstanceId!] });
  return i.InstanceId!;
}

async function instance(id: string) {
  return (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0].Instances![0];
}

let first: string;

test("a launched instance is a free host with a fresh disk: the host's address, the key pair authorized, powered on", async () => {
  first = await run('redis-node-1a');
  const i = await instance(first);
  assert.equal([i.PrivateIpAddress, i.PublicIpAddress, i.PrivateDnsName], ['192.0.2.1', '192.0.2.1', 'ip-192-0-2-1.ec2.internal']);
  assert.is(hosts.up.get('node-1'), true);
  assert.is(hosts.read('node-1', 'home/ubuntu/.ssh/authorized_keys'), `${PUBLIC_KEY}\n`);
  const second = await run('redis-node-1b', net.subnets.b);
  assert.is((await instance(second)).PrivateIpAddress, '192.0.2.2');
  const full = await failure(ec2.send(new RunInstancesCommand({ ImageId: net.imageId, InstanceType: 't2.micro', MinCount: 1, MaxCount: 1, SubnetId: net.subnets.a })));
  assert.is(full.name, 'InsufficientInstanceCapacity');
  assert.match(full.message, /the lab has 0 free host\(s\)/);
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: [second] }));
  await waitUntilInstanceTerminated(fast(ec2), { InstanceIds: [second] });
  assert.is(hosts.up.get('node-2'), false, 'terminating powers the host off');
  assert.is(existsSync(hosts.rootDir('node-2')), false, 'and its root volume (DeleteOnTermination) with it');
});

test('stop powers the host off, start boots it; the address stays the host\'s', async () => {
  await ec2.send(new StopInstancesCommand({ InstanceIds: [first] }));
  await waitUntilInstanceStopped(fast(ec2), { InstanceIds: [first] });
  assert.is(hosts.up.get('node-1'), false);
  assert.is((await instance(first)).PublicIpAddress, undefined);
  await ec2.send(new StartInstancesCommand({ InstanceIds: [first] }));
  await waitUntilInstanceRunning(fast(ec2), { InstanceIds: [first] });
  assert.is(hosts.up.get('node-1'), true);
  assert.is((await instance(first)).PublicIpAddress, '192.0.2.1');
});

test('encrypt by swap carries the files written before the snapshot; the original volume keeps its own', async () => {
  hosts.write('node-1', 'etc/redis.conf', 'written before the snapshot\n');
  await ec2.send(new StopInstancesCommand({ InstanceIds: [first] }));
  await waitUntilInstanceStopped(fast(ec2), { InstanceIds: [first] });
  const oldRoot = (await instance(first)).BlockDeviceMappings![0].Ebs!.VolumeId!;
  const snap = await ec2.send(new CreateSnapshotCommand({ VolumeId: oldRoot }));
  hosts.write('node-1', 'etc/late.txt', 'written after the snapshot\n');
  await waitUntilSnapshotCompleted(fast(ec2), { SnapshotIds: [snap.SnapshotId!] });
  const copy = await ec2.send(new CopySnapshotCommand({ SourceRegion: 'us-east-1', SourceSnapshotId: snap.SnapshotId, Encrypted: true }));
  await waitUntilSnapshotCompleted(fast(ec2), { SnapshotIds: [copy.SnapshotId!] });
  const vol = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: copy.SnapshotId }));
  await waitUntilVolumeAvailable(fast(ec2), { VolumeIds: [vol.VolumeId!] });
  await ec2.send(new DetachVolumeCommand({ VolumeId: oldRoot }));
  await waitUntilVolumeAvailable(fast(ec2), { VolumeIds: [oldRoot] });
  assert.is(existsSync(hosts.rootDir('node-1')), false, 'with its root volume detached the host has no disk');
  await ec2.send(new AttachVolumeCommand({ VolumeId: vol.VolumeId, InstanceId: first, Device: '/dev/sda1' }));
  await ec2.send(new StartInstancesCommand({ InstanceIds: [first] }));
  await waitUntilInstanceRunning(fast(ec2), { InstanceIds: [first] });
  assert.is(hosts.up.get('node-1'), true);
  assert.is(hosts.read('node-1', 'etc/redis.conf'), 'written before the snapshot\n');
  assert.is(hosts.read('node-1', 'etc/late.txt'), null, 'the snapshot is the disk as it was when taken');
  const [root] = (await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [first] }] }))).Volumes!;
  assert.equal([root.VolumeId, root.Encrypted], [vol.VolumeId, true]);

  // Swapping the original back shows it kept everything, the late file included.
  await ec2.send(new StopInstancesCommand({ InstanceIds: [first] }));
  await waitUntilInstanceStopped(fast(ec2), { InstanceIds: [first] });
  await ec2.send(new DetachVolumeCommand({ VolumeId: vol.VolumeId }));
  await waitUntilVolumeAvailable(fast(ec2), { VolumeIds: [vol.VolumeId!] });
  await ec2.send(new AttachVolumeCommand({ VolumeId: oldRoot, InstanceId: first, Device: '/dev/sda1' }));
  await ec2.send(new StartInstancesCommand({ InstanceIds: [first] }));
  await waitUntilInstanceRunning(fast(ec2), { InstanceIds: [first] });
  assert.is(hosts.read('node-1', 'etc/late.txt'), 'written after the snapshot\n');
});

test('a blank volume as root: the start fails the way a broken disk does, and the instance is stopped again', async () => {
  await ec2.send(new StopInstancesCommand({ InstanceIds: [first] }));
  await waitUntilInstanceStopped(fast(ec2), { InstanceIds: [first] });
  const root = (await instance(first)).BlockDeviceMappings![0].Ebs!.VolumeId!;
  await ec2.send(new DetachVolumeCommand({ VolumeId: root }));
  await waitUntilVolumeAvailable(fast(ec2), { VolumeIds: [root] });
  const blank = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 8 }));
  await waitUntilVolumeAvailable(fast(ec2), { VolumeIds: [blank.VolumeId!] });
  await ec2.send(new AttachVolumeCommand({ VolumeId: blank.VolumeId, InstanceId: first, Device: '/dev/sda1' }));
  await ec2.send(new StartInstancesCommand({ InstanceIds: [first] }));
  await t.emu.idle();
  const i = await instance(first);
  assert.equal([i.State!.Name, i.StateReason!.Code], ['stopped', 'Server.InternalError']);
  assert.equal(logged.splice(0), [`${first} (node-1): node-1: no bootable disk`], "the emulator's log says why");
});

test('a launch whose host fails to boot ends terminated (Server.InternalError), its volume gone, the host free again', async () => {
  hosts.failNextBoot = true;
  const [i] = (await ec2.send(new RunInstancesCommand({ ImageId: net.imageId, InstanceType: 't2.micro', MinCount: 1, MaxCount: 1, SubnetId: net.subnets.b }))).Instances!;
  assert.is(i.PrivateIpAddress, '192.0.2.2');
  await t.emu.idle();
  const failed = await instance(i.InstanceId!);
  assert.equal([failed.State!.Name, failed.StateReason!.Code], ['terminated', 'Server.InternalError']);
  assert.is(hosts.up.get('node-2'), false);
  assert.equal((await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [i.InstanceId!] }] }))).Volumes, []);
  const retry = await run('redis-node-1b', net.subnets.b);
  assert.is((await instance(retry)).PrivateIpAddress, '192.0.2.2');
});

test.run();
