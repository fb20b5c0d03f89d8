// A throw-away lab for integration tests: its own temp folder and address prefix, powered off and
// removed by down(); hosts a test forgot are killed when the test process exits.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labDown, labStart, labStop, labUp } from '../lab/lab.js';
import { isHostInit } from '../lab/host-process.js';
import { labLayout } from '../lab/lab-layout.js';
import { readLabState } from '../lab/lab-state.js';

export interface LabHost {
  name: string;
  address: string;
}

export interface Lab {
  dir: string;
  hosts: LabHost[];
  keyFile: string;
  knownHostsFile: string;
  /** `plugin: rplay_lab` pointing at this lab: pass it as `-i`. */
  inventoryPath: string;
  stop(host: string): Promise<void>;
  start(host: string): Promise<void>;
  down(): Promise<void>;
}

const live = new Set<string>();

process.on('exit', () => {
  for (const dir of live) {
    const layout = labLayout(dir);
    for (const h of readLabState(layout.stateFile)?.hosts ?? []) {
      if (h.pid !== null && isHostInit(h.pid, layout, h.name)) process.kill(h.pid, 'SIGKILL');
    }
  }
});
// The suite runner ends a test file that overran its time with SIGTERM: exit, so the hosts go too.
process.once('SIGTERM', () => process.exit(143));

export async function startLab(opts: { hosts: number; prefix: string }): Promise<Lab> {
  const dir = mkdtempSync(join(tmpdir(), 'rplay-lab-'));
  live.add(dir);
  const down = async (): Promise<void> => {
    await labDown(dir, { purge: true });
    live.delete(dir);
  };
  try {
    await labUp(dir, { hosts: opts.hosts, prefix: opts.prefix });
  } catch (e) {
    await down();
    throw e;
  }
  const layout = labLayout(dir);
  const inventoryPath = join(dir, 'inventory.yml');
  writeFileSync(inventoryPath, `plugin: rplay_lab\nlab_dir: ${JSON.stringify(dir)}\n`);
  return {
    dir,
    hosts: (readLabState(layout.stateFile)?.hosts ?? []).map(({ name, address }) => ({ name, address })),
    keyFile: layout.keyFile,
    knownHostsFile: layout.knownHostsFile,
    inventoryPath,
    stop: async (host) => void (await labStop(dir, host)),
    start: async (host) => void (await labStart(dir, host)),
    down,
  };
}
