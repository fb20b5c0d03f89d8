import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import type { Redis } from 'ioredis';
import { LABEL_PATTERN } from './aws/snapshot-tags.js';
import { backupKey, checkBackupKey, EncryptedWriter, fileAad, MAX_PLAINTEXT, newEncryption } from './redis/backup-crypto.js';
import {
  backupDir,
  BackupError,
  checkMeta,
  checkNoSymlinks,
  formatSums,
  isSafeName,
  META_FILE,
  placeBackup,
  privateDirs,
  removeIfEmpty,
  safeRelative,
  shown,
  SUMS_FILE,
  verifyBackup,
  writeNewFile,
  type BackupMeta,
  type SumEntry,
} from './redis/backup-manifest.js';
import { backupsToPrune, nodeBackups, type NodeBackup } from './redis/backup-retention.js';
import { bgsave } from './redis/bgsave.js';
import { parseClusterInfo as parseInfo } from './redis/cluster-state.js';
import { fetchFile } from './redis/file-transfer.js';
import { isRefused, loadLogin, redisLoginArgs, type RedisLoginArgs } from './redis/login.js';
import { openRedis, type RedisLogin } from './redis/open-redis.js';
import { defineModule, ModuleError, NotYetThere, prefixedError, type ModuleContext, type Vars } from '../runner/types.js';
import { tail } from './host/tail.js';

const schema = Type.Object(
  {
    /** This node's instances (redis_topology's `redis_local_instances`). */
    instances: Type.Array(Type.Object({ address: Type.String({ minLength: 1 }), port: Type.Integer({ minimum: 1, maximum: 65535 }) }, { additionalProperties: true }), { minItems: 1 }),
    /** The backup's name (a date, a run id): backups/<label>/<host>/<port>. */
    label: Type.String({ pattern: LABEL_PATTERN }),
    /** Controller folder of the backups, relative to the project (default: backups). */
    dest: Type.Optional(Type.String({ minLength: 1 })),
    /** Keep this node's newest N backups (this one included); older backups/<label>/<host> folders go. */
    retain_count: Type.Optional(Type.Integer({ minimum: 1 })),
    /** The vault's vault_backup_key (32+ characters): every backup is encrypted with a key derived from it. */
    encryption_key: Type.String(),
    /** Seconds BGSAVE may take (default 600). */
    timeout: Type.Optional(Type.Integer({ minimum: 1 })),
    ...redisLoginArgs,
  },
  { additionalProperties: false },
);

type BackupArgs = Static<typeof schema>;

interface Wanted {
  address: string;
  port: number;
  dir: string;
}

export interface BackupActual {
  /** Instances whose backup of this label exists and verifies. */
  done: { port: number; dir: string; keys: number }[];
  /** Instances still to back up. */
  missing: Wanted[];
  /** This node's earlier backups retention lets go. */
  prune: NodeBackup[];
  /** The backups' root on the controller. */
  root: string;
}

/** Back up one instance into `dir`, or remove an older backup retention lets go. */
export type BackupOp =
  | {
      kind: 'backup';
      address: string;
      port: number;
      /** backups/<label>/<host>/<port> on the controller, and the backups' root it lives under. */
      dir: string;
      root: string;
      label: string;
      timeoutMs: number;
      login: RedisLoginArgs;
      /** vault_backup_key, checked. */
      encryptionKey: string;
    }
  | { kind: 'prune'; dir: string; label: string };

type BackupOfOne = Extract<BackupOp, { kind: 'backup' }>;

const rootOf = (ctx: Pick<ModuleContext, 'projectDir'>, args: BackupArgs): string => resolve(ctx.projectDir, args.dest ?? 'backups');

/**
 * Copies the data aside into a private (0700, root's, mktemp-named) folder, never following a
 * symlink of the data dir, and lists it: the folder's path, then "<size> <sha256> <path>" per file.
 * It removes the folder itself when it fails.
 */
