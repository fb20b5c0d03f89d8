// ec2_instance's plan from given Describe results (pure): one instance per Name, duplicates refused,
// the newest Canonical Ubuntu 24.04 image, the root volume encrypted with the configured key.
import type { Image } from '@aws-sdk/client-ec2';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ec2Instance, type InstanceActual, type LaunchTarget } from '../../../modules/ec2-instance.js';
import { CANONICAL_OWNER, newestImage, UBUNTU_NOBLE_AMD64 } from '../../../modules/aws/ami.js';
import { AwsError } from '../../../modules/aws/errors.js';
import { descriptions } from './support.js';

const args = {
  name: 'redis-node-1a',
  project: 'redis-lab',
  instance_type: 't2.micro',
  subnet: 'redis-subnet-1a',
  security_group: 'redis-cluster-sg',
  key_name: 'redis-cluster-key',
  kms_key_id: 'alias/redis-lab-ebs',
};

const launch: LaunchTarget = {
  subnet: { id: 'subnet-1a', vpcId: 'vpc-1', az: 'us-east-1a' },
  groupId: 'sg-1',
  keyExists: true,
  image: { id: 'ami-0noble', name: 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250305', rootDevice: '/dev/sda1' },
};

const plan = (actual: InstanceActual) => ec2Instance.plan(args, actual);
const tags = { Name: 'redis-node-1a', project: 'redis-lab' };

test('no instance: RunInstances with the image, network, key and an encrypted root; then the waits', () => {
  assert.equal(descriptions(plan({ instances: [], launch })), [
    'RunInstances t2.micro ami-0noble (ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250305) subnet subnet-1a (redis-subnet-1a, us-east-1a) ' +
      'security group sg-1 key redis-cluster-key, root /dev/sda1 encrypted with alias/redis-lab-ebs, tags Name=redis-node-1a,project=redis-lab',
    'wait until it is running',
    'wait until SSH answers on port 22 of its public address',
  ]);
});

test('in a check run before the network exists: the launch names what it would use', () => {
  const p = plan({ instances: [], launch: { ...launch, subnet: null, groupId: null, keyExists: false } });
  assert.match(descriptions(p)[0], /subnet redis-subnet-1a \(not created yet\) security group redis-cluster-sg \(not created yet\) key redis-cluster-key \(not imported yet\)/);
});

test('one running instance: ok, with its id, addresses and zone as the result', () => {
  const p = plan({ instances: [{ id: 'i-1', state: 'running', tags, privateIp: '10.0.1.10', publicIp: '198.18.0.7', az: 'us-east-1a' }], launch: null });
  assert.equal(p.changes, []);
  assert.equal(p.result, { instance_id: 'i-1', state: 'running', private_ip: '10.0.1.10', public_ip: '198.18.0.7', availability_zone: 'us-east-1a' });
});

test('a stopped instance is started, not replaced', () => {
  const p = plan({ instances: [{ id: 'i-1', state: 'stopped', tags, az: 'us-east-1a' }], launch: null });
  assert.equal(descriptions(p), ['StartInstances i-1 (stopped)', 'wait until i-1 is running', 'wait until SSH answers on port 22 of its public address']);
});

test('a tag removed by hand from a running instance is put back', () => {
  const p = plan({ instances: [{ id: 'i-1', state: 'running', tags: { Name: 'redis-node-1a' } }], launch: null });
  assert.equal(descriptions(p), ['CreateTags i-1 project=redis-lab']);
});

test('two instances with the Name: an error naming both, nothing terminated', () => {
  try {
    plan({ instances: [{ id: 'i-aaa', state: 'running', tags }, { id: 'i-bbb', state: 'stopped', tags }], launch: null });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, AwsError);
    assert.is(
      (e as Error).message,
      '2 instances are named redis-node-1a (project redis-lab): i-aaa (running), i-bbb (stopped). Terminate or rename the extra one(s), then run again',
    );
  }
});

test('no image matches: an error naming the owner and the pattern', () => {
  try {
    plan({ instances: [], launch: { ...launch, image: null } });
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).message, `no available AMI of owner ${CANONICAL_OWNER} is named like ${UBUNTU_NOBLE_AMD64} in this region`);
  }
});

const image = (ImageId: string, Name: string, CreationDate: string, OwnerId = CANONICAL_OWNER, State = 'available'): Image => ({ ImageId, Name, CreationDate, OwnerId, State: State as Image['State'] });

test('AMI choice: the newest available amd64 noble image of Canonical, not a newer look-alike or arm64', () => {
  const images = [
    image('ami-old', 'ubuntu/images/hvm-ssd/ubuntu-noble-24.04-amd64-server-20240423', '2024-04-23T21:05:12.000Z'),
    image('ami-new', 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250305', '2025-03-05T08:41:27.000Z'),
    image('ami-arm', 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-20250401', '2025-04-01T08:43:02.000Z'),
    image('ami-fake', 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250401', '2025-04-01T12:00:00.000Z', '111122223333'),
    image('ami-jammy', 'ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20250501', '2025-05-01T00:00:00.000Z'),
    image('ami-pending', 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250601', '2025-06-01T00:00:00.000Z', CANONICAL_OWNER, 'pending'),
  ];
  assert.is(newestImage(images, CANONICAL_OWNER, UBUNTU_NOBLE_AMD64)?.ImageId, 'ami-new');
  assert.is(newestImage(images.slice(2), CANONICAL_OWNER, UBUNTU_NOBLE_AMD64), null);
});

test.run();
