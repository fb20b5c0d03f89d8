import { mkdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import type { Redis } from 'ioredis';
import { LABEL_PATTERN } from '../runner/aws/snapshot-tags.js';
import { backupDir, BackupError, formatSums, META_FILE, sha256File, SUMS_FILE, verifyBackup, type BackupMeta, type SumEntry } from '../runner/redis/backup-manifest.js';
import { backupsToPrune, nodeBackups, type NodeBackup } from '../runner/redis/backup-retention.js';
import { bgsave } from '../runner/redis/bgsave.js';
import { parseClusterInfo as parseInfo } from '../runner/redis/cluster-state.js';
import { fetchFile } from '../runner/redis/file-transfer.js';
import { isRefused, loadLogin, redisLoginArgs } from '../runner/redis/login.js';
import { openRedis, type RedisLogin } from '../runner/redis/open-redis.js';
import { defineModule, ModuleError, NotYetThere, prefixedError, type ModuleContext, type Vars } from '../runner/types.js';
import { hostOpts, tail } from './lib/exec.js';

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
}

const rootOf = (ctx: Pick<ModuleContext, 'projectDir'>, args: BackupArgs): string => resolve(ctx.projectDir, args.dest ?? 'backups');

/** Lists the staged files: "<size> <sha256> <path>" per file, after the staging folder's path. */
const STAGE = `set -e
d=$1; db=$2; aof=$3
s=$(mktemp -d "$(dirname -- "$d")/.rplay-backup.XXXXXX")
echo "$s"
cp -p -- "$d/$db" "$s/$db"
if [ -d "$d/$aof" ]; then cp -rp -- "$d/$aof" "$s/$aof"; fi
cd "$s"
find . -type f -printf '%P\\n' | sort | while IFS= read -r f; do
  printf '%s %s %s\\n' "$(stat -c %s -- "$f")" "$(sha256sum -- "$f" | cut -d' ' -f1)" "$f"
done`;

interface StagedFile {
  size: number;
  sha256: string;
  path: string;
}

function parseStaged(out: string): { dir: string; files: StagedFile[] } {
  const [dir = '', ...lines] = out.trim().split('\n');
  const files = lines.map((l) => {
    const m = /^(\d+) ([0-9a-f]{64}) (.+)$/.exec(l);
    if (m === null) throw new ModuleError(`redis_backup: unexpected listing line ${JSON.stringify(l)}`);
    return { size: Number(m[1]), sha256: m[2], path: m[3] };
  });
  return { dir, files };
}

async function configValue(client: Redis, name: string): Promise<string> {
  const r = (await client.call('CONFIG', 'GET', name)) as string[];
  return r[1] ?? '';
}

/** What Redis says about itself for backup.json (before the save, so a failed save leaves nothing). */
async function describeInstance(client: Redis, host: string, want: Wanted, label: string): Promise<Omit<BackupMeta, 'saved_at'>> {
  const [dir, dbfilename, appendonly, appenddirname, appendfilename] = await Promise.all(
    ['dir', 'dbfilename', 'appendonly', 'appenddirname', 'appendfilename'].map((n) => configValue(client, n)),
  );
  const server = parseInfo(String(await client.call('INFO', 'server')));
  const role = ((await client.call('ROLE')) as unknown[])[0] === 'master' ? 'master' : 'replica';
  const nodeId = await client.call('CLUSTER', 'MYID').then((id) => String(id), () => null);
  const keys = Number(await client.call('DBSIZE'));
  return {
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
  };
}

