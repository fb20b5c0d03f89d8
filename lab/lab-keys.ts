// The lab's client key (authorized on every host), each host's own host key, and the known_hosts file
// that pins each host's address to its key, so clients can check host keys strictly.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { LabLayout } from './lab-layout.js';

const run = promisify(execFile);

async function ensureKey(file: string, comment: string): Promise<void> {
  if (existsSync(file) && existsSync(`${file}.pub`)) return;
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { timeout: 30_000 });
}

export async function ensureClientKey(layout: LabLayout): Promise<void> {
  await ensureKey(layout.keyFile, 'rplay-lab');
  writeFileSync(layout.authorizedKeysFile, readFileSync(`${layout.keyFile}.pub`), { mode: 0o644 });
}

export async function ensureHostKey(layout: LabLayout, name: string): Promise<void> {
  await ensureKey(layout.hostKey(name), `rplay-lab ${name}`);
}

export function writeKnownHosts(layout: LabLayout, hosts: readonly { name: string; address: string }[]): void {
  const lines = hosts.map((h) => {
    const [type, key] = readFileSync(`${layout.hostKey(h.name)}.pub`, 'utf8').trim().split(/\s+/);
    return `${h.address} ${type} ${key}\n`;
  });
  writeFileSync(layout.knownHostsFile, lines.join(''), { mode: 0o644 });
}
