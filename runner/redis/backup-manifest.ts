// A Redis backup on the controller: backups/<label>/<host>/<port>/ holds dump.rdb, the AOF folder
// (appendonlydir/ with its manifest), backup.json (what was saved, from where, how Redis was set up)
// and SHA256SUMS over all of them in `sha256sum` format, so `sha256sum -c SHA256SUMS` checks it by
// hand too. SHA256SUMS is written last and the folder renamed into place after it: a folder without
// it is not a backup. Once written a backup never changes; a checksum that no longer matches is
// reported, never repaired.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, posix, resolve, sep } from 'node:path';

export const SUMS_FILE = 'SHA256SUMS';
export const META_FILE = 'backup.json';

/** What backup.json records. */
export interface BackupMeta {
  label: string;
  /** Inventory name of the node, and the instance's address and port. */
  host: string;
  address: string;
  port: number;
  /** ISO time the BGSAVE finished. */
  saved_at: string;
  redis_version: string;
  /** The instance's role when saved (a replica's data follows its master's on restore). */
  role: 'master' | 'replica';
  /** CLUSTER MYID, when cluster mode is on. */
  node_id: string | null;
  /** CONFIG GET values, to put the files back where this Redis reads them. */
  dir: string;
  dbfilename: string;
  appendonly: boolean;
  appenddirname: string;
  appendfilename: string;
  /** DBSIZE when saved. */
  keys: number;
}

/** backups/<label>/<host>/<port> under `root`. */
export function backupDir(root: string, label: string, host: string, port: number): string {
  return join(root, label, host, String(port));
}

export interface SumEntry {
  sha256: string;
  /** Relative POSIX path inside the backup folder. */
  path: string;
}

/** SHA256SUMS text, sorted by path (stable bytes for the same files). */
export function formatSums(entries: readonly SumEntry[]): string {
  return [...entries]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((e) => `${e.sha256}  ${e.path}\n`)
    .join('');
}

export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupError';
  }
}

/** Relative paths must stay inside the backup folder: no absolute paths, no `..`. */
export function safeRelative(path: string): boolean {
  const n = posix.normalize(path);
  return path !== '' && !posix.isAbsolute(path) && n === path && !n.split('/').includes('..') && !path.includes('\\');
}

/** Parses SHA256SUMS (`<64 hex>  <path>` per line, `*` binary marker allowed). */
export function parseSums(text: string, file = SUMS_FILE): SumEntry[] {
  const out: SumEntry[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (m === null) throw new BackupError(`${file} line ${i + 1} is not "<sha256>  <file>": ${JSON.stringify(line.slice(0, 80))}`);
    if (!safeRelative(m[2])) throw new BackupError(`${file} line ${i + 1} names a path outside the backup: ${m[2]}`);
    out.push({ sha256: m[1], path: m[2] });
  });
  if (out.length === 0) throw new BackupError(`${file} lists no file`);
  return out;
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (b) => h.update(b))
      .on('error', reject)
      .on('end', () => resolvePromise(h.digest('hex')));
  });
}

/** Every regular file under dir, as relative POSIX paths. */
export async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory()) out.push(...(await listFiles(join(dir, e.name), rel)));
    else out.push(rel);
  }
  return out.sort();
}

/** A verified backup: its files with their sums, its metadata, and the hash of SHA256SUMS (its identity). */
export interface VerifiedBackup {
  dir: string;
  files: SumEntry[];
  meta: BackupMeta;
  /** sha256 of the SHA256SUMS file: names this exact backup (restore markers record it). */
  id: string;
  /** Sizes of the files, by path. */
  sizes: Record<string, number>;
}

/**
 * Checks a backup folder against its SHA256SUMS: every listed file present with its sum, no file
 * that is not listed, backup.json readable. Throws a BackupError saying what is wrong.
 */
export async function verifyBackup(dir: string): Promise<VerifiedBackup> {
  let sumsText: string;
  try {
    sumsText = await readFile(join(dir, SUMS_FILE), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new BackupError(code === 'ENOENT' ? `no backup at ${dir} (no ${SUMS_FILE})` : `cannot read ${join(dir, SUMS_FILE)}: ${code ?? (e as Error).message}`);
  }
  const files = parseSums(sumsText, join(dir, SUMS_FILE));
  const listed = new Set(files.map((f) => f.path));
  const present = (await listFiles(dir)).filter((p) => p !== SUMS_FILE);
  const extra = present.filter((p) => !listed.has(p));
  if (extra.length > 0) throw new BackupError(`backup ${dir} has file(s) ${SUMS_FILE} does not list: ${extra.join(', ')}`);
  if (!listed.has(META_FILE)) throw new BackupError(`backup ${dir}: ${SUMS_FILE} does not cover ${META_FILE}`);
  const sizes: Record<string, number> = {};
  for (const f of files) {
    const path = resolve(dir, ...f.path.split('/'));
    if (!path.startsWith(resolve(dir) + sep)) throw new BackupError(`backup ${dir}: ${f.path} is outside it`);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      throw new BackupError(`backup ${dir} is missing ${f.path}, which ${SUMS_FILE} lists`);
    }
    const actual = await sha256File(path);
    if (actual !== f.sha256) throw new BackupError(`backup ${dir}: checksum mismatch for ${f.path} (SHA256SUMS says ${f.sha256.slice(0, 12)}…, the file is ${actual.slice(0, 12)}…)`);
    sizes[f.path] = size;
  }
  let meta: BackupMeta;
  try {
    meta = JSON.parse(await readFile(join(dir, META_FILE), 'utf8')) as BackupMeta;
  } catch (e) {
    throw new BackupError(`backup ${dir}: ${META_FILE} is not JSON: ${(e as Error).message}`);
  }
  return { dir, files, meta, id: createHash('sha256').update(sumsText).digest('hex'), sizes };
}

/** The data files of a backup Redis reads: the RDB, and the AOF folder's files. */
export function dataFiles(b: Pick<VerifiedBackup, 'files' | 'meta'>): { rdb: string | null; aof: string[] } {
  const paths = b.files.map((f) => f.path);
  return {
    rdb: paths.includes(b.meta.dbfilename) ? b.meta.dbfilename : null,
    aof: paths.filter((p) => p.startsWith(`${b.meta.appenddirname}/`)),
  };
}

/** The AOF manifest Redis 7 needs to load an RDB file as the base of its AOF (restore from RDB with appendonly on). */
export function rdbBaseManifest(appendfilename: string): { base: string; manifest: string; manifestName: string } {
  const base = `${appendfilename}.1.base.rdb`;
  return { base, manifest: `file ${base} seq 1 type b\n`, manifestName: `${appendfilename}.manifest` };
}