const STAGE = `set -e
d=$1; db=$2; aof=$3
umask 077
s=$(mktemp -d /tmp/rplay-backup.XXXXXXXXXX)
trap 'rc=$?; [ "$rc" -eq 0 ] || rm -rf -- "$s"; exit "$rc"' EXIT
echo "$s"
cp -P -p -- "$d/$db" "$s/$db"
if [ -d "$d/$aof" ] && [ ! -L "$d/$aof" ]; then cp -R -P -p -- "$d/$aof" "$s/$aof"; fi
cd "$s"
find . -type f -printf '%P\\n' | sort | while IFS= read -r f; do
  printf '%s %s %s\\n' "$(stat -c %s -- "$f")" "$(sha256sum -- "$f" | cut -d' ' -f1)" "$f"
done`;

const STAGE_DIR = /^\/tmp\/rplay-backup\.[A-Za-z0-9]{10}$/;
/** More files than any AOF folder holds: a listing beyond it is refused, not read. */
const MAX_FILES = 1000;

interface StagedFile {
  size: number;
  sha256: string;
  path: string;
}

/**
 * The host's listing, every part checked before the controller acts on it: the staging folder is
 * the one mktemp makes, each path is the RDB or a plain name in the AOF folder, sizes bounded,
 * no path twice, the RDB present.
 */
export function parseStaged(out: string, meta: Pick<BackupMeta, 'dbfilename' | 'appenddirname'>): { dir: string; files: StagedFile[] } {
  const [dir = '', ...lines] = out.replace(/\n$/, '').split('\n');
  if (!STAGE_DIR.test(dir)) throw new ModuleError(`redis_backup: the host named its staging folder ${shown(dir)}, not /tmp/rplay-backup.XXXXXXXXXX: refused`);
  if (lines.length > MAX_FILES) throw new ModuleError(`redis_backup: the host listed ${lines.length} files (at most ${MAX_FILES}): refused`);
  const seen = new Set<string>();
  const files = lines.map((l) => {
    if (l.length > 2048) throw new ModuleError(`redis_backup: the host's listing has a line of ${l.length} characters (at most 2048): refused`);
    const m = /^(\d{1,15}) ([0-9a-f]{64}) (.+)$/.exec(l);
    if (m === null) throw new ModuleError(`redis_backup: unexpected listing line ${shown(l)}: refused`);
    const [, size, sha256, path] = m as unknown as [string, string, string, string];
    const parts = path.split('/');
    const fits = path === meta.dbfilename || (parts.length === 2 && parts[0] === meta.appenddirname && isSafeName(parts[1] as string));
    if (!fits || !safeRelative(path)) throw new ModuleError(`redis_backup: the host listed ${shown(path)}, which is neither ${meta.dbfilename} nor a plain file name in ${meta.appenddirname}/: refused, nothing written`);
    if (seen.has(path)) throw new ModuleError(`redis_backup: the host listed ${shown(path)} twice: refused`);
    seen.add(path);
    if (Number(size) > MAX_PLAINTEXT) throw new ModuleError(`redis_backup: the host says ${path} has ${size} bytes (at most ${MAX_PLAINTEXT}): refused`);
    return { size: Number(size), sha256, path };
  });
  if (!seen.has(meta.dbfilename)) throw new ModuleError(`redis_backup: the host's copy has no ${meta.dbfilename} (missing, or not a regular file): nothing written`);
  return { dir, files };
}

async function configValue(client: Pick<Redis, 'call'>, name: string): Promise<string> {
  const r = (await client.call('CONFIG', 'GET', name)) as unknown[];
  return typeof r?.[1] === 'string' ? r[1] : '';
}

/**
 * What Redis says about itself for backup.json (before the save, so a failed save leaves nothing),
 * checked: the files are fetched by these names and restore puts them back into this `dir`.
 */
