// Security group rules as sets: the wanted rules (written compactly in a playbook: port lists and
// ranges, several CIDRs) and the group's actual ones reduce to the same atomic form — protocol, port
// range, one peer — so "what to authorize" and "what to revoke" are set differences.
import type { IpPermission, SecurityGroupRule } from '@aws-sdk/client-ec2';
import { AwsError } from './errors.js';

/** A rule as a playbook writes it. */
export interface RuleSpec {
  /** tcp (default), udp, icmp, all (or -1), or a protocol number. */
  proto?: string | number;
  /** 22, "6379-6380", or a list of those; not for proto all; optional for icmp (all types). */
  ports?: number | string | (number | string)[];
  /** Where traffic may come from (ingress) or go to (egress): CIDRs, or security group ids (sg-…). */
  cidr: string | string[];
  description?: string;
}

/** One atomic rule: EC2's SecurityGroupRule. Ports are -1 for "all" (protocol -1, all ICMP). */
export interface Rule {
  protocol: string;
  fromPort: number;
  toPort: number;
  peer: string;
  description?: string;
}

const PROTOCOLS: Record<string, string> = { tcp: 'tcp', '6': 'tcp', udp: 'udp', '17': 'udp', icmp: 'icmp', '1': 'icmp', all: '-1', '-1': '-1' };
const CIDR4 = /^(\d{1,3})(\.\d{1,3}){3}\/\d{1,2}$/;
const CIDR6 = /^[0-9a-fA-F:]+\/\d{1,3}$/;
const GROUP = /^sg-[0-9a-f]+$/;

function protocolOf(p: string | number | undefined, where: string): string {
  const raw = String(p ?? 'tcp').toLowerCase();
  const known = PROTOCOLS[raw];
  if (known !== undefined) return known;
  if (/^\d+$/.test(raw) && Number(raw) <= 255) return raw;
  throw new AwsError(`${where}: proto '${raw}' is not tcp, udp, icmp, all or a protocol number`);
}

function portRange(p: number | string, where: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(String(p).trim());
  const from = m === null ? NaN : Number(m[1]);
  const to = m === null ? NaN : Number(m[2] ?? m[1]);
  if (!(from >= 0 && to <= 65535 && from <= to)) throw new AwsError(`${where}: ports '${p}' is not a port (0-65535) or a range like 6379-6380`);
  return [from, to];
}

function ranges(spec: RuleSpec, protocol: string, where: string): [number, number][] {
  const ports = spec.ports === undefined ? [] : Array.isArray(spec.ports) ? spec.ports : [spec.ports];
  if (protocol === '-1') {
    if (ports.length > 0) throw new AwsError(`${where}: proto all covers every port; remove ports`);
    return [[-1, -1]];
  }
  if (ports.length === 0) {
    if (protocol === 'icmp') return [[-1, -1]];
    throw new AwsError(`${where}: ports is required for proto ${protocol}`);
  }
  return ports.map((p) => portRange(p, where));
}

function peers(spec: RuleSpec, where: string): string[] {
  const list = Array.isArray(spec.cidr) ? spec.cidr : [spec.cidr];
  if (list.length === 0) throw new AwsError(`${where}: cidr is empty`);
  for (const c of list) {
    if (!CIDR4.test(c) && !CIDR6.test(c) && !GROUP.test(c)) throw new AwsError(`${where}: cidr '${c}' is not a CIDR (203.0.113.0/24) or a security group id (sg-…)`);
  }
  return list;
}

/** The atomic rules a playbook's rule list asks for (duplicates collapse). */
export function wantedRules(specs: readonly RuleSpec[], what: string): Rule[] {
  const out = new Map<string, Rule>();
  specs.forEach((spec, i) => {
    const where = `${what}[${i}]`;
    const protocol = protocolOf(spec.proto, where);
    for (const [fromPort, toPort] of ranges(spec, protocol, where)) {
      for (const peer of peers(spec, where)) {
        const r: Rule = { protocol, fromPort, toPort, peer, ...(spec.description === undefined ? {} : { description: spec.description }) };
        if (!out.has(ruleKey(r))) out.set(ruleKey(r), r);
      }
    }
  });
  return [...out.values()];
}

/** A group's rules as DescribeSecurityGroupRules lists them, in one direction. */
export function actualRules(rules: readonly SecurityGroupRule[], egress: boolean): Rule[] {
  return rules
    .filter((r) => (r.IsEgress ?? false) === egress)
    .map((r) => ({
      protocol: PROTOCOLS[String(r.IpProtocol ?? '-1').toLowerCase()] ?? String(r.IpProtocol),
      fromPort: r.FromPort ?? -1,
      toPort: r.ToPort ?? -1,
      peer: r.CidrIpv4 ?? r.CidrIpv6 ?? r.ReferencedGroupInfo?.GroupId ?? r.PrefixListId ?? '?',
      ...(r.Description === undefined || r.Description === '' ? {} : { description: r.Description }),
    }));
}

export function ruleKey(r: Rule): string {
  return `${r.protocol}|${r.fromPort}|${r.toPort}|${r.peer}`;
}

/** What must be authorized and what revoked for the group to have exactly the wanted rules. */
export function diffRules(wanted: readonly Rule[], actual: readonly Rule[]): { authorize: Rule[]; revoke: Rule[] } {
  const have = new Set(actual.map(ruleKey));
  const want = new Set(wanted.map(ruleKey));
  return { authorize: wanted.filter((r) => !have.has(ruleKey(r))), revoke: actual.filter((r) => !want.has(ruleKey(r))) };
}

/** "tcp 22 from 203.0.113.7/32", "all traffic to 0.0.0.0/0". */
export function ruleText(r: Rule, egress: boolean): string {
  const what =
    r.protocol === '-1'
      ? 'all traffic'
      : r.fromPort === -1
        ? `${protoName(r.protocol)} (all)`
        : `${protoName(r.protocol)} ${r.fromPort === r.toPort ? r.fromPort : `${r.fromPort}-${r.toPort}`}`;
  return `${what} ${egress ? 'to' : 'from'} ${r.peer}`;
}

function protoName(p: string): string {
  return /^\d+$/.test(p) ? `protocol ${p}` : p;
}

export function ipPermission(r: Rule): IpPermission {
  const ports = r.protocol === '-1' ? {} : { FromPort: r.fromPort, ToPort: r.toPort };
  const Description = r.description;
  const peer = GROUP.test(r.peer)
    ? { UserIdGroupPairs: [{ GroupId: r.peer, Description }] }
    : r.peer.startsWith('pl-')
      ? { PrefixListIds: [{ PrefixListId: r.peer, Description }] }
      : r.peer.includes(':')
        ? { Ipv6Ranges: [{ CidrIpv6: r.peer, Description }] }
        : { IpRanges: [{ CidrIp: r.peer, Description }] };
  return { IpProtocol: r.protocol, ...ports, ...peer };
}
