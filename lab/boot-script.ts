// What a lab host runs as the child of its PID 1 (tini): the host's "init scripts". Run as
// `sh -c SCRIPT rplay-lab-boot LAB_DIR HOST` inside the host's fresh mount, UTS and PID namespaces.
import { shQuote } from '../runner/connection/quote.js';
import { HOST_PATHS, RUN_DIR } from './host-paths.js';
import { LAB_MOUNT } from './lab-layout.js';

const mounts = HOST_PATHS.filter((p) => p.path !== RUN_DIR)
  .map((p) => `mount --bind "$root"${shQuote(p.path)} ${shQuote(p.path)}`)
  .join('\n');

export const BOOT_SCRIPT = `set -eu
lab=$1 name=$2
# The host's own /run first, then the lab folder inside it: the later mounts may hide the folder's real
# path (a lab under /tmp), ${LAB_MOUNT} stays reachable. The script itself is an argument, never re-read.
mount --bind "$lab/hosts/$name/root"${shQuote(RUN_DIR)} ${shQuote(RUN_DIR)}
mount --bind "$lab" ${LAB_MOUNT}
root=${LAB_MOUNT}/hosts/$name/root
${mounts}
hostname "$name"
# The lab's systemctl and journalctl (lab/systemctl.ts), first in root's and sudo's PATH: lab hosts have no systemd.
mount --bind ${LAB_MOUNT}/sbin /usr/local/sbin
# Enabled units start as a machine's init would start them; a failing unit must not keep sshd down.
/usr/local/sbin/systemctl default || echo "rplay lab: $name: starting enabled services failed" >&2
exec /usr/sbin/sshd -D -e -f ${LAB_MOUNT}/hosts/"$name"/sshd_config
`;