export async function describeInstance(client: Pick<Redis, 'call'>, host: string, want: Wanted, label: string): Promise<Omit<BackupMeta, 'saved_at'>> {
  const [dir, dbfilename, appendonly, appenddirname, appendfilename] = await Promise.all(
    ['dir', 'dbfilename', 'appendonly', 'appenddirname', 'appendfilename'].map((n) => configValue(client, n)),
  );
  const server = parseInfo(String(await client.call('INFO', 'server')));
  const role = ((await client.call('ROLE')) as unknown[])[0] === 'master' ? 'master' : 'replica';
  const nodeId = await client.call('CLUSTER', 'MYID').then((id) => String(id), () => null);
  const keys = Number(await client.call('DBSIZE'));
  const described: Omit<BackupMeta, 'saved_at'> = {
    label,
    host,
    address: want.address,
    port: want.port,
    redis_version: server.redis_version ?? '?',
    role,
    node_id: nodeId,
    dir,
    dbfilename,
    appendonly: appendonly === 'yes',
    appenddirname: appenddirname || 'appendonlydir',
    appendfilename: appendfilename || 'appendonly.aof',
    keys,
    encryption: newEncryption(),
  };
  try {
    checkMeta({ ...described, saved_at: '' }, `${want.address}:${want.port} answered CONFIG GET/INFO with values rplay does not act on`);
  } catch (e) {
    throw new ModuleError(`redis_backup: ${(e as Error).message}: refused, nothing written`);
  }
  return described;
}

async function loginOf(ctx: ModuleContext, args: RedisLoginArgs): Promise<RedisLogin> {
  try {
    return await loadLogin(ctx.projectDir, args);
  } catch (e) {
    throw prefixedError('redis_backup', e);
  }
}

/**
 * Each instance still to back up answers this login: one that is not running is "not there yet"
 * (an earlier task starts it); a refused login is a failure, in check mode too.
 */
async function canLogIn(ctx: ModuleContext, login: RedisLogin, instances: readonly { address: string; port: number }[]): Promise<void> {
  for (const i of instances) {
    let client: Redis;
    try {
      client = await openRedis(ctx.conn, { ...login, host: i.address, port: i.port });
    } catch (e) {
      const message = `redis_backup: cannot log in to ${i.address}:${i.port} as ${login.user}: ${(e as Error).message}`;
      if (isRefused(e)) throw new NotYetThere(message, `instance ${i.address}:${i.port} (not running)`);
      throw new ModuleError(message);
    }
    client.disconnect();
  }
}

/** Fetches the staged files into `tmp` on the controller, encrypted as they pass; SHA256SUMS of what is stored. */
async function fetchInto(ctx: ModuleContext, stage: string, files: readonly StagedFile[], tmp: string, meta: BackupMeta, metaText: string, key: Buffer, port: number): Promise<SumEntry[]> {
  const sums: SumEntry[] = [];
  if (files.some((f) => f.path.includes('/'))) await mkdir(join(tmp, meta.appenddirname), { mode: 0o700 });
  for (const f of files) {
    const local = resolve(tmp, ...f.path.split('/'));
    // parseStaged let only plain names through; the resolved path is checked all the same.
    if (!local.startsWith(`${resolve(tmp)}${sep}`)) throw new ModuleError(`redis_backup: ${shown(f.path)} resolves outside the backup folder: refused`);
    const w = await EncryptedWriter.create(local, key, fileAad(metaText, f.path));
    let got;
    try {
      got = await fetchFile(ctx.conn, `${stage}/${f.path}`, f.size, (b) => w.write(b));
    } catch (e) {
      await w.abort();
      throw new ModuleError(`redis_backup: ${port}: ${(e as Error).message}`);
    }
    const out = await w.end();
    if (got.sha256 !== f.sha256) throw new ModuleError(`redis_backup: ${f.path} of ${port} arrived with sha256 ${got.sha256}, not the host's ${f.sha256}: nothing written`);
    sums.push({ sha256: out.storedSha256, path: f.path });
  }
  return sums;
}

