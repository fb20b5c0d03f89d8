// Which of a node's Redis backups on the controller retention lets go: the folders backups/<label>/<host>
// that are rplay backups (every port folder has SHA256SUMS), newest first by when Redis saved them; the
// backup being made counts as the newest and is never pruned, nor is anything that is not a backup.
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { META_FILE, SUMS_FILE, type BackupMeta } from './backup-manifest.js';

export interface NodeBackup {
  label: string;
  /** backups/<label>/<host> */
  dir: string;
  /** The latest saved_at of its instances (ISO). */
  savedAt: string;
}

/** The ones beyond the newest `keep` (the current label counted as one of them), oldest last. */
export function backupsToPrune(found: readonly NodeBackup[], keep: number, current: string): NodeBackup[] {
  const others = found.filter((b) => b.label !== current).sort((a, b) => b.savedAt.localeCompare(a.savedAt) || b.label.localeCompare(a.label));
  return others.slice(Math.max(0, keep - 1));
}

/** This host's backups under root: label folders whose <host>/<port>/ folders all hold SHA256SUMS and backup.json. */
export async function nodeBackups(root: string, host: string): Promise<NodeBackup[]> {
  let labels: string[];
  try {
    labels = (await readdir(root, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
  const out: NodeBackup[] = [];
  for (const label of labels) {
    const dir = join(root, label, host);
    let ports: string[];
    try {
      // A symlink is never a backup folder: retention does not follow it (nor remove what it points to).
      if (!(await lstat(dir)).isDirectory()) continue;
      ports = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      continue;
    }
    if (ports.length === 0 || ports.some((p) => !/^\d+$/.test(p))) continue;
    const times: string[] = [];
    for (const port of ports) {
      try {
        await stat(join(dir, port, SUMS_FILE));
        times.push((JSON.parse(await readFile(join(dir, port, META_FILE), 'utf8')) as BackupMeta).saved_at);
      } catch {
        break;
      }
    }
    if (times.length === ports.length) out.push({ label, dir, savedAt: times.sort().at(-1) ?? '' });
  }
  return out;
}
