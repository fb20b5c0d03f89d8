import { Type } from '@sinclair/typebox';
import { defineModule, ModuleError, type Vars } from '../runner/types.js';
import { tail } from './host/tail.js';

// One round trip, five lines: hostname, os-release ID, VERSION_ID, VERSION_CODENAME, IPv4
// addresses (loopback excluded, as Ansible does), and whether systemd is PID 1.
const GATHER = `hostname
( . /etc/os-release 2> /dev/null; printf '%s\\n%s\\n%s\\n' "\${ID:-}" "\${VERSION_ID:-}" "\${VERSION_CODENAME:-}" )
{ ip -4 -o addr show scope global 2> /dev/null | awk '{ sub(/\\/.*/, "", $4); print $4 }' || hostname -I; } | tr '\\n' ' '; echo
if [ -d /run/systemd/system ]; then echo yes; else echo no; fi`;

// os-release IDs whose Ansible names are not simply capitalised.
const DISTRIBUTIONS: Record<string, string> = { centos: 'CentOS', rhel: 'RedHat', amzn: 'Amazon', opensuse: 'openSUSE', sles: 'SLES' };

/** Parse the GATHER output into facts (exported for tests). */
export function parseFacts(out: string): Vars {
  const [hostname = '', id = '', version = '', codename = '', addrs = '', systemd = ''] = out.split('\n');
  return {
    ansible_hostname: hostname.split('.')[0],
    ansible_distribution: DISTRIBUTIONS[id] ?? (id ? id[0].toUpperCase() + id.slice(1) : ''),
    ansible_distribution_version: version,
    ansible_distribution_release: codename,
    ansible_all_ipv4_addresses: addrs.split(/\s+/).filter((a) => a && !a.startsWith('127.')),
    has_systemd: systemd === 'yes',
  };
}

/** gather_facts: a small, fast set of host facts. */
export const setup = defineModule({
  name: 'setup',
  schema: Type.Object({}, { additionalProperties: false }),
  async gather(ctx): Promise<Vars> {
    const r = await ctx.conn.sh(GATHER);
    if (r.rc !== 0) throw new ModuleError(`gathering facts failed: ${tail(r.stderr)}`);
    return parseFacts(r.stdout);
  },
  plan: (_args, facts) => ({ changes: [], setVars: facts, result: { ansible_facts: facts } }),
});
