import { Type } from '@sinclair/typebox';
import { ec2Client } from './aws/client.js';
import { AwsError } from './aws/errors.js';
import { findInternetGateway, findVpc } from './aws/lookup.js';
import { awsArgs, awsSettings, resourceArgs } from './aws/module-args.js';
import { made, planOf, runSteps, type Step } from './aws/steps.js';
import { identityText, missingTags, sdkTags, tagMap, tagSpecifications, tagText, wantedTags, type TagMap } from './aws/tags.js';
import { defineModule, NotYetThere, type Vars } from '../runner/types.js';

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

export interface GatewayActual {
  vpcId: string | null;
  gateway: { id: string; attachedTo: string | null; tags: TagMap } | null;
}

interface GatewayState {
  vpcId?: string;
  gatewayId?: string;
}

export function gatewaySteps(args: GatewayArgs, actual: GatewayActual): Step<GatewayState>[] {
  const tags = wantedTags(args.name, args.project, args.tags);
  const vpcName = identityText(args.vpc, args.project);
  const { gateway, vpcId } = actual;
  const attach: Step<GatewayState> = {
    description: `AttachInternetGateway to VPC ${vpcId ?? `${args.vpc} (not created yet)`}`,
    async run(ec2, s) {
      if (s.vpcId === undefined) throw new AwsError(`VPC ${vpcName} does not exist: create it first (ec2_vpc)`);
      await ec2.attachInternetGateway({ InternetGatewayId: made(s.gatewayId, 'the gateway id'), VpcId: s.vpcId });
    },
  };
  if (gateway === null) {
    const create: Step<GatewayState> = {
      description: `CreateInternetGateway tags ${tagText(tags)}`,
      async run(ec2, s) {
        const r = await ec2.createInternetGateway({ TagSpecifications: tagSpecifications(['internet-gateway'], tags) });
        s.gatewayId = made(r.InternetGateway?.InternetGatewayId, 'the new gateway id');
      },
    };
    return [create, attach];
  }
  const steps: Step<GatewayState>[] = [];
  if (gateway.attachedTo === null) steps.push(attach);
  else if (gateway.attachedTo !== vpcId) {
    // Moving it would cut another VPC off the internet: that is for a person to decide.
    throw new AwsError(
      `internet gateway ${args.name} (${gateway.id}) is attached to ${gateway.attachedTo}, not to VPC ${vpcName}${vpcId === null ? ' (which does not exist)' : ` (${vpcId})`}: detach it by hand if it should move`,
    );
  }
  const lacking = missingTags(tags, gateway.tags);
  if (Object.keys(lacking).length > 0) {
    steps.push({ description: `CreateTags ${gateway.id} ${tagText(lacking)}`, run: async (ec2) => void (await ec2.createTags({ Resources: [gateway.id], Tags: sdkTags(lacking) })) });
  }
  return steps;
}

const resultOf = (gatewayId: string | undefined): Vars => (gatewayId === undefined ? {} : { internet_gateway_id: gatewayId });

/** An internet gateway found by its Name (+ project) tag, attached to its VPC. */
export const ec2InternetGateway = defineModule({
  name: 'ec2_internet_gateway',
  schema,
  async gather(ctx, args): Promise<GatewayActual> {
    const ec2 = await ec2Client(awsSettings(args, ctx.vars));
    const [vpc, g] = await Promise.all([findVpc(ec2, { name: args.vpc, project: args.project }), findInternetGateway(ec2, args)]);
    const actual: GatewayActual = {
      vpcId: vpc?.VpcId ?? null,
      gateway: g === null ? null : { id: made(g.InternetGatewayId, 'the gateway id'), attachedTo: g.Attachments?.[0]?.VpcId ?? null, tags: tagMap(g.Tags) },
    };
    if (vpc === null) {
      const steps = gatewaySteps(args, actual);
      throw new NotYetThere(`ec2_internet_gateway: VPC ${identityText(args.vpc, args.project)} does not exist: create it first (ec2_vpc)`, `VPC ${args.vpc}`, { would: steps.map((st) => st.description).join('; ') });
    }
    return actual;
  },
  plan: (args, actual) => planOf(gatewaySteps(args, actual), `internet gateway ${actual.gateway?.id} is attached`, resultOf(actual.gateway?.id)),
  async legacyApply(ctx, args, _plan, actual) {
    const ec2 = await ec2Client(awsSettings(args, ctx.vars));
    const s = await runSteps(ec2, gatewaySteps(args, actual), { vpcId: actual.vpcId ?? undefined, gatewayId: actual.gateway?.id });
    return { result: resultOf(s.gatewayId) };
  },
});