/**
 * The files of one instance, from the host's staging folder into a private temporary folder beside
 * the backup's (encrypted as they arrive, each checked against the host's sha256), backup.json and
 * SHA256SUMS last, then renamed into place: nothing is ever written outside the backup folder.
 */
export async function storeBackup(ctx: ModuleContext, root: string, meta: BackupMeta, stagedOut: string, vaultKey: string): Promise<number> {
  const nl = stagedOut.indexOf('\n');
  const stage = nl < 0 ? stagedOut : stagedOut.slice(0, nl);
  if (!STAGE_DIR.test(stage)) throw new ModuleError(`redis_backup: the host named its staging folder ${shown(stage)}, not /tmp/rplay-backup.XXXXXXXXXX: refused`);
  try {
    const { files } = parseStaged(stagedOut, meta);
    const metaText = `${JSON.stringify(meta, null, 2)}\n`;
    const key = backupKey(vaultKey, meta.encryption);
    const hostDir = await privateDirs(root, [meta.label, ctx.host]);
    const tmp = await mkdtemp(join(hostDir, `.${meta.port}.partial-`));
    try {
      const sums = await fetchInto(ctx, stage, files, tmp, meta, metaText, key, meta.port);
      await writeNewFile(join(tmp, META_FILE), metaText);
      sums.push({ sha256: createHash('sha256').update(metaText).digest('hex'), path: META_FILE });
      await writeNewFile(join(tmp, SUMS_FILE), formatSums(sums));
      await placeBackup(tmp, join(hostDir, String(meta.port)));
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      // A failed first backup leaves no empty folders behind.
      await removeIfEmpty(hostDir);
      await removeIfEmpty(dirname(hostDir));
      throw e;
    }
    return files.length;
  } catch (e) {
    if (e instanceof BackupError) throw new ModuleError(`redis_backup: ${e.message}`);
    throw e;
  } finally {
    await ctx.conn.sh('case $1 in /tmp/rplay-backup.*) rm -rf -- "$1" ;; esac', [stage]);
  }
}

/** BGSAVE, then the data staged on the host and stored on the controller. */
async function backUp(ctx: ModuleContext, op: BackupOfOne, login: RedisLogin): Promise<{ keys: number; files: number }> {
  const want: Wanted = { address: op.address, port: op.port, dir: op.dir };
  let client: Redis;
  try {
    client = await openRedis(ctx.conn, { ...login, host: want.address, port: want.port });
  } catch (e) {
    throw new ModuleError(`redis_backup: cannot log in to ${want.address}:${want.port} as ${login.user}: ${(e as Error).message}`);
  }
  let meta: BackupMeta;
  try {
    const described = await describeInstance(client, ctx.host, want, op.label);
    const saved = await bgsave(client, op.timeoutMs);
    meta = { ...described, saved_at: new Date(saved * 1000).toISOString() };
  } catch (e) {
    if (e instanceof ModuleError) throw e;
    throw new ModuleError(`redis_backup: ${want.address}:${want.port}: ${(e as Error).message}`);
  } finally {
    client.disconnect();
  }
  const staged = await ctx.conn.sh(STAGE, [meta.dir, meta.dbfilename, meta.appenddirname]);
  if (staged.rc !== 0) throw new ModuleError(`redis_backup: copying the data of ${want.port} aside on ${ctx.host} failed: ${tail(staged.stderr)}`);
  const files = await storeBackup(ctx, op.root, meta, staged.stdout, op.encryptionKey);
  return { keys: meta.keys, files };
}

