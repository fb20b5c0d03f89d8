import { Type } from '@sinclair/typebox';
import { ec2Client } from './aws/client.js';
import { AwsError } from './aws/errors.js';
import { findSubnet, findVpc } from './aws/lookup.js';
import { awsArgs, awsSettings, Cidr, resourceArgs } from './aws/module-args.js';
import { made, planOf, runSteps, type Step } from './aws/steps.js';
import { identityText, missingTags, sdkTags, tagMap, tagSpecifications, tagText, wantedTags, type TagMap } from './aws/tags.js';
import { defineModule, NotYetThere, type Vars } from '../runner/types.js';

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

export interface SubnetActual {
  vpcId: string | null;
  subnet: { id: string; cidr: string; az: string; mapPublicIp: boolean; tags: TagMap } | null;
}

interface SubnetState {
  vpcId?: string;
  subnetId?: string;
}

export function subnetSteps(args: SubnetArgs, actual: SubnetActual): Step<SubnetState>[] {
  const tags = wantedTags(args.name, args.project, args.tags);
  const mapPublic = args.map_public_ip ?? true;
  const vpcName = identityText(args.vpc, args.project);
  const { subnet } = actual;
  const mapStep: Step<SubnetState> = {
    description: `ModifySubnetAttribute MapPublicIpOnLaunch=${mapPublic}`,
    run: async (ec2, s) => void (await ec2.modifySubnetAttribute({ SubnetId: made(s.subnetId, 'the subnet id'), MapPublicIpOnLaunch: { Value: mapPublic } })),
  };
  if (subnet === null) {
    const create: Step<SubnetState> = {
      description: `CreateSubnet ${args.cidr} in ${args.az} in VPC ${actual.vpcId ?? `${args.vpc} (not created yet)`} tags ${tagText(tags)}`,
      async run(ec2, s) {
        if (s.vpcId === undefined) throw new AwsError(`VPC ${vpcName} does not exist: create it first (ec2_vpc)`);
        const r = await ec2.createSubnet({ VpcId: s.vpcId, CidrBlock: args.cidr, AvailabilityZone: args.az, TagSpecifications: tagSpecifications(['subnet'], tags) });
        s.subnetId = made(r.Subnet?.SubnetId, 'the new subnet id');
      },
    };
    // A new subnet maps no public addresses.
    return mapPublic ? [create, mapStep] : [create];
  }
  if (subnet.cidr !== args.cidr || subnet.az !== args.az) {
    throw new AwsError(
      `subnet ${args.name} (${subnet.id}) is ${subnet.cidr} in ${subnet.az}, not ${args.cidr} in ${args.az}: a subnet's range and zone cannot change. Fix the arguments, or delete the subnet to have it made again`,
    );
  }
  const steps: Step<SubnetState>[] = [];
  if (subnet.mapPublicIp !== mapPublic) steps.push(mapStep);
  const lacking = missingTags(tags, subnet.tags);
  if (Object.keys(lacking).length > 0) {
    steps.push({ description: `CreateTags ${subnet.id} ${tagText(lacking)}`, run: async (ec2) => void (await ec2.createTags({ Resources: [subnet.id], Tags: sdkTags(lacking) })) });
  }
  return steps;
}

const resultOf = (subnetId: string | undefined, vpcId: string | undefined): Vars => ({ ...(subnetId === undefined ? {} : { subnet_id: subnetId }), ...(vpcId === undefined ? {} : { vpc_id: vpcId }) });

/** A subnet of a VPC found by its Name (+ project) tag: made with its range and zone, public addressing kept. */
export const ec2Subnet = defineModule({
  name: 'ec2_subnet',
  schema,
  async gather(ctx, args): Promise<SubnetActual> {
    const ec2 = await ec2Client(awsSettings(args, ctx.vars));
    const vpc = await findVpc(ec2, { name: args.vpc, project: args.project });
    // No VPC yet (an earlier ec2_vpc task makes it): the engine decides whether that is "would change".
    if (vpc === null) {
      const steps = subnetSteps(args, { vpcId: null, subnet: null });
      throw new NotYetThere(`ec2_subnet: VPC ${identityText(args.vpc, args.project)} does not exist: create it first (ec2_vpc)`, `VPC ${args.vpc}`, { would: steps.map((st) => st.description).join('; ') });
    }
    const vpcId = made(vpc.VpcId, 'the VPC id');
    const s = await findSubnet(ec2, args, vpcId);
    return {
      vpcId,
      subnet:
        s === null
          ? null
          : { id: made(s.SubnetId, 'the subnet id'), cidr: s.CidrBlock ?? '', az: s.AvailabilityZone ?? '', mapPublicIp: s.MapPublicIpOnLaunch ?? false, tags: tagMap(s.Tags) },
    };
  },
  plan: (args, actual) => planOf(subnetSteps(args, actual), `subnet ${actual.subnet?.id} is as wanted`, resultOf(actual.subnet?.id, actual.vpcId ?? undefined)),
  async legacyApply(ctx, args, _plan, actual) {
    const ec2 = await ec2Client(awsSettings(args, ctx.vars));
    const s = await runSteps(ec2, subnetSteps(args, actual), { vpcId: actual.vpcId ?? undefined, subnetId: actual.subnet?.id });
    return { result: resultOf(s.subnetId, s.vpcId) };
  },
});
