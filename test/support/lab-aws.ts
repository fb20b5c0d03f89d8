// inventories/lab-aws as shipped, pointed at a test's own EC2 emulator and lab folder.
import { EC2 } from '@aws-sdk/client-ec2';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEc2Emulator, type Ec2Emulator } from '../../lab/ec2/emulator.js';
import { labHostProvider } from '../../lab/ec2/host-provider.js';
import { startLab, type Lab } from '../lab-fixture.js';
import { repoDir } from './rplay-cli.js';

export const SHIPPED_ENDPOINT = 'http://127.0.0.1:4577';

export function copyLabAwsInventory(into: string, emulatorUrl: string, labDir: string): string {
  const dir = join(into, 'lab-aws');
  cpSync(join(repoDir, 'inventories', 'lab-aws'), dir, { recursive: true });
  for (const f of ['aws_ec2.yml', join('group_vars', 'all.yml')]) {
    const path = join(dir, f);
    const text = readFileSync(path, 'utf8');
    if (!text.includes(SHIPPED_ENDPOINT)) throw new Error(`${f} no longer points at the lab's emulator (${SHIPPED_ENDPOINT})`);
    writeFileSync(path, text.replaceAll(SHIPPED_ENDPOINT, emulatorUrl).replaceAll('.rplay/lab/', `${labDir}/`));
  }
  const secrets = join(dir, 'lab-secrets.yml');
  writeFileSync(secrets, `${readFileSync(secrets, 'utf8')}lab_dir: ${JSON.stringify(labDir)}\n`);
  return dir;
}

/** A lab, an EC2 emulator in this process backed by its hosts, an SDK client, and lab-aws pointed at both. */
export interface LabAws {
  lab: Lab;
  emu: Ec2Emulator;
  ec2: EC2;
  /** The copied inventories/lab-aws. */
  inventory: string;
  /** A scratch folder of the test's own. */
  work: string;
  down(): Promise<void>;
}

export async function startLabAws(opts: { hosts: number; prefix: string }): Promise<LabAws> {
  // Node 20 is supported by this SDK release; its notice about later releases is noise in tests.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const work = mkdtempSync(join(tmpdir(), 'rplay-lab-aws-'));
  const lab = await startLab(opts);
  const emu = await startEc2Emulator({ stateFile: join(lab.dir, 'ec2', 'state.json'), hosts: labHostProvider(lab.dir) });
  const ec2 = new EC2({ region: 'us-east-1', endpoint: emu.url, credentials: { accessKeyId: 'AKIDLAB', secretAccessKey: 'not-checked' } });
  return {
    lab,
    emu,
    ec2,
    work,
    inventory: copyLabAwsInventory(work, emu.url, lab.dir),
    down: async () => {
      ec2.destroy();
      await emu.close();
      await lab.down();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
