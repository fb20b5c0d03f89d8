// DescribeInstances, Stop/Start/TerminateInstances. The calls check and record; the state changes
// that take time happen in lifecycle/instances.ts.
import type {
  DescribeInstancesRequest,
  DescribeInstancesResult,
  InstanceStateChange,
  Reservation,
  StartInstancesRequest,
  StartInstancesResult,
  StopInstancesRequest,
  StopInstancesResult,
  TerminateInstancesRequest,
  TerminateInstancesResult,
} from '@aws-sdk/client-ec2';
import type { InstanceRecord } from '../account.js';
import type { Ec2Context } from '../context.js';
import { Ec2Error } from '../ec2-error.js';
import { applyFilters } from '../filters.js';
import { rootVolumeOf, startInstance, stopInstance, terminateInstance, volumesOf } from '../lifecycle/instances.js';
import { noPagingWithIds, page } from '../paging.js';
import { findAll, notFound, required } from '../resources.js';
import { instanceView, stateOf } from './instance-view.js';
import { newPublicIp } from './run-instances.js';

/** Terminated instances stay visible this long, as in EC2. */
const TERMINATED_VISIBLE_MS = 60 * 60 * 1000;

function visible(ctx: Ec2Context, i: InstanceRecord): boolean {
  return i.state !== 'terminated' || i.terminatedAt === null || ctx.now().getTime() - Date.parse(i.terminatedAt) < TERMINATED_VISIBLE_MS;
}

export function DescribeInstances(ctx: Ec2Context, input: DescribeInstancesRequest): DescribeInstancesResult {
  noPagingWithIds(input.InstanceIds, input.MaxResults, 'instanceIds');
  const ids = input.InstanceIds;
  const records = ids?.length ? findAll(ctx.region, 'instances', ids) : Object.values(ctx.region.instances).filter((i) => visible(ctx, i));
  const matching = applyFilters(records, input.Filters, {
    'instance-id': (i) => [i.id],
    'instance-state-name': (i) => [i.state],
    'instance-state-code': (i) => [stateOf(i.state).Code],
    'instance-type': (i) => [i.type],
    'availability-zone': (i) => [i.az],
    'vpc-id': (i) => [i.vpcId],
    'subnet-id': (i) => [i.subnetId],
    'image-id': (i) => [i.imageId],
    'key-name': (i) => [i.keyName],
    'reservation-id': (i) => [i.reservationId],
    'private-ip-address': (i) => [i.privateIp],
    'ip-address': (i) => [i.publicIp],
    'instance.group-id': (i) => i.securityGroupIds,
    'instance.group-name': (i) => i.securityGroupIds.map((g) => ctx.region.securityGroups[g]?.name),
    'block-device-mapping.volume-id': (i) => volumesOf(ctx.region, i).map((v) => v.id),
    'block-device-mapping.device-name': (i) => volumesOf(ctx.region, i).map((v) => v.attachment?.device),
    'root-device-type': () => ['ebs'],
    'architecture': (i) => [i.architecture],
    'launch-index': (i) => [i.launchIndex],
    'client-token': (i) => [i.clientToken],
  });
  const p = page(matching, input.MaxResults, input.NextToken);
  const reservations: Reservation[] = [];
  for (const i of p.items) {
    let r = reservations.at(-1);
    if (r?.ReservationId !== i.reservationId) {
      r = { ReservationId: i.reservationId, OwnerId: ctx.runtime.account.accountId, Groups: [], Instances: [] };
      reservations.push(r);
    }
    r.Instances!.push(instanceView(ctx, i));
  }
  return { Reservations: reservations, NextToken: p.nextToken };
}

function change(i: InstanceRecord, previous: InstanceRecord['state']): InstanceStateChange {
  return { InstanceId: i.id, PreviousState: stateOf(previous), CurrentState: stateOf(i.state) };
}

function instancesOf(ctx: Ec2Context, ids: string[] | undefined): InstanceRecord[] {
  const wanted = required(ids, 'InstanceId');
  const missing = wanted.filter((id) => ctx.region.instances[id] === undefined);
  if (missing.length > 0) throw notFound('instances', missing);
  return wanted.map((id) => ctx.region.instances[id]);
}

const reasonNow = (ctx: Ec2Context): string => `User initiated (${ctx.now().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' GMT')})`;

export function StopInstances(ctx: Ec2Context, input: StopInstancesRequest): StopInstancesResult {
  const instances = instancesOf(ctx, input.InstanceIds);
  for (const i of instances) {
    if (!['running', 'stopping', 'stopped'].includes(i.state)) {
      throw new Ec2Error('IncorrectInstanceState', `This instance '${i.id}' is not in a state from which it can be stopped.`);
    }
  }
  const changes = instances.map((i) => {
    const previous = i.state;
    if (previous === 'running') {
      i.state = 'stopping';
      i.transitionReason = reasonNow(ctx);
      stopInstance(ctx.runtime, i);
    }
    return change(i, previous);
  });
  ctx.changed();
  return { StoppingInstances: changes };
}

export function StartInstances(ctx: Ec2Context, input: StartInstancesRequest): StartInstancesResult {
  const instances = instancesOf(ctx, input.InstanceIds);
  for (const i of instances) {
    if (!['running', 'pending', 'stopped'].includes(i.state)) {
      throw new Ec2Error('IncorrectInstanceState', `The instance '${i.id}' is not in a state from which it can be started.`);
    }
    if (i.state === 'stopped' && rootVolumeOf(ctx.region, i) === undefined) {
      throw new Ec2Error('InvalidParameterValue', `Invalid value '${i.id}' for instanceId. Instance does not have a volume attached at root (${i.rootDeviceName})`);
    }
  }
  const changes = instances.map((i) => {
    const previous = i.state;
    if (previous === 'stopped') {
      i.state = 'pending';
      i.transitionReason = '';
      i.publicIp = newPublicIp(ctx, i);
      startInstance(ctx.runtime, i);
    }
    return change(i, previous);
  });
  ctx.changed();
  return { StartingInstances: changes };
}

export function TerminateInstances(ctx: Ec2Context, input: TerminateInstancesRequest): TerminateInstancesResult {
  const instances = instancesOf(ctx, input.InstanceIds);
  const changes = instances.map((i) => {
    const previous = i.state;
    if (previous !== 'terminated' && previous !== 'shutting-down') {
      i.state = 'shutting-down';
      i.transitionReason = reasonNow(ctx);
      terminateInstance(ctx.runtime, ctx.regionName, ctx.region, i);
    }
    return change(i, previous);
  });
  ctx.changed();
  return { TerminatingInstances: changes };
}
