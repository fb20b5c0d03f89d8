// Security group rules as an exact set: planned from given DescribeSecurityGroupRules results (pure),
// then converged against the emulator over HTTP.
import type { SecurityGroupRule } from '@aws-sdk/client-ec2';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ec2SecurityGroup, type GroupActual } from '../../../modules/ec2-security-group.js';
import { ec2Vpc } from '../../../modules/ec2-vpc.js';
import { NotYetThere } from '../../../runner/types.js';
import { AwsError } from '../../../modules/aws/errors.js';
import { actualRules, diffRules, wantedRules } from '../../../modules/aws/sg-rules.js';
import { held, type Ec2Op } from '../../../modules/aws/ec2-operation.js';
import { apply, changedThenNot, checkPlan } from '../../support/converge.js';
import { descriptions, testAccount } from './support.js';

const aws = held({ region: 'us-east-1' });

const rule = (IpProtocol: string, FromPort: number, ToPort: number, CidrIpv4: string, IsEgress = false): SecurityGroupRule => ({
  SecurityGroupRuleId: `sgr-${FromPort}${CidrIpv4.length}`,
  IpProtocol,
  FromPort,
  ToPort,
  CidrIpv4,
  IsEgress,
});

const args = {
  name: 'redis-cluster-sg',
  project: 'redis-lab',
  vpc: 'redis-vpc',
  rules: [
    { ports: 22, cidr: '203.0.113.10/32' },
    { ports: '6379-6380', cidr: '10.0.0.0/16' },
    { ports: '16379-16380', cidr: '10.0.0.0/16' },
  ],
};

const converged: SecurityGroupRule[] = [
  rule('tcp', 22, 22, '203.0.113.10/32'),
  rule('tcp', 6379, 6380, '10.0.0.0/16'),
  rule('tcp', 16379, 16380, '10.0.0.0/16'),
  rule('-1', -1, -1, '0.0.0.0/0', true),
];

const actual = (rules: SecurityGroupRule[]): GroupActual => ({
  aws,
  vpcId: 'vpc-1',
  group: { id: 'sg-1', tags: { Name: 'redis-cluster-sg', project: 'redis-lab' }, ingress: actualRules(rules, false), egress: actualRules(rules, true) },
});

test('the wanted rules, as EC2 has them: ok', () => {
  const p = ec2SecurityGroup.plan(args, actual(converged));
  assert.equal(p.changes, []);
  assert.is(p.msg, 'security group sg-1 has exactly the wanted rules');
});

test('an SSH rule opened to 0.0.0.0/0 by hand is drift: revoked, nothing else', () => {
  const p = ec2SecurityGroup.plan(args, actual([...converged, rule('tcp', 22, 22, '0.0.0.0/0')]));
  assert.equal(descriptions(p), ['RevokeSecurityGroupIngress tcp 22 from 0.0.0.0/0 (not a wanted rule)']);
});

test('a missing bus rule is authorized; a sentinel range nobody uses is revoked', () => {
  const p = ec2SecurityGroup.plan(args, actual([converged[0], converged[1], rule('tcp', 26379, 26381, '10.0.0.0/16'), converged[3]]));
  assert.equal(descriptions(p), [
    'RevokeSecurityGroupIngress tcp 26379-26381 from 10.0.0.0/16 (not a wanted rule)',
    'AuthorizeSecurityGroupIngress tcp 16379-16380 from 10.0.0.0/16',
  ]);
});

test('egress is an exact set too: default all-out, unless told otherwise', () => {
  const p = ec2SecurityGroup.plan({ ...args, rules_egress: [{ ports: 443, cidr: '0.0.0.0/0' }] }, actual(converged));
  assert.equal(descriptions(p), ['RevokeSecurityGroupEgress all traffic to 0.0.0.0/0 (not a wanted rule)', 'AuthorizeSecurityGroupEgress tcp 443 to 0.0.0.0/0']);
});

test('no group yet: only CreateSecurityGroup this round (its rules need its id), the rules it will get in its line', () => {
  const p = ec2SecurityGroup.plan(args, { aws, vpcId: 'vpc-1', group: null });
  assert.equal(descriptions(p), [
    'CreateSecurityGroup redis-cluster-sg in VPC vpc-1 tags Name=redis-cluster-sg,project=redis-lab (then AuthorizeSecurityGroupIngress tcp 22 from 203.0.113.10/32; ' +
      'AuthorizeSecurityGroupIngress tcp 6379-6380 from 10.0.0.0/16; AuthorizeSecurityGroupIngress tcp 16379-16380 from 10.0.0.0/16)',
  ]);
  assert.is(p.replan, true);
  const [step] = (p.changes[0]!.op as Ec2Op).steps;
  assert.equal(step, {
    do: 'call',
    action: 'CreateSecurityGroup',
    params: { GroupName: 'redis-cluster-sg', Description: 'redis-cluster-sg', VpcId: 'vpc-1', TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'Name', Value: 'redis-cluster-sg' }, { Key: 'project', Value: 'redis-lab' }] }] },
    save: { group: 'GroupId' },
  });
});

