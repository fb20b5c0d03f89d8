import { Type } from '@sinclair/typebox';
import { ec2Client } from './aws/client.js';
import { AwsError } from './aws/errors.js';
import { findVpc } from './aws/lookup.js';
import { awsArgs, awsSettings, Cidr, resourceArgs } from './aws/module-args.js';
import { made, planOf, runSteps, type Step } from './aws/steps.js';
import { missingTags, sdkTags, tagMap, tagSpecifications, tagText, wantedTags, type TagMap } from './aws/tags.js';
import { defineModule, type Vars } from '../runner/types.js';

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
  vpc: VpcFacts | null;
}

interface VpcState {
  vpcId?: string;
}

type DnsAttribute = 'EnableDnsSupport' | 'EnableDnsHostnames';

function dnsStep(attribute: DnsAttribute, value: boolean): Step<VpcState> {
  return {
    description: `ModifyVpcAttribute ${attribute}=${value}`,
    run: async (ec2, s) => void (await ec2.modifyVpcAttribute({ VpcId: made(s.vpcId, 'the VPC id'), [attribute]: { Value: value } })),
  };
}

type VpcArgs = typeof schema.static;

export function vpcSteps(args: VpcArgs, actual: VpcActual): Step<VpcState>[] {
  const tags = wantedTags(args.name, args.project, args.tags);
  const support = args.dns_support ?? true;
  const hostnames = args.dns_hostnames ?? true;
  const { vpc } = actual;
  if (vpc === null) {
    const create: Step<VpcState> = {
      description: `CreateVpc ${args.cidr} tags ${tagText(tags)}`,
      async run(ec2, s) {
        const r = await ec2.createVpc({ CidrBlock: args.cidr, TagSpecifications: tagSpecifications(['vpc'], tags) });
        s.vpcId = made(r.Vpc?.VpcId, 'the new VPC id');
      },
    };
    // A new VPC resolves DNS but gives no hostnames: only what differs from that is a call.
    return [create, ...(support ? [] : [dnsStep('EnableDnsSupport', false)]), ...(hostnames ? [dnsStep('EnableDnsHostnames', true)] : [])];
  }
  if (vpc.cidr !== args.cidr) {
    throw new AwsError(`VPC ${args.name} (${vpc.id}) has CIDR ${vpc.cidr}, not ${args.cidr}: a VPC's CIDR cannot change. Fix cidr, or delete the VPC to have it made again`);
  }
  const steps: Step<VpcState>[] = [];
  if (vpc.dnsSupport !== support) steps.push(dnsStep('EnableDnsSupport', support));
  if (vpc.dnsHostnames !== hostnames) steps.push(dnsStep('EnableDnsHostnames', hostnames));
  const lacking = missingTags(tags, vpc.tags);
  if (Object.keys(lacking).length > 0) {
    steps.push({ description: `CreateTags ${vpc.id} ${tagText(lacking)}`, run: async (ec2) => void (await ec2.createTags({ Resources: [vpc.id], Tags: sdkTags(lacking) })) });
  }
  return steps;
}

const resultOf = (vpcId: string | undefined): Vars => (vpcId === undefined ? {} : { vpc_id: vpcId });

/** A VPC found by its Name (+ project) tag: made with its CIDR, DNS settings and tags; tags and DNS kept. */
export const ec2Vpc = defineModule({
  name: 'ec2_vpc',
  schema,
  async gather(ctx, args): Promise<VpcActual> {
    const ec2 = await ec2Client(awsSettings(args, ctx.vars));
    const vpc = await findVpc(ec2, args);
    if (vpc === null) return { vpc: null };
    const id = made(vpc.VpcId, 'the VPC id');
    const [support, hostnames] = await Promise.all([
      ec2.describeVpcAttribute({ VpcId: id, Attribute: 'enableDnsSupport' }),
      ec2.describeVpcAttribute({ VpcId: id, Attribute: 'enableDnsHostnames' }),
    ]);
    return {
      vpc: {
        id,
        cidr: vpc.CidrBlock ?? '',
        tags: tagMap(vpc.Tags),
        dnsSupport: support.EnableDnsSupport?.Value ?? true,
        dnsHostnames: hostnames.EnableDnsHostnames?.Value ?? false,
      },
    };
  },
  plan: (args, actual) => planOf(vpcSteps(args, actual), `VPC ${actual.vpc?.id} is as wanted`, resultOf(actual.vpc?.id)),
  async legacyApply(ctx, args, _plan, actual) {
    const ec2 = await ec2Client(awsSettings(args, ctx.vars));
    const s = await runSteps(ec2, vpcSteps(args, actual), { vpcId: actual.vpc?.id });
    return { result: resultOf(s.vpcId) };
  },
});