/**
 * A Redis-level backup of this node's instances on the controller: BGSAVE as the admin user
 * (through the SSH tunnel), wait for it, then the RDB and the whole AOF folder (Redis 7's
 * appendonlydir/ with its manifest) fetched to backups/<label>/<host>/<port>/, encrypted with a
 * key derived from vault_backup_key, with backup.json and a SHA256SUMS file. What the host says
 * (CONFIG GET values, file names, sizes, sums) is checked before anything is written. A backup is immutable: a re-run with the same label is ok when it verifies,
 * and an error when its files no longer match their checksums. retain_count keeps the node's newest
 * N backups and removes older ones, after the new one is written. Registers `backups` (this label's,
 * verified, before the run), `made` (written by this run, with their key and file counts) and `pruned`.
 */
export const redisBackup = defineModule<typeof schema, BackupActual, BackupOp>({
  name: 'redis_backup',
  schema,
  async gather(ctx, args): Promise<BackupActual> {
    let vaultKey: string;
    try {
      vaultKey = checkBackupKey(args.encryption_key);
    } catch (e) {
      throw new ModuleError(`redis_backup: ${(e as Error).message}`);
    }
    if (!isSafeName(ctx.host)) throw new ModuleError(`redis_backup: the host name ${shown(ctx.host)} cannot name a backup folder`);
    const root = rootOf(ctx, args);
    const actual: BackupActual = { done: [], missing: [], prune: [], root };
    for (const i of args.instances) {
      const dir = backupDir(root, args.label, ctx.host, i.port);
      try {
        await checkNoSymlinks(root, dir);
        const b = await verifyBackup(dir, vaultKey);
        actual.done.push({ port: i.port, dir, keys: b.meta.keys });
      } catch (e) {
        if (!(e instanceof BackupError)) throw e;
        if (!/\(no SHA256SUMS\)$/.test(e.message)) {
          throw new ModuleError(`redis_backup: ${e.message}. A backup is never rewritten: move it away, or use another label`);
        }
        actual.missing.push({ address: i.address, port: i.port, dir });
      }
    }
    if (args.retain_count !== undefined) actual.prune = backupsToPrune(await nodeBackups(root, ctx.host), args.retain_count, args.label);
    if (actual.missing.length) await canLogIn(ctx, await loginOf(ctx, args), actual.missing);
    return actual;
  },
  plan(args, actual) {
    const shown = (dir: string): string => relative(process.cwd(), dir) || dir;
    const login = { login_user: args.login_user, login_password: args.login_password, tls: args.tls };
    return {
      changes: [
        ...actual.missing.map((m) => ({
          description: `BGSAVE on ${m.address}:${m.port} as ${args.login_user}, fetch the RDB and the AOF folder to ${shown(m.dir)}`,
          op: { kind: 'backup' as const, address: m.address, port: m.port, dir: m.dir, root: actual.root, label: args.label, timeoutMs: (args.timeout ?? 600) * 1000, login, encryptionKey: args.encryption_key },
        })),
        // Old ones go only once the new one is safely written: after it, in order.
        ...actual.prune.map((b) => ({ description: `remove ${shown(b.dir)} (saved ${b.savedAt}, beyond the newest ${args.retain_count ?? '?'})`, op: { kind: 'prune' as const, dir: b.dir, label: b.label } })),
      ],
      msg: `backup ${args.label} of ${actual.done.map((d) => d.port).join(', ')} exists and verifies`,
      result: { backups: actual.done.map((d) => ({ port: d.port, path: d.dir, keys: d.keys })) },
    };
  },
  async apply(ctx, ops) {
    const backups: Vars[] = [];
    const pruned: string[] = [];
    // One instance at a time: concurrent BGSAVEs on a node would compete for its memory (fork).
    for (const op of ops) {
      if (op.kind === 'backup') {
        const r = await backUp(ctx, op, await loginOf(ctx, op.login));
        backups.push({ port: op.port, path: op.dir, keys: r.keys, files: r.files });
      } else {
        await rm(op.dir, { recursive: true, force: true });
        await removeIfEmpty(dirname(op.dir));
        pruned.push(op.label);
      }
    }
    return { result: { made: backups, pruned } };
  },
});
