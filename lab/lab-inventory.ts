// The lab as an Ansible-shaped inventory (the `rplay_lab` inventory plugin): every host in group redis.
import { join } from 'node:path';
import type { InventoryDocument } from '../runner/inventory/inventory-document.js';
import { labLayout } from './lab-layout.js';
import { readLabState } from './lab-state.js';
import { readLabVault } from './lab-vault.js';
import { LAB_USER } from './lab-user.js';

const ZONES = ['lab-a', 'lab-b', 'lab-c'];

export function labInventory(labDir: string, opts: { hosts: boolean } = { hosts: true }): InventoryDocument {
  const layout = labLayout(labDir);
  // The lab's CA stays with the lab, apart from any production CA on the same controller.
  const vars = { ...readLabVault(layout.dir), rplay_pki_dir: join(layout.dir, 'pki') };
  if (!opts.hosts) return { all: { vars } };
  const state = readLabState(layout.stateFile);
  if (state === null) throw new Error(`no lab in ${layout.dir}: run \`rplay lab up\` first`);
  const hosts: Record<string, Record<string, unknown>> = {};
  const redis: Record<string, Record<string, unknown>> = {};
  state.hosts.forEach((h, i) => {
    hosts[h.name] = {
      ansible_host: h.address,
      ansible_port: 22,
      ansible_user: LAB_USER,
      ansible_ssh_private_key_file: layout.keyFile,
      rplay_known_hosts_file: layout.knownHostsFile,
      private_ip: h.address,
      az: ZONES[i % ZONES.length],
    };
    redis[h.name] = {};
  });
  return { all: { vars, hosts, children: { redis: { hosts: redis } } } };
}
