// An instance as the aws_ec2 inventory shows it to playbooks: DescribeInstances' attributes in
// snake_case (PrivateIpAddress → private_ip_address, Placement.AvailabilityZone →
// placement.availability_zone), tags as a mapping, as Ansible's amazon.aws plugin writes them.
import type { Instance } from '@aws-sdk/client-ec2';
import { tagMap } from './tags.js';

/** Ansible's camel_dict_to_snake_dict key conversion (the non-reversible form). */
export function snakeCase(name: string): string {
  // A pluralized abbreviation at the end (TargetGroupARNs) stays one word: target_group_arns.
  let s = name.replace(/[A-Z]{3,}s$/, (m) => `_${m.toLowerCase()}`);
  if (s.startsWith('_') && !name.startsWith('_')) s = s.slice(1);
  s = s.replace(/(.)([A-Z][a-z]+)/g, '$1_$2');
  return s.replace(/([a-z0-9])([A-Z]+)/g, '$1_$2').toLowerCase();
}

function convert(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(convert);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      // Tags keep their own keys, and become a mapping.
      out[snakeCase(k)] = k === 'Tags' && Array.isArray(v) ? tagMap(v) : convert(v);
    }
    return out;
  }
  return value;
}

/** The host variables of one instance; placement.region says which region it was found in. */
export function instanceHostVars(instance: Instance, region: string): Record<string, unknown> {
  const vars = convert(instance) as Record<string, unknown>;
  vars.tags ??= {};
  const placement = (vars.placement ?? {}) as Record<string, unknown>;
  vars.placement = { ...placement, region };
  return vars;
}
