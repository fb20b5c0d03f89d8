// DescribeInstanceStatus (what waitUntilInstanceStatusOk polls): a running instance passes its checks;
// other states are listed only with IncludeAllInstances, as in EC2.
import type { DescribeInstanceStatusRequest, DescribeInstanceStatusResult, InstanceStatus, InstanceStatusSummary } from '@aws-sdk/client-ec2';
import type { InstanceRecord } from '../account.js';
import type { Ec2Context } from '../context.js';
import { applyFilters } from '../filters.js';
import { noPagingWithIds, page } from '../paging.js';
import { findAll } from '../resources.js';
import { stateOf } from './instance-view.js';

function summary(i: InstanceRecord): InstanceStatusSummary {
  return i.state === 'running' ? { Status: 'ok', Details: [{ Name: 'reachability', Status: 'passed' }] } : { Status: 'not-applicable' };
}

export function DescribeInstanceStatus(ctx: Ec2Context, input: DescribeInstanceStatusRequest): DescribeInstanceStatusResult {
  noPagingWithIds(input.InstanceIds, input.MaxResults, 'instanceIds');
  const ids = input.InstanceIds;
  let records = ids?.length ? findAll(ctx.region, 'instances', ids) : Object.values(ctx.region.instances);
  if (input.IncludeAllInstances !== true) records = records.filter((i) => i.state === 'running');
  const matching = applyFilters(records, input.Filters, {
    'availability-zone': (i) => [i.az],
    'instance-state-name': (i) => [i.state],
    'instance-state-code': (i) => [stateOf(i.state).Code],
    'instance-status.status': (i) => [summary(i).Status],
    'system-status.status': (i) => [summary(i).Status],
  });
  const p = page(matching, input.MaxResults, input.NextToken);
  const statuses: InstanceStatus[] = p.items.map((i) => ({
    InstanceId: i.id,
    AvailabilityZone: i.az,
    InstanceState: stateOf(i.state),
    InstanceStatus: summary(i),
    SystemStatus: summary(i),
    Events: [],
  }));
  return { InstanceStatuses: statuses, NextToken: p.nextToken };
}
