// ec2_teardown: its plan from given facts (dependency order, the operations), and against the
// emulator: the project's resources deleted through the engine core, nothing else touched, the
// waits bounded by wait_timeout.
import type { EC2 } from '@aws-sdk/client-ec2';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { held, type Ec2Op } from '../../../modules/aws/ec2-operation.js';
import { ec2Teardown, TEARDOWN_ORDER } from '../../../modules/ec2-teardown.js';
import type { Plan } from '../../../runner/types.js';
import { apply, changedThenNot, checkPlan } from '../../support/converge.js';
import { descriptions, testAccount } from './support.js';

const aws = held({ region: 'us-east-1' });
const steps = (p: Plan): unknown[] => p.changes.flatMap((c) => (c.op as Ec2Op).steps.map((s) => (s.do === 'call' ? [s.action, s.params] : s.do === 'wait-gone' ? [s.do, s.ids] : [s.do])));

test('teardown runs in dependency order whatever order the task lists, each deletion its call', () => {
  const p = ec2Teardown.plan({ project: 'p', resources: ['vpcs', 'instances', 'internet_gateways', 'route_tables'] }, {
    aws,
    found: {
      vpcs: [{ id: 'vpc-1', name: 'v' }],
      instances: [{ id: 'i-1', name: 'n1', detail: 'running' }],
      internet_gateways: [{ id: 'igw-1', name: 'g', links: ['vpc-1'] }],
      route_tables: [{ id: 'rtb-1', name: 'rt', links: ['rtbassoc-1'] }],
    },
  });
  assert.equal(descriptions(p), [
    'TerminateInstances i-1 (n1)',
    'wait until they are terminated',
    'DisassociateRouteTable rtbassoc-1 (of rtb-1)',
    'DeleteRouteTable rtb-1 (rt)',
    'DetachInternetGateway igw-1 from vpc-1',
    'DeleteInternetGateway igw-1 (g)',
    'DeleteVpc vpc-1 (v)',
  ]);
  assert.equal(steps(p), [
    ['TerminateInstances', { InstanceIds: ['i-1'] }],
    ['wait-gone', ['i-1']],
    ['DisassociateRouteTable', { AssociationId: 'rtbassoc-1' }],
    ['DeleteRouteTable', { RouteTableId: 'rtb-1' }],
    ['DetachInternetGateway', { InternetGatewayId: 'igw-1', VpcId: 'vpc-1' }],
    ['DeleteInternetGateway', { InternetGatewayId: 'igw-1' }],
    ['DeleteVpc', { VpcId: 'vpc-1' }],
  ]);
  // It waits, so the engine re-plans after it: the next plan must find nothing left.
  assert.is(p.replan, true);
  assert.is((p.changes[1]!.op as Ec2Op).timeoutMs, 900_000);
  // A volume that goes with its instance has no call of its own.
  assert.equal(ec2Teardown.plan({ project: 'p', resources: ['volumes'] }, { aws, found: { volumes: [{ id: 'vol-1', name: '', goesWithInstance: true }] } }).changes, []);
});

test('an instance already shutting down is waited for, not terminated again; deletions without waits need no re-plan', () => {
  const p = ec2Teardown.plan({ project: 'p', resources: ['instances'], wait_timeout: 5 }, { aws, found: { instances: [{ id: 'i-1', name: 'a', detail: 'shutting-down' }, { id: 'i-2', name: 'b', detail: 'stopped' }] } });
  assert.equal(descriptions(p), ['TerminateInstances i-2 (b)', 'wait until i-1 (a), i-2 (b) are terminated']);
  assert.equal(steps(p), [['TerminateInstances', { InstanceIds: ['i-2'] }], ['wait-gone', ['i-1', 'i-2']]]);
  assert.is((p.changes[1]!.op as Ec2Op).timeoutMs, 5000);
  const keys = ec2Teardown.plan({ project: 'p', resources: ['key_pairs'] }, { aws, found: { key_pairs: [{ id: 'key-1', name: 'k' }] } });
  assert.equal(steps(keys), [['DeleteKeyPair', { KeyName: 'k' }]]);
  assert.not.ok(keys.replan);
});

