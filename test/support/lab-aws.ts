// inventories/lab-aws as shipped, pointed at a test's own EC2 emulator and lab folder.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
