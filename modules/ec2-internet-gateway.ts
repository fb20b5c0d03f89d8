import { Type } from '@sinclair/typebox';
import { ec2Client } from './aws/client.js';
import { call, callsOp, held, made, type Ec2Op, type HeldSettings } from './aws/ec2-operation.js';
import { applyEc2, createPlan, known, planOf, wouldText, type Ec2Change } from './aws/ec2-plan.js';
import { AwsError } from './aws/errors.js';
import { findInternetGateway, findVpc } from './aws/lookup.js';
import { awsArgs, awsSettings, resourceArgs } from './aws/module-args.js';
import { createTagsFor, identityText, tagMap, tagSpecifications, tagText, wantedTags, type TagMap } from './aws/tags.js';
import { defineModule, NotYetThere, type Plan, type Vars } from '../runner/types.js';

const schema = Type.Object(
  {
    ...resourceArgs,
    /** The VPC's Name tag (same project) the gateway is attached to. */
    vpc: Type.String({ minLength: 1 }),
    ...awsArgs,
  },
  { additionalProperties: false },
);

type GatewayArgs = typeof schema.static;

export interface GatewayFacts {
  id: string;
  attachedTo: string | null;
  tags: TagMap;
}

export interface GatewayActual {
  aws: HeldSettings;
  vpcId: string;
  gateway: GatewayFacts | null;
}

/** The VPC the gateway belongs to: its id, and how the lines name it. */
interface VpcRef {
  id: string;
  text: string;
  /** For messages: "VPC redis-vpc (project p) (vpc-1)". */
  long: string;
}

const resultOf = (gatewayId: string | undefined): Vars => (gatewayId === undefined ? {} : { internet_gateway_id: gatewayId });

function gatewayChanges(args: GatewayArgs, gateway: GatewayFacts, vpc: VpcRef, aws: HeldSettings): Ec2Change[] {
  const changes: Ec2Change[] = [];
  if (gateway.attachedTo === null) {
    changes.push({ description: `AttachInternetGateway to VPC ${vpc.text}`, op: callsOp(aws, [call('AttachInternetGateway', { InternetGatewayId: gateway.id, VpcId: vpc.id })]) });
  } else if (gateway.attachedTo !== vpc.id) {
    // Moving it would cut another VPC off the internet: that is for a person to decide.
    throw new AwsError(`internet gateway ${args.name} (${gateway.id}) is attached to ${gateway.attachedTo}, not to ${vpc.long}: detach it by hand if it should move`);
  }
  const tagging = createTagsFor(gateway.id, wantedTags(args.name, args.project, args.tags), gateway.tags);
  if (tagging !== null) changes.push({ description: tagging.description, op: callsOp(aws, [tagging.step]) });
  return changes;
}

function creation(args: GatewayArgs, vpc: VpcRef, aws: HeldSettings): [Ec2Change, Ec2Change[]] {
  const tags = wantedTags(args.name, args.project, args.tags);
  const create: Ec2Change = {
    description: `CreateInternetGateway tags ${tagText(tags)}`,
    op: callsOp(aws, [call('CreateInternetGateway', { TagSpecifications: tagSpecifications(['internet-gateway'], tags) }, { gateway: 'InternetGateway.InternetGatewayId' })], {
      internet_gateway_id: made('gateway'),
    }),
  };
  // A new gateway is attached to nothing.
  return [create, gatewayChanges(args, { id: 'the new gateway', attachedTo: null, tags }, vpc, aws)];
}

export function gatewayPlan(args: GatewayArgs, actual: GatewayActual): Plan<Ec2Op> {
  const { gateway, aws, vpcId } = actual;
  const vpc: VpcRef = { id: vpcId, text: vpcId, long: `VPC ${identityText(args.vpc, args.project)} (${vpcId})` };
  if (gateway === null) {
    const [create, then] = creation(args, vpc, aws);
    return createPlan(create, then);
  }
  return planOf(gatewayChanges(args, gateway, vpc, aws), `internet gateway ${gateway.id} is attached`, resultOf(gateway.id));
}

/** An internet gateway found by its Name (+ project) tag, attached to its VPC. */
export const ec2InternetGateway = defineModule({
  name: 'ec2_internet_gateway',
  schema,
  async gather(ctx, args): Promise<GatewayActual> {
    const settings = awsSettings(args, ctx.vars);
    const ec2 = await ec2Client(settings);
    const aws = held(settings);
    const [vpc, g] = await Promise.all([findVpc(ec2, { name: args.vpc, project: args.project }), findInternetGateway(ec2, args)]);
    const gateway = g === null ? null : { id: known(g.InternetGatewayId, 'internet gateway id'), attachedTo: g.Attachments?.[0]?.VpcId ?? null, tags: tagMap(g.Tags) };
    if (vpc === null) {
      const absent: VpcRef = { id: '', text: `${args.vpc} (not created yet)`, long: `VPC ${identityText(args.vpc, args.project)} (which does not exist)` };
      const would = gateway === null ? wouldText(...creation(args, absent, aws)) : gatewayChanges(args, gateway, absent, aws).map((c) => c.description).join('; ');
      throw new NotYetThere(`ec2_internet_gateway: VPC ${identityText(args.vpc, args.project)} does not exist: create it first (ec2_vpc)`, `VPC ${args.vpc}`, { would });
    }
    return { aws, vpcId: known(vpc.VpcId, 'VPC id'), gateway };
  },
  plan: gatewayPlan,
  apply: applyEc2,
});