test('a revoke is the rule as EC2 has it, on that group; an authorize carries its description', () => {
  const p = ec2SecurityGroup.plan(
    { ...args, rules: [...args.rules.slice(0, 2), { ports: '16379-16380', cidr: '10.0.0.0/16', description: 'bus' }] },
    actual([...converged.slice(0, 2), rule('tcp', 22, 22, '0.0.0.0/0'), converged[3]!]),
  );
  assert.equal(
    p.changes.map((c) => (c.op as Ec2Op).steps),
    [
      [{ do: 'call', action: 'RevokeSecurityGroupIngress', params: { GroupId: 'sg-1', IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0', Description: undefined }] }] } }],
      [{ do: 'call', action: 'AuthorizeSecurityGroupIngress', params: { GroupId: 'sg-1', IpPermissions: [{ IpProtocol: 'tcp', FromPort: 16379, ToPort: 16380, IpRanges: [{ CidrIp: '10.0.0.0/16', Description: 'bus' }] }] } }],
    ],
  );
});

test('against EC2: with no VPC yet, the check says what it would do once there is one, and calls nothing else', async () => {
  const acct = await testAccount();
  try {
    const e = await checkPlan(ec2SecurityGroup, acct.ctx(), args).then(() => undefined, (x: unknown) => x);
    assert.instance(e, NotYetThere);
    assert.is((e as NotYetThere).would?.split('; ')[0], 'CreateSecurityGroup redis-cluster-sg in VPC redis-vpc (not created yet) tags Name=redis-cluster-sg,project=redis-lab');
    assert.is((e as NotYetThere).would?.split('; ').length, 4);
    assert.equal((await acct.ec2.describeSecurityGroups({ Filters: [{ Name: 'group-name', Values: ['redis-cluster-sg'] }] })).SecurityGroups, []);
  } finally {
    await acct.close();
  }
});

test('port lists, ranges and several CIDRs expand to atomic rules; duplicates collapse', () => {
  const rules = wantedRules([{ ports: [6379, '6380', 6379], cidr: ['10.0.0.0/16', '10.1.0.0/16'] }, { proto: 'all', cidr: '0.0.0.0/0' }, { proto: 'icmp', cidr: '10.0.0.0/16' }], 'rules');
  assert.equal(
    rules.map((r) => `${r.protocol} ${r.fromPort}-${r.toPort} ${r.peer}`),
    ['tcp 6379-6379 10.0.0.0/16', 'tcp 6379-6379 10.1.0.0/16', 'tcp 6380-6380 10.0.0.0/16', 'tcp 6380-6380 10.1.0.0/16', '-1 -1--1 0.0.0.0/0', 'icmp -1--1 10.0.0.0/16'],
  );
  assert.equal(diffRules(rules, rules), { authorize: [], revoke: [] });
});

test('bad rules are errors naming the rule', () => {
  const bad: [object, string][] = [
    [{ cidr: '10.0.0.0/16' }, 'rules[0]: ports is required for proto tcp'],
    [{ ports: '70000', cidr: '10.0.0.0/16' }, "rules[0]: ports '70000' is not a port (0-65535) or a range like 6379-6380"],
    [{ ports: 22, cidr: 'my-ip' }, "rules[0]: cidr 'my-ip' is not a CIDR (203.0.113.0/24) or a security group id (sg-…)"],
    [{ proto: 'all', ports: 22, cidr: '0.0.0.0/0' }, 'rules[0]: proto all covers every port; remove ports'],
    [{ proto: 'sctp', ports: 22, cidr: '0.0.0.0/0' }, "rules[0]: proto 'sctp' is not tcp, udp, icmp, all or a protocol number"],
  ];
  for (const [spec, message] of bad) {
    try {
      wantedRules([spec as never], 'rules');
      assert.unreachable(message);
    } catch (e) {
      assert.instance(e, AwsError);
      assert.is((e as Error).message, message);
    }
  }
});

test('against EC2: created with its rules, a hand-added 0.0.0.0/0 SSH rule revoked, then ok', async () => {
  const acct = await testAccount();
  try {
    const ctx = acct.ctx();
    await apply(ec2Vpc, ctx, { name: 'redis-vpc', project: 'redis-lab', cidr: '10.0.0.0/16' });
    const first = await changedThenNot(ec2SecurityGroup, ctx, args);
    assert.is(first.planned.changes.length, 1);
    assert.is(first.applied.length, 4);
    const { SecurityGroups = [] } = await acct.ec2.describeSecurityGroups({ Filters: [{ Name: 'group-name', Values: ['redis-cluster-sg'] }] });
    const id = SecurityGroups[0].GroupId!;
    await acct.ec2.authorizeSecurityGroupIngress({ GroupId: id, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] });
    assert.equal(descriptions(await checkPlan(ec2SecurityGroup, ctx, args)), ['RevokeSecurityGroupIngress tcp 22 from 0.0.0.0/0 (not a wanted rule)']);
    await changedThenNot(ec2SecurityGroup, ctx, args);
    const { SecurityGroupRules = [] } = await acct.ec2.describeSecurityGroupRules({ Filters: [{ Name: 'group-id', Values: [id] }] });
    assert.equal(
      SecurityGroupRules.filter((r) => !r.IsEgress).map((r) => `${r.FromPort}-${r.ToPort} ${r.CidrIpv4}`).sort(),
      ['16379-16380 10.0.0.0/16', '22-22 203.0.113.10/32', '6379-6380 10.0.0.0/16'],
    );
    assert.equal(first.result?.result, { group_id: id });
  } finally {
    await acct.close();
  }
});

test.run();
