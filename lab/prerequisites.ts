// What the lab needs from the machine; checked before anything is changed.
import { accessSync, constants } from 'node:fs';

const INSTALL_HINT = 'apt-get install -y openssh-server tini sudo';

const TOOLS: readonly { path: string; pkg: string }[] = [
  { path: '/usr/sbin/sshd', pkg: 'openssh-server' },
  { path: '/usr/bin/unshare', pkg: 'util-linux' },
  { path: '/usr/bin/tini', pkg: 'tini' },
  { path: '/usr/bin/sudo', pkg: 'sudo' },
  { path: '/usr/sbin/visudo', pkg: 'sudo' },
  { path: '/usr/bin/ssh-keygen', pkg: 'openssh-client' },
  { path: '/usr/sbin/useradd', pkg: 'passwd' },
];

/** Empty when all is there; otherwise lines saying what is missing and how to get it. */
export function missingPrerequisites(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root: the lab creates namespaces, mounts and a user; run as root');
  for (const t of TOOLS) {
    try {
      accessSync(t.path, constants.X_OK);
    } catch {
      missing.push(`${t.path} (Debian package ${t.pkg})`);
    }
  }
  if (missing.length > 0) missing.push(`install the packages with: ${INSTALL_HINT}`);
  return missing;
}
