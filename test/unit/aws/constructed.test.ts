// The pieces of the aws_ec2 inventory that are pure: attribute names, hostnames, compose/groups/keyed_groups.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { construct, sanitizeGroupName } from '../../../modules/aws/constructed.js';
import { hostnameOf } from '../../../modules/aws/hostnames.js';
import { instanceHostVars, snakeCase } from '../../../modules/aws/instance-vars.js';

test('attribute names in snake_case as Ansible writes them', () => {
  const cases: [string, string][] = [
    ['PrivateIpAddress', 'private_ip_address'],
    ['AmiLaunchIndex', 'ami_launch_index'],
    ['EbsOptimized', 'ebs_optimized'],
    ['SriovNetSupport', 'sriov_net_support'],
    ['HttpPutResponseHopLimit', 'http_put_response_hop_limit'],
    ['TargetGroupARNs', 'target_group_arns'],
    ['VpcId', 'vpc_id'],
    ['IPv6Address', 'i_pv6_address'],
  ];
  for (const [camel, snake] of cases) assert.is(snakeCase(camel), snake, camel);
});

test('an instance as host variables: nested snake_case, tags as a mapping, dates as text, the region', () => {
  const vars = instanceHostVars(
    {
      InstanceId: 'i-1',
      LaunchTime: new Date('2025-01-02T03:04:05Z'),
      Placement: { AvailabilityZone: 'us-west-2b' },
      Tags: [{ Key: 'Name', Value: 'n1' }, { Key: 'CostCenter', Value: 'x' }],
      NetworkInterfaces: [{ PrivateIpAddress: '10.0.0.5', Association: { PublicIp: '198.18.0.1' } }],
    },
    'us-west-2',
  );
  assert.equal(vars, {
    instance_id: 'i-1',
    launch_time: '2025-01-02T03:04:05.000Z',
    placement: { availability_zone: 'us-west-2b', region: 'us-west-2' },
    tags: { Name: 'n1', CostCenter: 'x' },
    network_interfaces: [{ private_ip_address: '10.0.0.5', association: { public_ip: '198.18.0.1' } }],
  });
});

test('hostnames: first preference with a value; empty values skipped', () => {
  const vars = { instance_id: 'i-1', public_dns_name: '', private_dns_name: 'ip-10-0-0-5.ec2.internal', tags: { Name: '' } };
  assert.equal(hostnameOf(vars, ['tag:Name', 'dns-name', 'private-dns-name']), { name: 'ip-10-0-0-5.ec2.internal', source: 'private-dns-name' });
  assert.is(hostnameOf(vars, ['tag:Name', 'dns-name']), undefined);
});

test('keyed group names: prefix_separator_value, sanitized; without prefix a leading separator unless turned off', () => {
  const vars = { placement: { availability_zone: 'us-east-1a' }, tags: { Env: 'prod' } };
  assert.equal(construct('h', vars, { keyed_groups: [{ key: 'placement.availability_zone', prefix: 'az' }] }).groups, ['az_us_east_1a']);
  assert.equal(construct('h', vars, { keyed_groups: [{ key: 'placement.availability_zone' }] }).groups, ['_us_east_1a']);
  assert.equal(construct('h', vars, { keyed_groups: [{ key: 'placement.availability_zone' }], leading_separator: false }).groups, ['us_east_1a']);
  assert.equal(construct('h', vars, { keyed_groups: [{ key: 'tags', prefix: 'tag', separator: '-' }] }).groups, ['tag_Env_prod']);
  assert.is(sanitizeGroupName('1st-group.x'), '_st_group_x');
});

test('compose sees the instance; groups see composed variables too', () => {
  const r = construct('h', { public_ip_address: '198.18.0.1', tags: { role: 'redis' } }, {
    compose: { ansible_host: 'public_ip_address', port: 22 },
    groups: { reachable: "ansible_host is defined and tags.role == 'redis'", never: 'false' },
  });
  assert.equal(r.vars, { ansible_host: '198.18.0.1', port: 22 });
  assert.equal(r.groups, ['reachable']);
});

test.run();
