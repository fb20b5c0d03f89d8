// The sshd_config of one lab host. Paths are as seen from inside the host (lab folder at LAB_MOUNT).
import { inHost, type LabLayout } from './lab-layout.js';
import { LAB_USER } from './lab-user.js';

export function sshdConfig(layout: LabLayout, host: { name: string; address: string }): string {
  return [
    `# rplay lab host ${host.name}; written by \`rplay lab up\`.`,
    `ListenAddress ${host.address}:22`,
    `HostKey ${inHost(layout, layout.hostKey(host.name))}`,
    // Inside the host's own /run, so hosts never share a pidfile.
    'PidFile /run/sshd.pid',
    // StrictModes stays on: the key file and every folder above it are root-owned, not group- or
    // world-writable, and readable by the user (the lab folder is mode 0755).
    // The lab key, and the instance key cloud-init would install (the EC2 emulator writes it there).
    `AuthorizedKeysFile ${inHost(layout, layout.authorizedKeysFile)} .ssh/authorized_keys`,
    `AllowUsers ${LAB_USER}`,
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin no',
    'UseDNS no',
    // The lab's systemctl (in /usr/local/sbin) for the login user too, as sudo's secure_path has it.
    'SetEnv PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'PrintMotd no',
    'PrintLastLog no',
    'X11Forwarding no',
    // Runs open one connection per host, and tests and benchmarks open many at once.
    'MaxStartups 500',
    'MaxSessions 50',
    'LogLevel ERROR',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
}
