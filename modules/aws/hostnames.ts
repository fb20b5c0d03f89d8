// The inventory name of an instance: the first of the `hostnames` preferences that the instance has
// (tag:Name, dns-name, private-ip-address…), written as EC2's filter names, as amazon.aws does.

/** A preference: a name like tag:Name, or {name, prefix, separator} (prefix is a preference too). */
export type HostnamePreference = string | { name: string; prefix?: string; separator?: string };

/** The default when none are given: the public DNS name, else the private one. */
export const DEFAULT_HOSTNAMES: readonly HostnamePreference[] = ['dns-name', 'private-dns-name'];

const ATTRIBUTES: Record<string, string> = {
  'instance-id': 'instance_id',
  'dns-name': 'public_dns_name',
  'private-dns-name': 'private_dns_name',
  'ip-address': 'public_ip_address',
  'private-ip-address': 'private_ip_address',
};

export const KNOWN_HOSTNAMES = [...Object.keys(ATTRIBUTES), 'tag:KEY'];

/** Why a preference is not one rplay knows, or null when it is. */
export function hostnameProblem(p: HostnamePreference): string | null {
  const names = typeof p === 'string' ? [p] : [p.name, ...(p.prefix === undefined ? [] : [p.prefix])];
  const bad = names.find((n) => !(n in ATTRIBUTES) && !/^tag:.+/.test(n));
  return bad === undefined ? null : `'${bad}' is not a hostname source (known: ${KNOWN_HOSTNAMES.join(', ')})`;
}

function valueOf(name: string, vars: Readonly<Record<string, unknown>>): string | undefined {
  const raw = name.startsWith('tag:') ? (vars.tags as Record<string, unknown> | undefined)?.[name.slice(4)] : vars[ATTRIBUTES[name] ?? ''];
  return typeof raw === 'string' && raw !== '' ? raw : undefined;
}

/** The first preference the instance has a value for; undefined when it has none (it is left out). */
export function hostnameOf(vars: Readonly<Record<string, unknown>>, prefs: readonly HostnamePreference[]): { name: string; source: string } | undefined {
  for (const p of prefs) {
    if (typeof p === 'string') {
      const v = valueOf(p, vars);
      if (v !== undefined) return { name: v, source: p };
      continue;
    }
    const v = valueOf(p.name, vars);
    if (v === undefined) continue;
    if (p.prefix === undefined) return { name: v, source: p.name };
    const prefix = valueOf(p.prefix, vars);
    if (prefix !== undefined) return { name: `${prefix}${p.separator ?? '_'}${v}`, source: `${p.prefix}+${p.name}` };
  }
  return undefined;
}
