// A Redis backup on the controller: backups/<label>/<host>/<port>/ holds dump.rdb, the AOF folder
// (appendonlydir/ with its manifest), each encrypted (backup-crypto.ts), backup.json (what was saved,
// from where, how Redis was set up, the encryption's salt) and SHA256SUMS over all of them as stored,
// in `sha256sum` format, so `sha256sum -c SHA256SUMS` checks it by hand too. SHA256SUMS is written
// last and the folder renamed into place after it: a folder without it is not a backup. Once
// written a backup never changes; a checksum that no longer matches is reported, never repaired.
// Folders are 0700 and files 0600; a symlink anywhere in a backup is refused, never followed.
import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { chmod, lstat, mkdir, open, readdir, rename, rmdir } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { backupKey, CREATE_FLAGS, DecryptError, fileAad, verifyEncrypted, type BackupEncryption } from './backup-crypto.js';

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
  encryption: BackupEncryption;
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

/** One path component of plain characters: never empty, `.`, `..`, nor holding `/`, NUL or a newline. */
export function isSafeName(name: string): boolean {
  return /^[A-Za-z0-9._@+-]{1,255}$/.test(name) && name !== '.' && name !== '..';
}

/** An absolute, normalized directory of safe components (a Redis `dir`). */
export function isSafeDir(path: string): boolean {
  return path.length <= 4096 && path.startsWith('/') && path.length > 1 && path.slice(1).split('/').every(isSafeName);
}

/** Relative paths inside a backup: one or two safe components (a file, or a file of the AOF folder). */
export function safeRelative(path: string): boolean {
  const parts = path.split('/');
  return path.length <= 1024 && parts.length <= 2 && parts.every(isSafeName);
}

/** Shows a value a host or a file gave, bounded and with control characters escaped. */
export function shown(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

/** backup.json's fields, checked: restore acts on `dir` and the file names, so none is taken on trust. */
export function checkMeta(value: unknown, where: string): BackupMeta {
  const m = value as Partial<BackupMeta> | null;
  const bad = (what: string): never => {
    throw new BackupError(`${where}: ${what}`);
  };
  if (m === null || typeof m !== 'object') return bad('not an object');
  if (typeof m.dir !== 'string' || !isSafeDir(m.dir)) bad(`dir ${shown(String(m.dir))} is not an absolute path of plain names`);
  for (const k of ['dbfilename', 'appenddirname', 'appendfilename'] as const) {
    if (typeof m[k] !== 'string' || !isSafeName(m[k] as string)) bad(`${k} ${shown(String(m[k]))} is not one plain file name`);
  }
  if (m.dbfilename === m.appenddirname) bad(`dbfilename and appenddirname are both ${shown(m.dbfilename as string)}`);
  if (!Number.isInteger(m.port) || (m.port as number) < 1 || (m.port as number) > 65535) bad(`port ${shown(String(m.port))} is not a port`);
  if (!Number.isSafeInteger(m.keys) || (m.keys as number) < 0) bad(`keys ${shown(String(m.keys))} is not a count`);
  if (m.role !== 'master' && m.role !== 'replica') bad(`role ${shown(String(m.role))} is neither master nor replica`);
  if (m.node_id !== null && (typeof m.node_id !== 'string' || !/^[0-9a-f]{40}$/.test(m.node_id))) bad(`node_id ${shown(String(m.node_id))} is not a node id`);
  if (typeof m.redis_version !== 'string' || !/^[0-9A-Za-z.+-]{1,64}$/.test(m.redis_version)) bad(`redis_version ${shown(String(m.redis_version))} is not a version`);
  if (typeof m.appendonly !== 'boolean') bad('appendonly is not a boolean');
  for (const k of ['label', 'host', 'address', 'saved_at'] as const) if (typeof m[k] !== 'string') bad(`${k} is not a string`);
  if (m.encryption === undefined) bad(`not encrypted (made by an rplay before backups were encrypted): it cannot be verified with the vault's key`);
  return m as BackupMeta;
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

/** Every regular file under dir, as relative POSIX paths; a symlink or other special file is an error. */
export async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory()) out.push(...(await listFiles(join(dir, e.name), rel)));
    else if (e.isFile()) out.push(rel);
    else throw new BackupError(`${join(dir, e.name)} is ${e.isSymbolicLink() ? 'a symlink' : 'not a regular file'}: a backup holds only files, refused`);
  }
  return out.sort();
}

/** Refuses a symlink (or non-folder) at any level from root down to dir; root itself is the user's. */
export async function checkNoSymlinks(root: string, dir: string): Promise<void> {
  const rel = relative(root, dir);
  if (rel.startsWith('..') || resolve(root, rel) !== resolve(dir)) throw new BackupError(`${dir} is not inside ${root}`);
  let at = root;
  for (const part of rel.split(sep).filter((p) => p !== '')) {
    at = join(at, part);
    let st;
    try {
      st = await lstat(at);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    if (st.isSymbolicLink()) throw new BackupError(`${at} is a symlink: refused, a backup folder is never reached through one (remove it)`);
    if (!st.isDirectory()) throw new BackupError(`${at} is not a folder`);
  }
}

/** A file of the backup, opened without following a symlink, read whole (backup.json, SHA256SUMS: small). */
async function readSmall(path: string, limit = 1 << 20): Promise<string> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.size > limit) throw new BackupError(`${path} is not a regular file of at most ${limit} bytes`);
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}