async function loginOf(ctx: ModuleContext, args: BackupArgs): Promise<RedisLogin> {
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

/** BGSAVE, then the RDB and AOF folder fetched into `<final>.partial`, SHA256SUMS last, renamed into place. */
async function backUp(ctx: ModuleContext, args: BackupArgs, login: RedisLogin, want: Wanted): Promise<{ keys: number; files: number }> {
  let client: Redis;
  try {
    client = await openRedis(ctx.conn, { ...login, host: want.address, port: want.port });
  } catch (e) {
    throw new ModuleError(`redis_backup: cannot log in to ${want.address}:${want.port} as ${login.user}: ${(e as Error).message}`);
  }
  let meta: BackupMeta;
  try {
    const described = await describeInstance(client, ctx.host, want, args.label);
    const saved = await bgsave(client, (args.timeout ?? 600) * 1000);
    meta = { ...described, saved_at: new Date(saved * 1000).toISOString() };
  } catch (e) {
    throw new ModuleError(`redis_backup: ${want.address}:${want.port}: ${(e as Error).message}`);
  } finally {
    client.disconnect();
  }

  const staged = await ctx.conn.sh(STAGE, [meta.dir, meta.dbfilename, meta.appenddirname], hostOpts(ctx));
  if (staged.rc !== 0) throw new ModuleError(`redis_backup: copying the data of ${want.port} aside on ${ctx.host} failed: ${tail(staged.stderr)}`);
  const { dir: stage, files } = parseStaged(staged.stdout);
  const partial = `${want.dir}.partial`;
  try {
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true });
    const sums: SumEntry[] = [];
    for (const f of files) {
      const local = join(partial, ...f.path.split('/'));
      await mkdir(dirname(local), { recursive: true });
      const got = await fetchFile(ctx.conn, `${stage}/${f.path}`, local, f.size, hostOpts(ctx));
      if (got.sha256 !== f.sha256) throw new ModuleError(`redis_backup: ${f.path} of ${want.port} arrived with sha256 ${got.sha256}, not the host's ${f.sha256}`);
      sums.push({ sha256: f.sha256, path: f.path });
    }
    await writeFile(join(partial, META_FILE), `${JSON.stringify(meta, null, 2)}\n`, { mode: 0o600 });
    sums.push({ sha256: await sha256File(join(partial, META_FILE)), path: META_FILE });
    await writeFile(join(partial, SUMS_FILE), formatSums(sums), { mode: 0o600 });
    await rename(partial, want.dir);
    return { keys: meta.keys, files: files.length };
  } finally {
    await rm(partial, { recursive: true, force: true });
    await ctx.conn.sh('case $1 in */.rplay-backup.*) rm -rf -- "$1" ;; esac', [stage], hostOpts(ctx));
  }
}

/**
 * A Redis-level backup of this node's instances on the controller: BGSAVE as the admin user
 * (through the SSH tunnel), wait for it, then the RDB and the whole AOF folder (Redis 7's
 * appendonlydir/ with its manifest) fetched to backups/<label>/<host>/<port>/ with backup.json and
 * a SHA256SUMS file. A backup is immutable: a re-run with the same label is ok when it verifies,
 * and an error when its files no longer match their checksums. retain_count keeps the node's newest
 * N backups and removes older ones, after the new one is written.
 */
export const redisBackup = defineModule({
  name: 'redis_backup',
  schema,
  async gather(ctx, args): Promise<BackupActual> {
    const root = rootOf(ctx, args);
    const actual: BackupActual = { done: [], missing: [], prune: [] };
    for (const i of args.instances) {
      const dir = backupDir(root, args.label, ctx.host, i.port);
      try {
        const b = await verifyBackup(dir);
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
    return {
      changes: [
        ...actual.missing.map((m) => ({ description: `BGSAVE on ${m.address}:${m.port} as ${args.login_user}, fetch the RDB and the AOF folder to ${shown(m.dir)}` })),
        ...actual.prune.map((b) => ({ description: `remove ${shown(b.dir)} (saved ${b.savedAt}, beyond the newest ${args.retain_count ?? '?'})` })),
      ],
      msg: `backup ${args.label} of ${actual.done.map((d) => d.port).join(', ')} exists and verifies`,
      result: { backups: actual.done.map((d) => ({ port: d.port, path: d.dir, keys: d.keys })) },
    };
  },
  async apply(ctx, args, _plan, actual) {
    const login = await loginOf(ctx, args);
    const backups: Vars[] = actual.done.map((d) => ({ port: d.port, path: d.dir, keys: d.keys }));
    // One instance at a time: concurrent BGSAVEs on a node would compete for its memory (fork).
    for (const want of actual.missing) {
      const r = await backUp(ctx, args, login, want);
      backups.push({ port: want.port, path: want.dir, keys: r.keys, files: r.files });
    }
    // Old ones go only once this one is safely written.
    for (const b of actual.prune) {
      await rm(b.dir, { recursive: true, force: true });
      await removeIfEmpty(dirname(b.dir));
    }
    return { result: { backups, pruned: actual.prune.map((b) => b.label) } };
  },
});

/** The label folder goes with its last node's backup. Every node prunes at once: rmdir alone is atomic. */
async function removeIfEmpty(dir: string): Promise<void> {
  try {
    await rmdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOENT') throw e;
  }
}