async function network(ec2: EC2, project: string | null): Promise<{ vpc: string; instance: string }> {
  const tags = (name: string) => [{ ResourceType: 'vpc' as const, Tags: [{ Key: 'Name', Value: name }, ...(project === null ? [] : [{ Key: 'project', Value: project }])] }];
  const tagged = (type: 'subnet' | 'internet-gateway' | 'route-table' | 'security-group' | 'key-pair' | 'instance', name: string) => tags(name).map((t) => ({ ...t, ResourceType: type }));
  const { Vpc } = await ec2.createVpc({ CidrBlock: '10.0.0.0/16', TagSpecifications: tags('v') });
  const VpcId = Vpc!.VpcId!;
  const { Subnet } = await ec2.createSubnet({ VpcId, CidrBlock: '10.0.1.0/24', AvailabilityZone: 'us-east-1a', TagSpecifications: tagged('subnet', 's') });
  const { InternetGateway } = await ec2.createInternetGateway({ TagSpecifications: tagged('internet-gateway', 'g') });
  await ec2.attachInternetGateway({ InternetGatewayId: InternetGateway!.InternetGatewayId!, VpcId });
  const { RouteTable } = await ec2.createRouteTable({ VpcId, TagSpecifications: tagged('route-table', 'rt') });
  await ec2.associateRouteTable({ RouteTableId: RouteTable!.RouteTableId!, SubnetId: Subnet!.SubnetId! });
  const { GroupId } = await ec2.createSecurityGroup({ GroupName: 'sg', Description: 'sg', VpcId, TagSpecifications: tagged('security-group', 'sg') });
  const { Images = [] } = await ec2.describeImages({ Owners: ['099720109477'] });
  const r = await ec2.runInstances({ ImageId: Images[0]!.ImageId!, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, SubnetId: Subnet!.SubnetId!, SecurityGroupIds: [GroupId!], TagSpecifications: tagged('instance', 'n') });
  return { vpc: VpcId, instance: r.Instances![0]!.InstanceId! };
}

test('against EC2: everything of the project goes, in one run with its waits; another project\'s network stays; then ok', async () => {
  const acct = await testAccount();
  try {
    const ctx = acct.ctx();
    const mine = await network(acct.ec2, 'p');
    const theirs = await network(acct.ec2, 'other');
    await acct.emu.idle();
    const args = { project: 'p', resources: [...TEARDOWN_ORDER] };
    const run = await changedThenNot(ec2Teardown, ctx, args);
    const deleted = run.result?.result?.deleted as Record<string, string[]>;
    assert.equal(deleted.vpcs, [mine.vpc]);
    assert.equal(deleted.instances, [mine.instance]);
    assert.is((await acct.ec2.describeInstances({ InstanceIds: [mine.instance] })).Reservations![0]!.Instances![0]!.State?.Name, 'terminated');
    assert.equal((await acct.ec2.describeVpcs({})).Vpcs?.map((v) => v.VpcId), [theirs.vpc]);
    assert.is((await acct.ec2.describeInstances({ InstanceIds: [theirs.instance] })).Reservations![0]!.Instances![0]!.State?.Name, 'running');
    assert.equal((await acct.ec2.describeSecurityGroups({ Filters: [{ Name: 'tag:project', Values: ['p'] }] })).SecurityGroups, []);
  } finally {
    await acct.close();
  }
});

test('against EC2: a termination slower than wait_timeout fails the run saying what it last saw; the next check only waits', async () => {
  const acct = await testAccount({ delays: { instance: 4000 } });
  try {
    const ctx = acct.ctx();
    const { instance } = await network(acct.ec2, 'p');
    const args = { project: 'p', resources: ['instances' as const, 'security_groups' as const], wait_timeout: 1 };
    const t0 = performance.now();
    await apply(ec2Teardown, ctx, args).then(
      () => assert.unreachable(),
      (e: Error) => assert.match(e.message, new RegExp(`^timed out after 1 s waiting for instances ${instance} to be terminated \\(last seen: ${instance} (pending|shutting-down)\\)`)),
    );
    assert.ok(performance.now() - t0 < 3000);
    // The group was not deleted under a live instance: the run stopped at the wait.
    const { SecurityGroups = [] } = await acct.ec2.describeSecurityGroups({ Filters: [{ Name: 'tag:project', Values: ['p'] }] });
    assert.is(SecurityGroups.length, 1);
    // Shutting down now: the next plan waits for it (no second TerminateInstances), then deletes the group.
    assert.equal(descriptions(await checkPlan(ec2Teardown, ctx, args)), [`wait until ${instance} (n) is terminated`, `DeleteSecurityGroup ${SecurityGroups[0]!.GroupId} (sg)`]);
  } finally {
    await acct.close();
  }
});

test.run();
