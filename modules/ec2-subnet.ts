import { Type } from '@sinclair/typebox';
import { ec2Client } from './aws/client.js';
import { call, callsOp, held, made, type Ec2Op, type HeldSettings } from './aws/ec2-operation.js';
import { applyEc2, createPlan, known, planOf, wouldText, type Ec2Change } from './aws/ec2-plan.js';
import { AwsError } from './aws/errors.js';
import { findSubnet, findVpc } from './aws/lookup.js';
import { awsArgs, awsSettings, Cidr, resourceArgs } from './aws/module-args.js';
import { createTagsFor, identityText, tagMap, tagSpecifications, tagText, wantedTags, type TagMap } from './aws/tags.js';
import { defineModule, NotYetThere, type Plan, type Vars } from '../runner/types.js';

const schema = Type.Object(
  {
    ...resourceArgs,
    /** The VPC's Name tag (same project). */
    vpc: Type.String({ minLength: 1 }),
    cidr: Cidr,
    /** Availability zone, e.g. us-east-1a. */
    az: Type.String({ minLength: 1 }),
    /** Instances launched here get a public address (default true: the runbook's public subnets). */
    map_public_ip: Type.Optional(Type.Boolean()),
    ...awsArgs,
  },
  { additionalProperties: false },
);

type SubnetArgs = typeof schema.static;

export interface SubnetFacts {
  id: string;
  cidr: string;
  az: string;
  mapPublicIp: boolean;
  tags: TagMap;
}

export interface SubnetActual {
  aws: HeldSettings;
  vpcId: string;
  subnet: SubnetFacts | null;
}

const resultOf = (subnetId: string | undefined, vpcId: string): Vars => ({ ...(subnetId === undefined ? {} : { subnet_id: subnetId }), vpc_id: vpcId });

function subnetChanges(args: SubnetArgs, subnet: SubnetFacts, aws: HeldSettings): Ec2Change[] {
  const changes: Ec2Change[] = [];
  const mapPublic = args.map_public_ip ?? true;
  if (subnet.mapPublicIp !== mapPublic) {
    changes.push({ description: `ModifySubnetAttribute MapPublicIpOnLaunch=${mapPublic}`, op: callsOp(aws, [call('ModifySubnetAttribute', { SubnetId: subnet.id, MapPublicIpOnLaunch: { Value: mapPublic } })]) });
  }
  const tagging = createTagsFor(subnet.id, wantedTags(args.name, args.project, args.tags), subnet.tags);
  if (tagging !== null) changes.push({ description: tagging.description, op: callsOp(aws, [tagging.step]) });
  return changes;
}

/** The create of a subnet in VPC `vpcId` (written `vpcText`), and what the next round would then do. */
function creation(args: SubnetArgs, aws: HeldSettings, vpcId: string, vpcText: string): [Ec2Change, Ec2Change[]] {
  const tags = wantedTags(args.name, args.project, args.tags);
  const create: Ec2Change = {
    description: `CreateSubnet ${args.cidr} in ${args.az} in VPC ${vpcText} tags ${tagText(tags)}`,
    op: callsOp(aws, [call('CreateSubnet', { VpcId: vpcId, CidrBlock: args.cidr, AvailabilityZone: args.az, TagSpecifications: tagSpecifications(['subnet'], tags) }, { subnet: 'Subnet.SubnetId' })], {
      subnet_id: made('subnet'),
      vpc_id: vpcId,
    }),
  };
  // A new subnet maps no public addresses.
  return [create, subnetChanges(args, { id: 'the new subnet', cidr: args.cidr, az: args.az, mapPublicIp: false, tags }, aws)];
}

export function subnetPlan(args: SubnetArgs, actual: SubnetActual): Plan<Ec2Op> {
  const { subnet, aws, vpcId } = actual;
  if (subnet === null) {
    const [create, then] = creation(args, aws, vpcId, vpcId);
    return createPlan(create, then, resultOf(undefined, vpcId));
  }
  if (subnet.cidr !== args.cidr || subnet.az !== args.az) {
    throw new AwsError(
      `subnet ${args.name} (${subnet.id}) is ${subnet.cidr} in ${subnet.az}, not ${args.cidr} in ${args.az}: a subnet's range and zone cannot change. Fix the arguments, or delete the subnet to have it made again`,
    );
  }
  return planOf(subnetChanges(args, subnet, aws), `subnet ${subnet.id} is as wanted`, resultOf(subnet.id, vpcId));
}

/** A subnet of a VPC found by its Name (+ project) tag: made with its range and zone, public addressing kept. */
export const ec2Subnet = defineModule({
  name: 'ec2_subnet',
  schema,
  async gather(ctx, args): Promise<SubnetActual> {
    const settings = awsSettings(args, ctx.vars);
    const ec2 = await ec2Client(settings);
    const aws = held(settings);
    const vpc = await findVpc(ec2, { name: args.vpc, project: args.project });
    // No VPC yet (an earlier ec2_vpc task makes it): the engine decides whether that is "would change".
    if (vpc === null) {
      const [create, then] = creation(args, aws, '', `${args.vpc} (not created yet)`);
      throw new NotYetThere(`ec2_subnet: VPC ${identityText(args.vpc, args.project)} does not exist: create it first (ec2_vpc)`, `VPC ${args.vpc}`, { would: wouldText(create, then) });
    }
    const vpcId = known(vpc.VpcId, 'VPC id');
    const s = await findSubnet(ec2, args, vpcId);
    return {
      aws,
      vpcId,
      subnet:
        s === null
          ? null
          : { id: known(s.SubnetId, 'subnet id'), cidr: s.CidrBlock ?? '', az: s.AvailabilityZone ?? '', mapPublicIp: s.MapPublicIpOnLaunch ?? false, tags: tagMap(s.Tags) },
    };
  },
  plan: subnetPlan,
  apply: applyEc2,
});
