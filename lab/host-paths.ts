// The paths each lab host has its own copy of: the per-host folder is bind-mounted over the real path
// inside the host's mount namespace, so what one host writes there no other host sees. This is the one
// list; the boot script, the folder setup and the mount targets all come from it.

export interface HostDir {
  kind: 'dir';
  path: string;
  /**
   * Mode and owner (default root) of the real path when it has to be created as a mount target. Each
   * host's folder then starts empty with the real path's mode and owner, as after a package install.
   */
  mode: number;
  owner?: string;
  /** Subfolders every fresh host has (relative path → mode), e.g. sshd's privilege-separation dir. */
  subdirs?: Record<string, number>;
}

export interface HostFile {
  kind: 'file';
  path: string;
  mode: number;
  content(host: { name: string; address: string }): string;
}

export type HostPath = HostDir | HostFile;

/** Mounted first: the rest of the boot script reaches the lab folder through it (see boot-script.ts). */
export const RUN_DIR = '/run';

export const HOST_PATHS: readonly HostPath[] = [
  { kind: 'dir', path: RUN_DIR, mode: 0o755, subdirs: { sshd: 0o755, lock: 0o1777 } },
  { kind: 'dir', path: '/etc/redis', mode: 0o755 },
  { kind: 'dir', path: '/etc/systemd/system', mode: 0o755 },
  { kind: 'dir', path: '/var/lib/redis', mode: 0o755 },
  { kind: 'dir', path: '/var/log/redis', mode: 0o755 },
  // Where the lab's systemctl (lab/systemctl.ts) keeps each service's output.
  { kind: 'dir', path: '/var/log/rplay-svc', mode: 0o755 },
  { kind: 'dir', path: '/home/ubuntu', mode: 0o755, owner: 'ubuntu' },
  { kind: 'dir', path: '/srv', mode: 0o755 },
  { kind: 'dir', path: '/tmp', mode: 0o1777 },
  // sudo resolves its own hostname; without this line it would wait for DNS.
  {
    kind: 'file',
    path: '/etc/hosts',
    mode: 0o644,
    content: (h) => `127.0.0.1 localhost\n${h.address} ${h.name}\n`,
  },
  { kind: 'file', path: '/etc/hostname', mode: 0o644, content: (h) => `${h.name}\n` },
];
