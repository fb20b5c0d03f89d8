// How to reach a host, from its variables (Ansible's connection variables plus rplay's host-key
// options). Bad values are errors naming the host and variable, never a silent default.
import { homedir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { isSecret } from '../secret.js';

export interface ConnectionSettings {
  connection: 'ssh' | 'local';
  address: string;
  port: number;
  user: string;
  privateKeyFile?: string;
  knownHostsFile: string;
  /** Add an unknown host key to knownHostsFile (a changed key is refused regardless). */
  acceptNew: boolean;
  become: boolean;
  becomeUser: string;
}

/**
 * @param vars the host's merged variables (templated)
 * @param host the inventory name: the address when ansible_host is unset, and the name in errors
 */
export function connectionSettings(
  vars: Record<string, unknown>,
  host: string = String(vars.inventory_hostname ?? 'localhost'),
): ConnectionSettings {
  const get = getter(vars, host);
  const connection = get('ansible_connection') ?? 'ssh';
  if (connection !== 'ssh' && connection !== 'local') {
    throw new Error(`host ${host}: ansible_connection '${connection}' is not supported (use ssh or local)`);
  }
  const portText = get('ansible_port') ?? '22';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`host ${host}: ansible_port '${portText}' is not a port number (1-65535)`);
  }
  const checking = get('rplay_host_key_checking') ?? 'yes';
  if (!['yes', 'true', 'accept-new'].includes(checking)) {
    // Turning checking off is deliberately impossible: a changed key may be a man in the middle.
    throw new Error(`host ${host}: rplay_host_key_checking '${checking}' must be yes or accept-new`);
  }
  const key = get('ansible_ssh_private_key_file') ?? get('ansible_private_key_file');
  return {
    connection,
    address: get('ansible_host') ?? host,
    port,
    user: get('ansible_user') ?? userInfo().username,
    ...(key === undefined ? {} : { privateKeyFile: expandPath(key) }),
    knownHostsFile: expandPath(get('rplay_known_hosts_file') ?? join(homedir(), '.ssh', 'known_hosts')),
    acceptNew: checking === 'accept-new',
    ...becomeVars(get, host),
  };
}

/**
 * Who a task runs as: its become/become_user keywords (task, block or play) win over the variables
 * (inventory, play vars, -e), as the keyword is the more specific statement. Only sudo is supported.
 */
export function taskBecome(
  vars: Record<string, unknown>,
  host: string,
  keywords: { become?: boolean; becomeUser?: string },
): { become: boolean; becomeUser: string } {
  const v = becomeVars(getter(vars, host), host);
  return { become: keywords.become ?? v.become, becomeUser: keywords.becomeUser ?? v.becomeUser };
}

function becomeVars(get: (name: string) => string | undefined, host: string): { become: boolean; becomeUser: string } {
  const method = get('ansible_become_method');
  if (method !== undefined && method !== 'sudo') {
    throw new Error(`host ${host}: ansible_become_method '${method}' is not supported (rplay becomes another user only with sudo)`);
  }
  return { become: truthy(get('ansible_become'), host, 'ansible_become'), becomeUser: get('ansible_become_user') ?? 'root' };
}

function getter(vars: Record<string, unknown>, host: string): (name: string) => string | undefined {
  return (name) => {
    const v = vars[name];
    if (v === undefined || v === null) return undefined;
    if (isSecret(v)) return String(v.reveal());
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw new Error(`host ${host}: ${name} must be a string, not ${Array.isArray(v) ? 'a list' : typeof v}`);
  };
}

function expandPath(p: string): string {
  return resolve(p === '~' ? homedir() : p.startsWith('~/') ? join(homedir(), p.slice(2)) : p);
}

function truthy(v: string | undefined, host: string, name: string): boolean {
  if (v === undefined) return false;
  if (/^(?:true|yes|on|1)$/i.test(v)) return true;
  if (/^(?:false|no|off|0)$/i.test(v)) return false;
  throw new Error(`host ${host}: ${name} '${v}' must be true or false`);
}