/** A verified backup: its files with their sums, its metadata, and the hash of SHA256SUMS (its identity). */
export interface VerifiedBackup {
  dir: string;
  files: SumEntry[];
  meta: BackupMeta;
  /** sha256 of the SHA256SUMS file: names this exact backup (restore markers record it). */
  id: string;
  /** Sizes of the files as stored, by path. */
  sizes: Record<string, number>;
  /** backup.json's bytes (the encrypted files' additional data). */
  metaText: string;
}

/**
 * Checks a backup folder against its SHA256SUMS: every listed file present with its sum, no file
 * that is not listed, no symlink, backup.json readable and sane; then every encrypted file decrypts
 * with the vault key (its tag checked, nothing kept). Throws a BackupError saying what is wrong.
 */
export async function verifyBackup(dir: string, vaultKey: string): Promise<VerifiedBackup> {
  let sumsText: string;
  try {
    sumsText = await readSmall(join(dir, SUMS_FILE));
  } catch (e) {
    if (e instanceof BackupError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new BackupError(code === 'ENOENT' ? `no backup at ${dir} (no ${SUMS_FILE})` : `cannot read ${join(dir, SUMS_FILE)}: ${code === 'ELOOP' ? 'it is a symlink' : (code ?? (e as Error).message)}`);
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
      const st = await lstat(path);
      if (!st.isFile()) throw new BackupError(`backup ${dir}: ${f.path} is not a regular file`);
      size = st.size;
    } catch (e) {
      if (e instanceof BackupError) throw e;
      throw new BackupError(`backup ${dir} is missing ${f.path}, which ${SUMS_FILE} lists`);
    }
    const actual = await sha256File(path);
    if (actual !== f.sha256) throw new BackupError(`backup ${dir}: checksum mismatch for ${f.path} (SHA256SUMS says ${f.sha256.slice(0, 12)}…, the file is ${actual.slice(0, 12)}…)`);
    sizes[f.path] = size;
  }
  const metaText = await readSmall(join(dir, META_FILE));
  let parsed: unknown;
  try {
    parsed = JSON.parse(metaText);
  } catch (e) {
    throw new BackupError(`backup ${dir}: ${META_FILE} is not JSON: ${(e as Error).message}`);
  }
  const meta = checkMeta(parsed, `backup ${dir}: ${META_FILE}`);
  let key: Buffer;
  try {
    key = backupKey(vaultKey, meta.encryption);
  } catch (e) {
    throw new BackupError(`backup ${dir}: ${(e as Error).message}`);
  }
  for (const f of files) {
    if (f.path === META_FILE) continue;
    try {
      await verifyEncrypted(join(dir, ...f.path.split('/')), key, fileAad(metaText, f.path));
    } catch (e) {
      if (e instanceof DecryptError) throw new BackupError(`backup ${dir}: ${f.path} ${e.message}`);
      throw e;
    }
  }
  return { dir, files, meta, id: createHash('sha256').update(sumsText).digest('hex'), sizes, metaText };
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

/**
 * root/<parts…>, each part below root one safe name, made 0700 when missing and put to 0700 when
 * present; a part that is a symlink or not a folder is refused. Returns the deepest folder.
 */
export async function privateDirs(root: string, parts: readonly string[]): Promise<string> {
  await mkdir(root, { recursive: true, mode: 0o700 });
  for (const part of parts) if (!isSafeName(part)) throw new BackupError(`${shown(part)} is not a plain folder name`);
  // Another node's failed backup may remove the (then empty) label folder between two mkdirs: again.
  for (let attempt = 1; ; attempt++) {
    try {
      let at = root;
      for (const part of parts) {
        at = join(at, part);
        await mkdir(at, { mode: 0o700 }).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'EEXIST') throw e;
        });
        const st = await lstat(at);
        if (st.isSymbolicLink()) throw new BackupError(`${at} is a symlink: refused, a backup folder is never reached through one (remove it)`);
        if (!st.isDirectory()) throw new BackupError(`${at} is not a folder`);
        await chmod(at, 0o700);
      }
      return at;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || attempt === 5) throw e;
    }
  }
}

/** Removes dir if it is empty (atomic: rmdir); a folder still in use stays. */
export async function removeIfEmpty(dir: string): Promise<void> {
  try {
    await rmdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOENT') throw e;
  }
}

/** A new file holding `text`, mode 0600, never through a symlink nor over an existing file. */
export async function writeNewFile(path: string, text: string): Promise<void> {
  const fh = await open(path, CREATE_FLAGS, 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The written folder `tmp` becomes `final`: only where nothing is, or an empty folder (not a symlink). */
export async function placeBackup(tmp: string, final: string): Promise<void> {
  const st = await lstat(final).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw e;
  });
  if (st !== null) {
    if (st.isSymbolicLink() || !st.isDirectory()) throw new BackupError(`${final} exists and is ${st.isSymbolicLink() ? 'a symlink' : 'not a folder'}: move it away`);
    try {
      await rmdir(final);
    } catch {
      throw new BackupError(`${final} exists, is not a backup (no ${SUMS_FILE}) and is not empty: move it away, or use another label`);
    }
  }
  await rename(tmp, final);
}
