// Security groups and their rules. Rules are kept one per protocol/port range/peer (EC2's
// SecurityGroupRule); DescribeSecurityGroups groups them back into IpPermissions.
import type {
  AuthorizeSecurityGroupEgressRequest,
  AuthorizeSecurityGroupIngressRequest,
  AuthorizeSecurityGroupIngressResult,
  CreateSecurityGroupRequest,
  CreateSecurityGroupResult,
  DeleteSecurityGroupRequest,
  DescribeSecurityGroupRulesRequest,
  DescribeSecurityGroupRulesResult,
  DescribeSecurityGroupsRequest,
  DescribeSecurityGroupsResult,
  IpPermission,
  RevokeSecurityGroupEgressRequest,
  RevokeSecurityGroupIngressRequest,
  RevokeSecurityGroupIngressResult,
  SecurityGroup,
  SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import type { RegionState, RuleRecord, SecurityGroupRecord } from '../account.js';
import { ACCOUNT_ID } from '../account.js';
import { cidrOrFail } from '../cidr.js';
import type { Ec2Context } from '../context.js';
import { Ec2Error } from '../ec2-error.js';
import { applyFilters } from '../filters.js';
import { newId } from '../ids.js';
import { noPagingWithIds, page } from '../paging.js';
import { find, findAll, required } from '../resources.js';
import { sdkTags, tagsFor } from '../tags.js';

type Direction = 'ingress' | 'egress';
type RuleChange = AuthorizeSecurityGroupIngressRequest | AuthorizeSecurityGroupEgressRequest | RevokeSecurityGroupIngressRequest | RevokeSecurityGroupEgressRequest;

const PROTOCOLS: Record<string, string> = { tcp: 'tcp', '6': 'tcp', udp: 'udp', '17': 'udp', icmp: 'icmp', '1': 'icmp', '-1': '-1', all: '-1' };

const allOut = (): RuleRecord => ({ id: newId('sgr'), protocol: '-1', fromPort: null, toPort: null, cidrIpv4: '0.0.0.0/0' });

export function defaultSecurityGroup(vpcId: string): SecurityGroupRecord {
  const id = newId('sg');
  return {
    id,
    name: 'default',
    description: 'default VPC security group',
    vpcId,
    ingress: [{ id: newId('sgr'), protocol: '-1', fromPort: null, toPort: null, groupId: id }],
    egress: [allOut()],
    tags: [],
  };
}

function peerOf(r: RuleRecord): string {
  return r.cidrIpv4 ?? r.cidrIpv6 ?? r.groupId ?? r.prefixListId ?? '';
}

function sameRule(a: RuleRecord, b: RuleRecord): boolean {
  return a.protocol === b.protocol && a.fromPort === b.fromPort && a.toPort === b.toPort && peerOf(a) === peerOf(b);
}

function ruleText(r: RuleRecord): string {
  const ports = r.protocol === '-1' ? 'ALL' : `${r.protocol.toUpperCase()}, from port: ${r.fromPort}, to port: ${r.toPort}`;
  return `peer: ${peerOf(r)}, ${ports}, ALLOW`;
}

function portsOf(p: IpPermission, protocol: string): { fromPort: number | null; toPort: number | null } {
  if (protocol === '-1') return { fromPort: null, toPort: null };
  const from = p.FromPort;
  const to = p.ToPort;
  if (from === undefined || to === undefined) {
    throw new Ec2Error('InvalidParameterValue', `Invalid value for portRange. Must specify both from and to ports with TCP/UDP.`);
  }
  if (protocol === 'icmp') return { fromPort: from, toPort: to };
  if (from < 0 || to > 65535 || from > to) throw new Ec2Error('InvalidParameterValue', `Invalid port range: ${from}-${to}`);
  return { fromPort: from, toPort: to };
}

/** The atomic rules an IpPermissions list (or the old flat parameters) describes. */
function rulesOf(region: RegionState, input: RuleChange): RuleRecord[] {
  const permissions: IpPermission[] = [...(input.IpPermissions ?? [])];
  if (input.IpProtocol !== undefined || input.CidrIp !== undefined) {
    permissions.push({
      IpProtocol: input.IpProtocol ?? '-1',
      FromPort: input.FromPort,
      ToPort: input.ToPort,
      IpRanges: input.CidrIp === undefined ? [] : [{ CidrIp: input.CidrIp }],
    });
  }
  const rules: RuleRecord[] = [];
  for (const p of permissions) {
    const raw = required(p.IpProtocol, 'IpPermissions.IpProtocol').toLowerCase();
    const protocol = PROTOCOLS[raw] ?? (/^\d+$/.test(raw) && Number(raw) <= 255 ? raw : null);
    if (protocol === null) throw new Ec2Error('InvalidParameterValue', `Invalid value '${p.IpProtocol}' for IP protocol. Unknown protocol.`);
    const ports = portsOf(p, protocol);
    const base = { protocol, ...ports };
    for (const r of p.IpRanges ?? []) {
      const cidr = required(r.CidrIp, 'IpRanges.CidrIp');
      cidrOrFail(cidr, 'cidrIp');
      rules.push({ id: newId('sgr'), ...base, cidrIpv4: cidr, description: r.Description });
    }
    for (const r of p.Ipv6Ranges ?? []) rules.push({ id: newId('sgr'), ...base, cidrIpv6: required(r.CidrIpv6, 'Ipv6Ranges.CidrIpv6'), description: r.Description });
    for (const g of p.UserIdGroupPairs ?? []) {
      const peer = find(region, 'securityGroups', required(g.GroupId, 'UserIdGroupPairs.GroupId'));
      rules.push({ id: newId('sgr'), ...base, groupId: peer.id, description: g.Description });
    }
    for (const l of p.PrefixListIds ?? []) rules.push({ id: newId('sgr'), ...base, prefixListId: required(l.PrefixListId, 'PrefixListIds.PrefixListId'), description: l.Description });
  }
  if (rules.length === 0) throw new Ec2Error('MissingParameter', 'The request must contain the parameter ipPermissions');
  return rules;
}

function groupOf(ctx: Ec2Context, input: { GroupId?: string; GroupName?: string }): SecurityGroupRecord {
  if (input.GroupId === undefined && input.GroupName !== undefined) {
    // Group names address groups of the default VPC only, and this account has none.
    throw new Ec2Error('InvalidGroup.NotFound', `The security group '${input.GroupName}' does not exist in default VPC 'none'`);
  }
  return find(ctx.region, 'securityGroups', required(input.GroupId, 'GroupId'));
}

function ruleView(g: SecurityGroupRecord, r: RuleRecord, egress: boolean): SecurityGroupRule {
  return {
    SecurityGroupRuleId: r.id,
    GroupId: g.id,
    GroupOwnerId: ACCOUNT_ID,
    IsEgress: egress,
    IpProtocol: r.protocol,
    FromPort: r.fromPort ?? -1,
    ToPort: r.toPort ?? -1,
    CidrIpv4: r.cidrIpv4,
    CidrIpv6: r.cidrIpv6,
    PrefixListId: r.prefixListId,
    ReferencedGroupInfo: r.groupId === undefined ? undefined : { GroupId: r.groupId, UserId: ACCOUNT_ID },
    Description: r.description,
    Tags: [],
  };
}

/** Rules grouped into IpPermissions by protocol and port range, in the order they were added. */
function permissionsView(rules: readonly RuleRecord[]): IpPermission[] {
  const out: IpPermission[] = [];
  const byKey = new Map<string, IpPermission>();
  for (const r of rules) {
    const key = `${r.protocol}/${r.fromPort}/${r.toPort}`;
    let p = byKey.get(key);
    if (p === undefined) {
      p = { IpProtocol: r.protocol, IpRanges: [], Ipv6Ranges: [], UserIdGroupPairs: [], PrefixListIds: [] };
      if (r.fromPort !== null) p.FromPort = r.fromPort;
      if (r.toPort !== null) p.ToPort = r.toPort;
      byKey.set(key, p);
      out.push(p);
    }
    if (r.cidrIpv4 !== undefined) p.IpRanges!.push({ CidrIp: r.cidrIpv4, Description: r.description });
    if (r.cidrIpv6 !== undefined) p.Ipv6Ranges!.push({ CidrIpv6: r.cidrIpv6, Description: r.description });
    if (r.groupId !== undefined) p.UserIdGroupPairs!.push({ GroupId: r.groupId, UserId: ACCOUNT_ID, Description: r.description });
    if (r.prefixListId !== undefined) p.PrefixListIds!.push({ PrefixListId: r.prefixListId, Description: r.description });
  }
  return out;
}

function groupView(ctx: Ec2Context, g: SecurityGroupRecord): SecurityGroup {
  return {
    GroupId: g.id,
    GroupName: g.name,
    Description: g.description,
    VpcId: g.vpcId,
    OwnerId: ctx.runtime.account.accountId,
    SecurityGroupArn: `arn:aws:ec2:${ctx.regionName}:${ctx.runtime.account.accountId}:security-group/${g.id}`,
    IpPermissions: permissionsView(g.ingress),
    IpPermissionsEgress: permissionsView(g.egress),
    Tags: sdkTags(g.tags),
  };
}

export function CreateSecurityGroup(ctx: Ec2Context, input: CreateSecurityGroupRequest): CreateSecurityGroupResult {
  const name = required(input.GroupName, 'GroupName');
  const description = required(input.Description, 'GroupDescription');
  if (input.VpcId === undefined) throw new Ec2Error('VPCIdNotSpecified', 'No default VPC for this user');
  const vpc = find(ctx.region, 'vpcs', input.VpcId);
  if (name === 'default') throw new Ec2Error('InvalidParameterValue', 'Cannot use reserved security group name: default');
  if (name.startsWith('sg-')) throw new Ec2Error('InvalidParameterValue', "Group names may not be in the format sg-*.");
  if (Object.values(ctx.region.securityGroups).some((g) => g.vpcId === vpc.id && g.name === name)) {
    throw new Ec2Error('InvalidGroup.Duplicate', `The security group '${name}' already exists for VPC '${vpc.id}'`);
  }
  const g: SecurityGroupRecord = { id: newId('sg'), name, description, vpcId: vpc.id, ingress: [], egress: [allOut()], tags: tagsFor(input.TagSpecifications, 'security-group') };
  ctx.region.securityGroups[g.id] = g;
  ctx.changed();
  return { GroupId: g.id, Tags: sdkTags(g.tags), SecurityGroupArn: groupView(ctx, g).SecurityGroupArn };
}

function authorize(ctx: Ec2Context, input: AuthorizeSecurityGroupIngressRequest | AuthorizeSecurityGroupEgressRequest, direction: Direction): AuthorizeSecurityGroupIngressResult {
  const g = groupOf(ctx, input);
  const rules = rulesOf(ctx.region, input);
  rules.forEach((r, i) => {
    if ([...g[direction], ...rules.slice(0, i)].some((x) => sameRule(x, r))) {
      throw new Ec2Error('InvalidPermission.Duplicate', `the specified rule "${ruleText(r)}" already exists`);
    }
  });
  g[direction].push(...rules);
  ctx.changed();
  return { Return: true, SecurityGroupRules: rules.map((r) => ruleView(g, r, direction === 'egress')) };
}

function revoke(ctx: Ec2Context, input: RevokeSecurityGroupIngressRequest | RevokeSecurityGroupEgressRequest, direction: Direction): RevokeSecurityGroupIngressResult {
  const g = groupOf(ctx, input);
  let doomed: RuleRecord[];
  if (input.SecurityGroupRuleIds?.length) {
    doomed = input.SecurityGroupRuleIds.map((id) => {
      const r = g[direction].find((x) => x.id === id);
      if (r === undefined) throw new Ec2Error('InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${id}' does not exist`);
      return r;
    });
  } else {
    // In a non-default VPC, a rule that does not exist fails the whole call and nothing is revoked.
    doomed = rulesOf(ctx.region, input).map((wanted) => {
      const r = g[direction].find((x) => sameRule(x, wanted));
      if (r === undefined) throw new Ec2Error('InvalidPermission.NotFound', `The specified rule does not exist in this security group.`);
      return r;
    });
  }
  g[direction] = g[direction].filter((r) => !doomed.includes(r));
  ctx.changed();
  return {
    Return: true,
    RevokedSecurityGroupRules: doomed.map((r) => {
      const v = ruleView(g, r, direction === 'egress');
      return { SecurityGroupRuleId: v.SecurityGroupRuleId, GroupId: g.id, IsEgress: v.IsEgress, IpProtocol: v.IpProtocol, FromPort: v.FromPort, ToPort: v.ToPort, CidrIpv4: v.CidrIpv4, CidrIpv6: v.CidrIpv6, PrefixListId: v.PrefixListId, ReferencedGroupId: r.groupId, Description: v.Description };
    }),
  };
}

export const AuthorizeSecurityGroupIngress = (ctx: Ec2Context, input: AuthorizeSecurityGroupIngressRequest): AuthorizeSecurityGroupIngressResult => authorize(ctx, input, 'ingress');
export const AuthorizeSecurityGroupEgress = (ctx: Ec2Context, input: AuthorizeSecurityGroupEgressRequest): AuthorizeSecurityGroupIngressResult => authorize(ctx, input, 'egress');
export const RevokeSecurityGroupIngress = (ctx: Ec2Context, input: RevokeSecurityGroupIngressRequest): RevokeSecurityGroupIngressResult => revoke(ctx, input, 'ingress');
export const RevokeSecurityGroupEgress = (ctx: Ec2Context, input: RevokeSecurityGroupEgressRequest): RevokeSecurityGroupIngressResult => revoke(ctx, input, 'egress');

export function DeleteSecurityGroup(ctx: Ec2Context, input: DeleteSecurityGroupRequest): object {
  const g = groupOf(ctx, input);
  if (g.name === 'default') throw new Ec2Error('CannotDelete', `the specified group: "${g.id}" name: "default" cannot be deleted by a user`);
  const usedByInstance = Object.values(ctx.region.instances).some((i) => i.state !== 'terminated' && i.securityGroupIds.includes(g.id));
  const referenced = Object.values(ctx.region.securityGroups).some((o) => o.id !== g.id && [...o.ingress, ...o.egress].some((r) => r.groupId === g.id));
  if (usedByInstance || referenced) throw new Ec2Error('DependencyViolation', `resource ${g.id} has a dependent object`);
  delete ctx.region.securityGroups[g.id];
  ctx.changed();
  return { Return: true, GroupId: g.id };
}

export function DescribeSecurityGroups(ctx: Ec2Context, input: DescribeSecurityGroupsRequest): DescribeSecurityGroupsResult {
  noPagingWithIds(input.GroupIds, input.MaxResults, 'groupIds');
  let records = input.GroupIds?.length ? findAll(ctx.region, 'securityGroups', input.GroupIds) : Object.values(ctx.region.securityGroups);
  if (input.GroupNames?.length) {
    const missing = input.GroupNames.find((n) => !records.some((g) => g.name === n));
    if (missing !== undefined) throw new Ec2Error('InvalidGroup.NotFound', `The security group '${missing}' does not exist in default VPC 'none'`);
    records = records.filter((g) => input.GroupNames!.includes(g.name));
  }
  const cidrs = (rules: RuleRecord[]): (string | undefined)[] => rules.map((r) => r.cidrIpv4);
  const matching = applyFilters(records, input.Filters, {
    'group-id': (g) => [g.id],
    'group-name': (g) => [g.name],
    'vpc-id': (g) => [g.vpcId],
    description: (g) => [g.description],
    'owner-id': () => [ctx.runtime.account.accountId],
    'ip-permission.cidr': (g) => cidrs(g.ingress),
    'ip-permission.from-port': (g) => g.ingress.map((r) => r.fromPort),
    'ip-permission.to-port': (g) => g.ingress.map((r) => r.toPort),
    'ip-permission.protocol': (g) => g.ingress.map((r) => r.protocol),
    'ip-permission.group-id': (g) => g.ingress.map((r) => r.groupId),
    'egress.ip-permission.cidr': (g) => cidrs(g.egress),
  });
  const p = page(matching, input.MaxResults, input.NextToken);
  return { SecurityGroups: p.items.map((g) => groupView(ctx, g)), NextToken: p.nextToken };
}

export function DescribeSecurityGroupRules(ctx: Ec2Context, input: DescribeSecurityGroupRulesRequest): DescribeSecurityGroupRulesResult {
  const all = Object.values(ctx.region.securityGroups).flatMap((g) => [
    ...g.ingress.map((r) => ruleView(g, r, false)),
    ...g.egress.map((r) => ruleView(g, r, true)),
  ]);
  const ids = input.SecurityGroupRuleIds;
  const missing = ids?.find((id) => !all.some((r) => r.SecurityGroupRuleId === id));
  if (missing !== undefined) throw new Ec2Error('InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${missing}' does not exist`);
  const selected = ids?.length ? all.filter((r) => ids.includes(r.SecurityGroupRuleId ?? '')) : all;
  const matching = applyFilters(selected, input.Filters, {
    'group-id': (r) => [r.GroupId],
    'security-group-rule-id': (r) => [r.SecurityGroupRuleId],
  });
  const p = page(matching, input.MaxResults, input.NextToken);
  return { SecurityGroupRules: p.items, NextToken: p.nextToken };
}
