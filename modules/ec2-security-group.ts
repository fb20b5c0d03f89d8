import { Type } from '@sinclair/typebox';
import { ec2Client } from './aws/client.js';
import { AwsError } from './aws/errors.js';
import { findSecurityGroup, findVpc } from './aws/lookup.js';
import { awsArgs, awsSettings, resourceArgs } from './aws/module-args.js';
import { actualRules, diffRules, ipPermission, ruleText, wantedRules, type Rule, type RuleSpec } from './aws/sg-rules.js';
import { made, planOf, runSteps, type Step } from './aws/steps.js';
import { identityText, missingTags, sdkTags, tagMap, tagSpecifications, tagText, wantedTags, type TagMap } from './aws/tags.js';
import { defineModule, NotYetThere, type Vars } from '../runner/types.js';

const RuleArg = Type.Object(
  {
    proto: Type.Optional(Type.Union([Type.String(), Type.Integer()])),
    ports: Type.Optional(Type.Union([Type.Integer(), Type.String(), Type.Array(Type.Union([Type.Integer(), Type.String()]))])),
    cidr: Type.Union([Type.String(), Type.Array(Type.String())]),
    description: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

const schema = Type.Object(
  {
    ...resourceArgs,
    /** The VPC's Name tag (same project). The group's own name is `name`. */
    vpc: Type.String({ minLength: 1 }),
    /** Fixed at creation (EC2 cannot change it); default: the name. */
    description: Type.Optional(Type.String({ minLength: 1 })),
    /** Inbound rules, exactly: missing ones are authorized, any other is revoked. */
    rules: Type.Array(RuleArg),
    /** Outbound rules, exactly; default: all traffic to anywhere (a new group's own rule). */
    rules_egress: Type.Optional(Type.Array(RuleArg)),
    ...awsArgs,
  },
  { additionalProperties: false },
);

type GroupArgs = typeof schema.static;

const ALL_OUT: RuleSpec[] = [{ proto: 'all', cidr: '0.0.0.0/0' }];

export interface GroupActual {
  vpcId: string | null;
  group: { id: string; tags: TagMap; ingress: Rule[]; egress: Rule[] } | null;
}

interface GroupState {
  groupId?: string;
}

function ruleSteps(wanted: Rule[], actual: Rule[], egress: boolean): Step<GroupState>[] {
  const { authorize, revoke } = diffRules(wanted, actual);
  const direction = egress ? 'Egress' : 'Ingress';
  const groupId = (s: GroupState): string => made(s.groupId, 'the security group id');
  return [
    ...revoke.map(
      (r): Step<GroupState> => ({
        description: `RevokeSecurityGroup${direction} ${ruleText(r, egress)} (not a wanted rule)`,
        run: async (ec2, s) => {
          const input = { GroupId: groupId(s), IpPermissions: [ipPermission({ ...r, description: undefined })] };
          await (egress ? ec2.revokeSecurityGroupEgress(input) : ec2.revokeSecurityGroupIngress(input));
        },
      }),
    ),
    ...authorize.map(
      (r): Step<GroupState> => ({
        description: `AuthorizeSecurityGroup${direction} ${ruleText(r, egress)}`,
        run: async (ec2, s) => {
          const input = { GroupId: groupId(s), IpPermissions: [ipPermission(r)] };
          await (egress ? ec2.authorizeSecurityGroupEgress(input) : ec2.authorizeSecurityGroupIngress(input));
        },
      }),
    ),
  ];
}

export function groupSteps(args: GroupArgs, actual: GroupActual): Step<GroupState>[] {
  const tags = wantedTags(args.name, args.project, args.tags);
  const ingress = wantedRules(args.rules, 'rules');
  const egress = wantedRules(args.rules_egress ?? ALL_OUT, 'rules_egress');
  const { group } = actual;
  if (group === null) {
    const create: Step<GroupState> = {
      description: `CreateSecurityGroup ${args.name} in VPC ${actual.vpcId ?? `${args.vpc} (not created yet)`} tags ${tagText(tags)}`,
      async run(ec2, s) {
        if (actual.vpcId === null) throw new AwsError(`VPC ${identityText(args.vpc, args.project)} does not exist: create it first (ec2_vpc)`);
        const r = await ec2.createSecurityGroup({
          GroupName: args.name,
          Description: args.description ?? args.name,
          VpcId: actual.vpcId,
          TagSpecifications: tagSpecifications(['security-group'], tags),
        });
        s.groupId = made(r.GroupId, 'the new security group id');
      },
    };
    // A new group has no inbound rules and allows all outbound traffic.
    return [create, ...ruleSteps(ingress, [], false), ...ruleSteps(egress, wantedRules(ALL_OUT, 'default'), true)];
  }
  const steps: Step<GroupState>[] = [...ruleSteps(ingress, group.ingress, false), ...ruleSteps(egress, group.egress, true)];
  const lacking = missingTags(tags, group.tags);
  if (Object.keys(lacking).length > 0) {
    steps.push({ description: `CreateTags ${group.id} ${tagText(lacking)}`, run: async (ec2) => void (await ec2.createTags({ Resources: [group.id], Tags: sdkTags(lacking) })) });
  }
  return steps;
}

const resultOf = (groupId: string | undefined): Vars => (groupId === undefined ? {} : { group_id: groupId });

/**
 * A security group of a VPC whose rules are exactly the wanted ones: a rule added by hand (SSH from
 * 0.0.0.0/0) is drift, reported by --check and revoked by a run.
 */
export const ec2SecurityGroup = defineModule({
  name: 'ec2_security_group',
  schema,
  async gather(ctx, args): Promise<GroupActual> {
    // Bad rules fail before any call, the same in check mode and in a run.
    wantedRules(args.rules, 'rules');
    wantedRules(args.rules_egress ?? ALL_OUT, 'rules_egress');
    const ec2 = await ec2Client(awsSettings(args, ctx.vars));
    const vpc = await findVpc(ec2, { name: args.vpc, project: args.project });
    if (vpc === null) {
      const steps = groupSteps(args, { vpcId: null, group: null });
      throw new NotYetThere(`ec2_security_group: VPC ${identityText(args.vpc, args.project)} does not exist: create it first (ec2_vpc)`, `VPC ${args.vpc}`, { would: steps.map((st) => st.description).join('; ') });
    }
    const vpcId = made(vpc.VpcId, 'the VPC id');
    const g = await findSecurityGroup(ec2, args.name, vpcId);
    if (g === null) return { vpcId, group: null };
    const id = made(g.GroupId, 'the security group id');
    const rules = [];
    let token: string | undefined;
    do {
      const page = await ec2.describeSecurityGroupRules({ Filters: [{ Name: 'group-id', Values: [id] }], NextToken: token });
      rules.push(...(page.SecurityGroupRules ?? []));
      token = page.NextToken;
    } while (token !== undefined);
    return { vpcId, group: { id, tags: tagMap(g.Tags), ingress: actualRules(rules, false), egress: actualRules(rules, true) } };
  },
  plan: (args, actual) => planOf(groupSteps(args, actual), `security group ${actual.group?.id} has exactly the wanted rules`, resultOf(actual.group?.id)),
  async legacyApply(ctx, args, _plan, actual) {
    const ec2 = await ec2Client(awsSettings(args, ctx.vars));
    const s = await runSteps(ec2, groupSteps(args, actual), { groupId: actual.group?.id });
    return { result: resultOf(s.groupId) };
  },
});
