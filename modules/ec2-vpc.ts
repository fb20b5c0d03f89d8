import { Type } from '@sinclair/typebox';
import { ec2Client } from './aws/client.js';
import { call, callsOp, held, made, type Ec2Op, type HeldSettings } from './aws/ec2-operation.js';
import { applyEc2, createPlan, known, planOf, type Ec2Change } from './aws/ec2-plan.js';
import { AwsError } from './aws/errors.js';
import { findVpc } from './aws/lookup.js';
import { awsArgs, awsSettings, Cidr, resourceArgs } from './aws/module-args.js';
import { createTagsFor, tagMap, tagSpecifications, tagText, wantedTags, type TagMap } from './aws/tags.js';
import { defineModule, type Plan, type Vars } from '../runner/types.js';

const schema = Type.Object(
  {
    ...resourceArgs,
    cidr: Cidr,
    /** The VPC's DNS resolver (default true, as EC2's). */
    dns_support: Type.Optional(Type.Boolean()),
    /** Public DNS names for instances with public addresses (default true; EC2's default is false). */
    dns_hostnames: Type.Optional(Type.Boolean()),
    ...awsArgs,
  },
  { additionalProperties: false },
);

export interface VpcFacts {
  id: string;
  cidr: string;
  tags: TagMap;
  dnsSupport: boolean;
  dnsHostnames: boolean;
}

export interface VpcActual {
  aws: HeldSettings;
  vpc: VpcFacts | null;
}

type VpcArgs = typeof schema.static;

const resultOf = (vpcId: string | undefined): Vars => (vpcId === undefined ? {} : { vpc_id: vpcId });

/** What an existing VPC needs: its DNS settings and the tags it lacks. */
function vpcChanges(args: VpcArgs, vpc: VpcFacts, aws: HeldSettings): Ec2Change[] {
  const changes: Ec2Change[] = [];
  for (const [attribute, now, wanted] of [
    ['EnableDnsSupport', vpc.dnsSupport, args.dns_support ?? true],
    ['EnableDnsHostnames', vpc.dnsHostnames, args.dns_hostnames ?? true],
  ] as const) {
    if (now !== wanted) changes.push({ description: `ModifyVpcAttribute ${attribute}=${wanted}`, op: callsOp(aws, [call('ModifyVpcAttribute', { VpcId: vpc.id, [attribute]: { Value: wanted } })]) });
  }
  const tagging = createTagsFor(vpc.id, wantedTags(args.name, args.project, args.tags), vpc.tags);
  if (tagging !== null) changes.push({ description: tagging.description, op: callsOp(aws, [tagging.step]) });
  return changes;
}

export function vpcPlan(args: VpcArgs, actual: VpcActual): Plan<Ec2Op> {
  const tags = wantedTags(args.name, args.project, args.tags);
  const { vpc, aws } = actual;
  if (vpc === null) {
    const create: Ec2Change = {
      description: `CreateVpc ${args.cidr} tags ${tagText(tags)}`,
      op: callsOp(aws, [call('CreateVpc', { CidrBlock: args.cidr, TagSpecifications: tagSpecifications(['vpc'], tags) }, { vpc: 'Vpc.VpcId' })], { vpc_id: made('vpc') }),
    };
    // A new VPC resolves DNS but gives no hostnames, and has its tags.
    return createPlan(create, vpcChanges(args, { id: 'the new VPC', cidr: args.cidr, tags, dnsSupport: true, dnsHostnames: false }, aws));
  }
  if (vpc.cidr !== args.cidr) {
    throw new AwsError(`VPC ${args.name} (${vpc.id}) has CIDR ${vpc.cidr}, not ${args.cidr}: a VPC's CIDR cannot change. Fix cidr, or delete the VPC to have it made again`);
  }
  return planOf(vpcChanges(args, vpc, aws), `VPC ${vpc.id} is as wanted`, resultOf(vpc.id));
}

/** A VPC found by its Name (+ project) tag: made with its CIDR, DNS settings and tags; tags and DNS kept. */
export const ec2Vpc = defineModule({
  name: 'ec2_vpc',
  schema,
  async gather(ctx, args): Promise<VpcActual> {
    const settings = awsSettings(args, ctx.vars);
    const ec2 = await ec2Client(settings);
    const aws = held(settings);
    const vpc = await findVpc(ec2, args);
    if (vpc === null) return { aws, vpc: null };
    const id = known(vpc.VpcId, 'VPC id');
    const [support, hostnames] = await Promise.all([
      ec2.describeVpcAttribute({ VpcId: id, Attribute: 'enableDnsSupport' }),
      ec2.describeVpcAttribute({ VpcId: id, Attribute: 'enableDnsHostnames' }),
    ]);
    return {
      aws,
      vpc: {
        id,
        cidr: vpc.CidrBlock ?? '',
        tags: tagMap(vpc.Tags),
        dnsSupport: support.EnableDnsSupport?.Value ?? true,
        dnsHostnames: hostnames.EnableDnsHostnames?.Value ?? false,
      },
    };
  },
  plan: vpcPlan,
  apply: applyEc2,
});
