import { Type } from '@sinclair/typebox';
import { ec2Client } from './aws/client.js';
import { call, callsOp, held, made, type Ec2Op, type HeldSettings } from './aws/ec2-operation.js';
import { applyEc2, createPlan, known, planOf, wouldText, type Ec2Change } from './aws/ec2-plan.js';
import { findSecurityGroup, findVpc } from './aws/lookup.js';
import { awsArgs, awsSettings, resourceArgs } from './aws/module-args.js';
import { actualRules, diffRules, ipPermission, ruleText, wantedRules, type Rule, type RuleSpec } from './aws/sg-rules.js';
import { createTagsFor, identityText, tagMap, tagSpecifications, tagText, wantedTags, type TagMap } from './aws/tags.js';
import { defineModule, NotYetThere, type Plan, type Vars } from '../runner/types.js';

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

export interface GroupFacts {
  id: string;
  tags: TagMap;
  ingress: Rule[];
  egress: Rule[];
}

export interface GroupActual {
  aws: HeldSettings;
  vpcId: string;
  group: GroupFacts | null;
}

function ruleChanges(groupId: string, wanted: Rule[], actual: Rule[], egress: boolean, aws: HeldSettings): Ec2Change[] {
  const { authorize, revoke } = diffRules(wanted, actual);
  const direction = egress ? 'Egress' : 'Ingress';
  return [
    ...revoke.map((r): Ec2Change => ({
      description: `RevokeSecurityGroup${direction} ${ruleText(r, egress)} (not a wanted rule)`,
      op: callsOp(aws, [call(`RevokeSecurityGroup${direction}`, { GroupId: groupId, IpPermissions: [ipPermission({ ...r, description: undefined })] })]),
    })),
    ...authorize.map((r): Ec2Change => ({
      description: `AuthorizeSecurityGroup${direction} ${ruleText(r, egress)}`,
      op: callsOp(aws, [call(`AuthorizeSecurityGroup${direction}`, { GroupId: groupId, IpPermissions: [ipPermission(r)] })]),
    })),
  ];
}

function groupChanges(args: GroupArgs, group: GroupFacts, aws: HeldSettings): Ec2Change[] {
  const changes = [
    ...ruleChanges(group.id, wantedRules(args.rules, 'rules'), group.ingress, false, aws),
    ...ruleChanges(group.id, wantedRules(args.rules_egress ?? ALL_OUT, 'rules_egress'), group.egress, true, aws),
  ];
  const tagging = createTagsFor(group.id, wantedTags(args.name, args.project, args.tags), group.tags);
  if (tagging !== null) changes.push({ description: tagging.description, op: callsOp(aws, [tagging.step]) });
  return changes;
}

function creation(args: GroupArgs, aws: HeldSettings, vpcId: string, vpcText: string): [Ec2Change, Ec2Change[]] {
  const tags = wantedTags(args.name, args.project, args.tags);
  const params = { GroupName: args.name, Description: args.description ?? args.name, VpcId: vpcId, TagSpecifications: tagSpecifications(['security-group'], tags) };
  const create: Ec2Change = {
    description: `CreateSecurityGroup ${args.name} in VPC ${vpcText} tags ${tagText(tags)}`,
    op: callsOp(aws, [call('CreateSecurityGroup', params, { group: 'GroupId' })], { group_id: made('group') }),
  };
  // A new group has no inbound rules and allows all outbound traffic.
  return [create, groupChanges(args, { id: 'the new group', tags, ingress: [], egress: wantedRules(ALL_OUT, 'default') }, aws)];
}

export function groupPlan(args: GroupArgs, actual: GroupActual): Plan<Ec2Op> {
  const { group, aws, vpcId } = actual;
  if (group === null) {
    const [create, then] = creation(args, aws, vpcId, vpcId);
    return createPlan(create, then);
  }
  return planOf(groupChanges(args, group, aws), `security group ${group.id} has exactly the wanted rules`, resultOf(group.id));
}

const resultOf = (groupId: string): Vars => ({ group_id: groupId });

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
    const settings = awsSettings(args, ctx.vars);
    const ec2 = await ec2Client(settings);
    const aws = held(settings);
    const vpc = await findVpc(ec2, { name: args.vpc, project: args.project });
    if (vpc === null) {
      const would = wouldText(...creation(args, aws, '', `${args.vpc} (not created yet)`));
      throw new NotYetThere(`ec2_security_group: VPC ${identityText(args.vpc, args.project)} does not exist: create it first (ec2_vpc)`, `VPC ${args.vpc}`, { would });
    }
    const vpcId = known(vpc.VpcId, 'VPC id');
    const g = await findSecurityGroup(ec2, args.name, vpcId);
    if (g === null) return { aws, vpcId, group: null };
    const id = known(g.GroupId, 'security group id');
    const rules = [];
    let token: string | undefined;
    do {
      const page = await ec2.describeSecurityGroupRules({ Filters: [{ Name: 'group-id', Values: [id] }], NextToken: token });
      rules.push(...(page.SecurityGroupRules ?? []));
      token = page.NextToken;
    } while (token !== undefined);
    return { aws, vpcId, group: { id, tags: tagMap(g.Tags), ingress: actualRules(rules, false), egress: actualRules(rules, true) } };
  },
  plan: groupPlan,
  apply: applyEc2,
});
