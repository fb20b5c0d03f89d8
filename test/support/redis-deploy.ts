// playbooks/redis.yml as a user runs it against a test's lab, and what the tests read of the result:
// the tasks changed per host, CLUSTER INFO through `rplay redis-cli`, a connection to a host, the
// lab's PKI files and vault secrets.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Connection } from '../../runner/connection/connection.js';
import { connectSsh } from '../../runner/connection/ssh.js';
import { readLabVault } from '../../lab/lab-vault.js';
import type { Lab } from '../lab-fixture.js';
import { rplay, rplayJson, tasksWith, type JsonRun } from './rplay-cli.js';

export interface RedisDeploy {
  /** redis.yml with --json and `extra` arguments. */
  deploy(...extra: string[]): ReturnType<typeof rplayJson>;
  /** The environment every run gets (the controller's state folder inside the lab's). */
  env(): Record<string, string>;
  /** Host → names of the tasks that changed (or would) there; hosts with none left out. */
  changedOn(run: JsonRun): Record<string, string[]>;
  clusterInfo(host: string, port?: number): Promise<string>;
  connect(host: string): Promise<Connection>;
  /** A file of the lab's PKI (ca.crt, rplay-admin.crt, …) on the controller. */
  pki(file: string): string;
  /** The lab vault's values, revealed. */
  secrets(): Record<string, string>;
}

export function redisDeploy(lab: Lab): RedisDeploy {
  const env = (): Record<string, string> => ({ RPLAY_STATE_DIR: join(lab.dir, 'controller-state') });
  return {
    env,
    deploy: (...extra) => rplayJson(['playbooks/redis.yml', '-i', lab.inventoryPath, ...extra], { env: env() }),
    changedOn(run) {
      const out: Record<string, string[]> = {};
      for (const h of lab.hosts) {
        const names = tasksWith(run, h.name, 'changed');
        if (names.length) out[h.name] = names;
      }
      return out;
    },
    clusterInfo: async (host, port = 6379) => (await rplay(['redis-cli', '-i', lab.inventoryPath, `${host}:${port}`, '--', 'CLUSTER', 'INFO'])).stdout,
    connect(host) {
      const h = lab.hosts.find((x) => x.name === host);
      if (!h) throw new Error(`no lab host ${host}`);
      return connectSsh({ host, address: h.address, port: 22, user: 'ubuntu', privateKeyFile: lab.keyFile, knownHostsFile: lab.knownHostsFile });
    },
    pki: (file) => readFileSync(join(lab.dir, 'pki', file), 'utf8'),
    secrets: () => Object.fromEntries(Object.entries(readLabVault(lab.dir)).map(([k, v]) => [k, v.reveal()])),
  };
}
