// The EC2 emulator on real lab hosts: an instance is a lab host (its address, its sshd), StopInstances
// really powers the host off and StartInstances boots it, an encrypt-by-swap keeps the files on the
// disk, and the background emulator of `rplay lab up --ec2` picks the account up where it was left.
import {
  AttachVolumeCommand,
  CopySnapshotCommand,
  CreateSecurityGroupCommand,
  CreateSnapshotCommand,
  CreateSubnetCommand,
  CreateVolumeCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeVolumesCommand,
  DetachVolumeCommand,
  EC2Client,
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
  type Instance,
} from '@aws-sdk/client-ec2';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ec2EmulatorInfo, runEc2Emulator, stopEc2Emulator } from '../../lab/ec2/daemon.js';
import { startEc2Emulator, type Ec2Emulator } from '../../lab/ec2/emulator.js';
import { labHostProvider } from '../../lab/ec2/host-provider.js';
import { startLab, type Lab } from '../lab-fixture.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const PREFIX = '127.0.7';

interface Run {
  rc: number;
  stdout: string;
  stderr: string;
}

function ssh(address: string, command: string): Promise<Run> {
  const args = ['-i', lab.keyFile, '-o', `UserKnownHostsFile=${lab.knownHostsFile}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', `ubuntu@${address}`, command];
  return new Promise((resolve) => {
    execFile('ssh', args, { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ rc: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

let lab: Lab;
let emu: Ec2Emulator;
let ec2: EC2Client;
let instanceId: string;
let address: string;

const fast = (client: EC2Client) => ({ client, maxWaitTime: 60, minDelay: 0.02, maxDelay: 0.1 });
const client = (url: string): EC2Client => new EC2Client({ region: 'us-east-1', endpoint: url, credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' } });

async function describe(id: string): Promise<Instance> {
  return (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0].Instances![0];
}

test.before(async () => {
  lab = await startLab({ hosts: 2, prefix: PREFIX });
  emu = await startEc2Emulator({ stateFile: join(lab.dir, 'ec2', 'state.json'), hosts: labHostProvider(lab.dir), delays: { instance: 0, snapshot: 0, volume: 0 } });
  ec2 = client(emu.url);
});

test.after(async () => {
  ec2?.destroy();
  await emu?.close();
  await stopEc2Emulator(lab.dir);
  await lab?.down();
});

test("RunInstances gets a lab host: its address, its sshd, the key pair's public key authorized, a fresh disk", async () => {
  const publicKey = readFileSync(`${lab.keyFile}.pub`, 'utf8');
  await ec2.send(new ImportKeyPairCommand({ KeyName: 'redis-cluster-key', PublicKeyMaterial: Buffer.from(publicKey) }));
  const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!;
  const subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: '10.0.1.0/24', AvailabilityZone: 'us-east-1a' }))).Subnet!;
  const sg = await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpc.VpcId, GroupName: 'redis-cluster-sg', Description: 'Redis cluster' }));
  const image = (await ec2.send(new DescribeImagesCommand({ Owners: ['099720109477'], Filters: [{ Name: 'name', Values: ['ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*'] }] }))).Images![0];
  const [i] = (
    await ec2.send(
      new RunInstancesCommand({
        ImageId: image.ImageId,
        InstanceType: 't2.micro',
        MinCount: 1,
        MaxCount: 1,
        KeyName: 'redis-cluster-key',
        SubnetId: subnet.SubnetId,
        SecurityGroupIds: [sg.GroupId!],
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'redis-node-1a' }] }],
      }),
    )
  ).Instances!;
  instanceId = i.InstanceId!;
  address = i.PrivateIpAddress!;
  assert.is(address, `${PREFIX}.1`);
  assert.is(i.PublicIpAddress, address);
  await waitUntilInstanceRunning(fast(ec2), { InstanceIds: [instanceId] });
  const login = await ssh(address, 'hostname; cat ~/.ssh/authorized_keys; ls -A /etc/redis | wc -l; echo written-before-encryption > ~/marker');
  assert.is(login.rc, 0, login.stderr);
  assert.equal(login.stdout.split('\n').slice(0, 3), ['node-1', publicKey.trim(), '0']);
});

test('StopInstances really powers the host off (ssh refused); StartInstances boots it, its files still there', async () => {
  await ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
  await waitUntilInstanceStopped(fast(ec2), { InstanceIds: [instanceId] });
  const refused = await ssh(address, 'true');
  assert.is(refused.rc, 255);
  assert.match(refused.stderr, /Connection refused/);
  await ec2.send(new StartInstancesCommand({ InstanceIds: [instanceId] }));
  await waitUntilInstanceRunning(fast(ec2), { InstanceIds: [instanceId] });
  const back = await ssh(address, 'cat ~/marker');
  assert.equal([back.rc, back.stdout], [0, 'written-before-encryption\n']);
  assert.is((await describe(instanceId)).PublicIpAddress, address);
});

test('encrypt by swap on a real host: the new encrypted root boots with the files written before', async () => {
  await ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
  await waitUntilInstanceStopped(fast(ec2), { InstanceIds: [instanceId] });
  const oldRoot = (await describe(instanceId)).BlockDeviceMappings![0].Ebs!.VolumeId!;
  const snap = await ec2.send(new CreateSnapshotCommand({ VolumeId: oldRoot }));
  await waitUntilSnapshotCompleted(fast(ec2), { SnapshotIds: [snap.SnapshotId!] });
  const copy = await ec2.send(new CopySnapshotCommand({ SourceRegion: 'us-east-1', SourceSnapshotId: snap.SnapshotId, Encrypted: true }));
  await waitUntilSnapshotCompleted(fast(ec2), { SnapshotIds: [copy.SnapshotId!] });
  const vol = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: copy.SnapshotId }));
  await waitUntilVolumeAvailable(fast(ec2), { VolumeIds: [vol.VolumeId!] });
  await ec2.send(new DetachVolumeCommand({ VolumeId: oldRoot }));
  await waitUntilVolumeAvailable(fast(ec2), { VolumeIds: [oldRoot] });
  await ec2.send(new AttachVolumeCommand({ VolumeId: vol.VolumeId, InstanceId: instanceId, Device: '/dev/sda1' }));
  await ec2.send(new StartInstancesCommand({ InstanceIds: [instanceId] }));
  await waitUntilInstanceRunning(fast(ec2), { InstanceIds: [instanceId] });
  const after = await ssh(address, 'cat ~/marker');
  assert.equal([after.rc, after.stdout], [0, 'written-before-encryption\n']);
  const volumes = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [vol.VolumeId!, oldRoot] }))).Volumes!;
  assert.equal(volumes.map((v) => [v.VolumeId, v.Encrypted, v.State]), [[vol.VolumeId, true, 'in-use'], [oldRoot, false, 'available']]);
});

test('the background emulator resumes the account and powers hosts to match: a running instance whose host went down comes back', async () => {
  await emu.close();
  await lab.stop('node-1');
  const info = await runEc2Emulator(lab.dir, { port: 0 });
  assert.is(info.started, true);
  assert.equal(ec2EmulatorInfo(lab.dir), { url: info.url, port: info.port, pid: info.pid });
  ec2.destroy();
  ec2 = client(info.url);
  assert.is((await describe(instanceId)).State!.Name, 'running');
  let login: Run = { rc: -1, stdout: '', stderr: '' };
  for (let i = 0; i < 100 && login.rc !== 0; i++) {
    login = await ssh(address, 'cat ~/marker');
    if (login.rc !== 0) await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal([login.rc, login.stdout], [0, 'written-before-encryption\n']);
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
  await waitUntilInstanceTerminated(fast(ec2), { InstanceIds: [instanceId] });
  assert.match((await ssh(address, 'true')).stderr, /Connection refused/);
  assert.is(await stopEc2Emulator(lab.dir), true);
  assert.is(ec2EmulatorInfo(lab.dir), null);
});

test.run();
