// The `ubuntu` user every lab host logs in as, with passwordless sudo (as on an EC2 Ubuntu image).
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

export const LAB_USER = 'ubuntu';
const SUDOERS_FILE = '/etc/sudoers.d/rplay-lab';
const SUDOERS = `# Written by rplay lab: the lab user has passwordless sudo, as on a cloud image.\n${LAB_USER} ALL=(ALL:ALL) NOPASSWD: ALL\n`;

export function userExists(name: string): boolean {
  return readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .some((line) => line.startsWith(`${name}:`));
}

export function ensureLabUser(): void {
  if (!userExists(LAB_USER)) {
    // Password '*' (no password, not locked): sshd without PAM refuses even key logins to a locked
    // ('!') account. No home is created here: each host mounts its own empty /home/ubuntu, so the
    // user gets a stock shell environment without rc files.
    execFileSync('useradd', ['--no-create-home', '--home-dir', '/home/ubuntu', '--shell', '/bin/bash', '--password', '*', LAB_USER], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  }
  ensureSudoers();
}

function ensureSudoers(): void {
  try {
    if (readFileSync(SUDOERS_FILE, 'utf8') === SUDOERS) return;
  } catch {
    // missing: written below
  }
  const tmp = `${SUDOERS_FILE}.${process.pid}.tmp`;
  writeFileSync(tmp, SUDOERS, { mode: 0o440 });
  try {
    chmodSync(tmp, 0o440);
    execFileSync('visudo', ['-cf', tmp], { stdio: ['ignore', 'ignore', 'pipe'] });
    renameSync(tmp, SUDOERS_FILE);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** uid and gid of a local user, from /etc/passwd. */
export function userIds(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (line === undefined) throw new Error(`no user ${name}`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}
