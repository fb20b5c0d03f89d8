import { resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { LABEL_PATTERN } from './aws/snapshot-tags.js';
import { backupKey, checkBackupKey, decryptChunks, fileAad } from './redis/backup-crypto.js';
import { backupDir, BackupError, checkNoSymlinks, dataFiles, isSafeName, rdbBaseManifest, shown, verifyBackup, type VerifiedBackup } from './redis/backup-manifest.js';
import { putFile, remoteSums } from './redis/file-transfer.js';
import { loadLogin } from './redis/login.js';
import { openRedis } from './redis/open-redis.js';
import { defineModule, ModuleError, NotYetThere, type ModuleContext, type Vars } from '../runner/types.js';
import { tail } from './host/tail.js';
import { initSystem, unitActions, UNIT_STATE_SH, type InitSystem } from './host/unit-control.js';

const schema = Type.Object(
  {
    /** This node's instances to restore (redis_topology's `redis_local_instances` fits). */
    instances: Type.Array(Type.Object({ port: Type.Integer({ minimum: 1, maximum: 65535 }), address: Type.Optional(Type.String()) }, { additionalProperties: true }), { minItems: 1 }),
    /** The backup's label: backups/<label>/<from_host>/<port>. */
    label: Type.String({ pattern: LABEL_PATTERN }),
    /** Controller folder of the backups, relative to the project (default: backups). */
    src: Type.Optional(Type.String({ minLength: 1 })),
    /** Whose backup ('' or unset: this host's own). */
    from_host: Type.Optional(Type.String()),
    /** aof: the AOF folder as saved (the default when there is one); rdb: the RDB, as the AOF's base when appendonly is on. */
    from: Type.Optional(Type.Union([Type.Literal('aof'), Type.Literal('rdb'), Type.Literal('')])),
    /** The vault's vault_backup_key the backup was encrypted with. */
    encryption_key: Type.String(),
    /** restored (default), or verified: only check the backup and report `pending` (ports still to restore). */
    state: Type.Optional(Type.Union([Type.Literal('restored'), Type.Literal('verified')])),
    owner: Type.Optional(Type.String({ minLength: 1 })),
    group: Type.Optional(Type.String({ minLength: 1 })),
    /** The unit of an instance is <service_prefix><port> (default redis-). */
    service_prefix: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9@_.:-]*$' })),
    /**
     * Optional admin login: with it, `verified` also refuses when an instance that was a master at
     * backup time is a replica now (it would resync from its master and lose the restored keys).
     */
    login_user: Type.Optional(Type.String({ minLength: 1 })),
    login_password: Type.Optional(Type.String({ minLength: 1 })),
    tls: Type.Optional(Type.Object({ ca: Type.String(), cert: Type.String(), key: Type.String(), servername: Type.Optional(Type.String()) }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

type RestoreArgs = Static<typeof schema>;

/** Restored data dirs carry this file: "<label> <backup id>" of the backup put there. */
export const MARKER = 'rplay-restored';

interface InstanceFacts {
  port: number;
  unit: string;
  /** Where the backup's files go (the Redis `dir` saved in backup.json). */
  dir: string;
  running: boolean;
  /** The marker's line, or '' without one. */
  marker: string;
  /** ROLE now, when running and a login was given. */
  role: 'master' | 'replica' | null;
  backup: VerifiedBackup;
}

export interface RestoreActual {
  init: InitSystem;
  instances: InstanceFacts[];
}

const prefixOf = (args: RestoreArgs): string => args.service_prefix ?? 'redis-';
export const markerLine = (label: string, b: Pick<VerifiedBackup, 'id'>): string => `${label} ${b.id}`;

/** One round trip: init system, then per instance "<port> <ActiveState> <marker line>". */
const GATHER = `${UNIT_STATE_SH}
while [ $# -gt 0 ]; do
  port=$1 unit=$2 dir=$3; shift 3
  st=$(unit_state "$unit")
  m=; [ -L "$dir/${MARKER}" ] || m=$(head -c 200 -- "$dir/${MARKER}" 2>/dev/null | head -n 1 || true)
  printf '%s %s %s\\n' "$port" "\${st:-unknown}" "$m"
done`;

function parseGather(out: string): { init: InitSystem; states: Map<number, { state: string; marker: string }> } {
  const [first, ...lines] = out.split('\n');
  const states = new Map<number, { state: string; marker: string }>();
  for (const l of lines) {
    const m = /^(\d+) (\S+) ?(.*)$/.exec(l);
    if (m !== null) states.set(Number(m[1]), { state: m[2], marker: m[3].trim() });
  }
  return { init: initSystem(first), states };
}

/** Which files to put back, as (backup path → data dir path), and a generated AOF manifest if any. */
export function restoreLayout(b: Pick<VerifiedBackup, 'files' | 'meta'>, from: 'aof' | 'rdb' | undefined): { mode: 'aof' | 'rdb'; copies: [string, string][]; manifest: { path: string; text: string } | null } {
  const { rdb, aof } = dataFiles(b);
  const hasAof = aof.some((p) => p.endsWith('.manifest'));
  const mode = from ?? (hasAof ? 'aof' : 'rdb');
  if (mode === 'aof') {
    if (!hasAof) throw new BackupError(`the backup has no AOF folder (${b.meta.appenddirname}/ with a manifest): restore from the RDB (from: rdb)`);
    return { mode, copies: [...(rdb === null ? [] : [[rdb, rdb] as [string, string]]), ...aof.map((p) => [p, p] as [string, string])], manifest: null };
  }
  if (rdb === null) throw new BackupError(`the backup has no RDB file (${b.meta.dbfilename})`);
  if (!b.meta.appendonly) return { mode, copies: [[rdb, rdb]], manifest: null };
  // Redis 7 with appendonly on loads only the AOF: the RDB becomes the AOF's base.
  const m = rdbBaseManifest(b.meta.appendfilename);
  return { mode, copies: [[rdb, rdb], [rdb, `${b.meta.appenddirname}/${m.base}`]], manifest: { path: `${b.meta.appenddirname}/${m.manifestName}`, text: m.manifest } };
}

/** Moves the current data aside (kept, for forensics), puts the staged files in place, owner/mode, marker. */
const SWAP = `set -e
d=$1 stage=$2 keep=$3 owner=$4 marker=$5 db=$6 aof=$7
# A fresh folder: one planted under that name (a symlink elsewhere) fails the restore instead.
mkdir -- "$d/$keep"
for n in "$db" "$aof"; do if [ -e "$d/$n" ]; then mv -- "$d/$n" "$d/$keep/"; fi; done
rmdir -- "$d/$keep" 2>/dev/null || true
for n in "$stage"/* ; do [ -e "$n" ] || continue; mv -- "$n" "$d/"; done
for n in "$db" "$aof"; do
  if [ -e "$d/$n" ]; then
    chown -R -- "$owner" "$d/$n"
    find "$d/$n" -type d -exec chmod 0750 {} + ; find "$d/$n" -type f -exec chmod 0640 {} +
  fi
done
# Written in the private staging folder, then renamed over whatever is there (never through a symlink the data dir's owner left).
printf '%s\\n' "$marker" > "$stage/.marker"; chown -- "$owner" "$stage/.marker"; chmod 0640 "$stage/.marker"; mv -f -T -- "$stage/.marker" "$d/${MARKER}"
rmdir -- "$stage"`;

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** A private (0700, root's, mktemp-named) staging folder on the host, its path checked. */
const STAGE = `set -e
umask 077
s=$(mktemp -d /tmp/rplay-restore.XXXXXXXXXX)
if [ -n "$1" ]; then mkdir -- "$s/$1"; fi
echo "$s"`;
const STAGE_DIR = /^\/tmp\/rplay-restore\.[A-Za-z0-9]{10}$/;

/** Put backup `backup` (verified when gathered) under the stopped instance as `layout` says, then start its unit. */
export interface RestoreOp {
  kind: 'restore';
  port: number;
  unit: string;
  init: InitSystem;
  /** The instance's data dir (the `dir` saved in backup.json). */
  dir: string;
  label: string;
  backup: VerifiedBackup;
  layout: ReturnType<typeof restoreLayout>;
  /** "user:group" the files get. */
  owner: string;
  marker: string;
  /** vault_backup_key, checked. */
  encryptionKey: string;
}

async function restoreOne(ctx: ModuleContext, op: RestoreOp): Promise<string> {
  const { layout, backup } = op;
  const { meta } = backup;
  const aofDir = layout.manifest !== null || layout.copies.some(([, dst]) => dst.includes('/'));
  const prep = await ctx.conn.sh(STAGE, [aofDir ? meta.appenddirname : '']);
  const stage = prep.stdout.trim();
  if (prep.rc !== 0) throw new ModuleError(`redis_restore: preparing a staging folder on ${ctx.host} failed: ${tail(prep.stderr)}`);
  if (!STAGE_DIR.test(stage)) throw new ModuleError(`redis_restore: the host named its staging folder ${shown(stage)}, not /tmp/rplay-restore.XXXXXXXXXX: refused`);
  const key = backupKey(op.encryptionKey, meta.encryption);
  const sent = new Map<string, string>();
  try {
    for (const [src, dst] of layout.copies) {
      const target = `${stage}/${dst}`;
      const plain = decryptChunks(resolve(backup.dir, ...src.split('/')), key, fileAad(backup.metaText, src));
      try {
        sent.set(target, (await putFile(ctx.conn, plain, target)).sha256);
      } catch (e) {
        throw new ModuleError(`redis_restore: ${src} of backup ${op.label}: ${(e as Error).message}; nothing was replaced`);
      }
    }
    // End to end: what landed on the host is what decrypted (and authenticated) here.
    const onHost = await remoteSums(ctx.conn, [...sent.keys()]);
    for (const [target, sha] of sent) {
      const got = onHost.get(target);
      if (got !== sha) throw new ModuleError(`redis_restore: ${target} on ${ctx.host} has sha256 ${got ?? 'none'}, the backup's plaintext has ${sha}: transfer damaged, nothing was replaced`);
    }
    if (layout.manifest !== null) await ctx.conn.writeFile(`${stage}/${layout.manifest.path}`, layout.manifest.text, { mode: '0640' });
  } catch (e) {
    await ctx.conn.sh('case $1 in /tmp/rplay-restore.*) rm -rf -- "$1" ;; esac', [stage]);
    throw e;
  }
  // The time of the swap names the folder the replaced files are kept in.
  const keep = `replaced-${stamp()}`;
  const swap = await ctx.conn.sh(SWAP, [op.dir, stage, keep, op.owner, op.marker, meta.dbfilename, meta.appenddirname]);
  if (swap.rc !== 0) throw new ModuleError(`redis_restore: putting the backup into ${op.dir} on ${ctx.host} failed: ${tail(swap.stderr)}`);
  const start = await unitActions(ctx, op.init, op.unit, ['start']);
  if (start.rc !== 0) throw new ModuleError(`redis_restore: the backup is in ${op.dir}, but starting ${op.unit} failed: ${tail(start.stderr)}`);
  return `${op.port}: ${layout.mode} of ${op.label} in place (old files in ${op.dir}/${keep} if any), ${op.unit} started`;
}

async function currentRole(ctx: ModuleContext, args: RestoreArgs, address: string | undefined, port: number): Promise<'master' | 'replica' | null> {
  if (args.login_user === undefined || args.login_password === undefined || args.tls === undefined || address === undefined) return null;
  const login = await loadLogin(ctx.projectDir, { login_user: args.login_user, login_password: args.login_password, tls: args.tls });
  const client = await openRedis(ctx.conn, { ...login, host: address, port }).catch((e: Error) => {
    throw new ModuleError(`redis_restore: cannot log in to ${address}:${port} to read its role: ${e.message}`);
  });
  try {
    return ((await client.call('ROLE')) as unknown[])[0] === 'master' ? 'master' : 'replica';
  } finally {
    client.disconnect();
  }
}

/**
 * Puts a backup made by redis_backup back under a stopped Redis instance and starts it (the
 * runbook's data-corruption scenario): the backup is checked against its SHA256SUMS and every file
 * decrypted with vault_backup_key (its authentication tag checked) first, in gather, so a `verified`
 * run refuses a wrong key or a changed byte before anything stops; files are staged on the host in
 * a private mktemp folder; an instance that is running is refused, never stopped behind the
 * user's back; the current files are kept aside in the data dir; files land with the instance's owner and modes; nodes.conf is left as
 * it is, so the node rejoins its cluster as itself. A data dir that already holds this backup
 * (its marker says so) is ok: re-running never throws away what was written since.
 */
export const redisRestore = defineModule<typeof schema, RestoreActual, RestoreOp>({
  name: 'redis_restore',
  schema,
  async gather(ctx, args): Promise<RestoreActual> {
    let vaultKey: string;
    try {
      vaultKey = checkBackupKey(args.encryption_key);
    } catch (e) {
      throw new ModuleError(`redis_restore: ${(e as Error).message}; nothing was changed`);
    }
    const root = resolve(ctx.projectDir, args.src ?? 'backups');
    const from = args.from_host === undefined || args.from_host === '' ? ctx.host : args.from_host;
    if (!isSafeName(from)) throw new ModuleError(`redis_restore: the host name ${shown(from)} cannot name a backup folder`);
    const backups: VerifiedBackup[] = [];
    for (const i of args.instances) {
      try {
        const dir = backupDir(root, args.label, from, i.port);
        await checkNoSymlinks(root, dir);
        backups.push(await verifyBackup(dir, vaultKey));
      } catch (e) {
        if (e instanceof BackupError) throw new ModuleError(`redis_restore: refusing to restore ${from}:${i.port}: ${e.message}`);
        throw e;
      }
    }
    const triples = args.instances.flatMap((i, k) => [String(i.port), `${prefixOf(args)}${i.port}`, (backups[k] as VerifiedBackup).meta.dir]);
    const r = await ctx.conn.sh(GATHER, triples);
    if (r.rc !== 0) throw new ModuleError(`redis_restore: reading the instances' state on ${ctx.host} failed: ${tail(r.stderr)}`);
    const { init, states } = parseGather(r.stdout);
    const instances: InstanceFacts[] = [];
    for (const [k, i] of args.instances.entries()) {
      const backup = backups[k] as VerifiedBackup;
      const s = states.get(i.port) ?? { state: 'unknown', marker: '' };
      const running = ['active', 'activating', 'reloading'].includes(s.state);
      const pending = s.marker !== markerLine(args.label, backup);
      instances.push({
        port: i.port,
        unit: `${prefixOf(args)}${i.port}`,
        dir: backup.meta.dir,
        running,
        marker: s.marker,
        role: running && pending ? await currentRole(ctx, args, i.address, i.port) : null,
        backup,
      });
    }
    return { init, instances };
  },
  plan(args, actual) {
    const pending = actual.instances.filter((f) => f.marker !== markerLine(args.label, f.backup));
    for (const f of pending) {
      if (f.backup.meta.role === 'master' && f.role === 'replica') {
        throw new ModuleError(
          `redis_restore: ${f.backup.meta.address}:${f.port} was a master when backup ${args.label} was taken and is a replica now: restored, it would resync from its master and lose the backup's keys. Make it a master again first (CLUSTER FAILOVER on it), then run again`,
        );
      }
    }
    const result: Vars = { pending: pending.map((f) => f.port), restored: actual.instances.filter((f) => !pending.includes(f)).map((f) => f.port) };
    if (args.state === 'verified' || pending.length === 0) {
      return { changes: [], msg: pending.length === 0 ? `backup ${args.label} is in place on ${actual.instances.map((f) => f.port).join(', ')}` : `backup ${args.label} verifies; to restore: ${pending.map((f) => f.port).join(', ')}`, result };
    }
    const running = pending.filter((f) => f.running);
    if (running.length > 0) {
      // Stopping them is an earlier task's (restore.yml stops each before restoring it).
      const units = running.map((f) => f.unit).join(', ');
      throw new NotYetThere(`redis_restore: refusing to restore under running instance(s) ${units}: stop them first (service: state=stopped); nothing was changed`, `${units} stopped`);
    }
    const from = args.from === '' ? undefined : args.from;
    const owner = `${args.owner ?? 'redis'}:${args.group ?? args.owner ?? 'redis'}`;
    return {
      changes: pending.map((f) => {
        let layout: RestoreOp['layout'];
        try {
          layout = restoreLayout(f.backup, from);
        } catch (e) {
          throw new ModuleError(`redis_restore: ${f.port}: ${(e as Error).message}`);
        }
        const op: RestoreOp = { kind: 'restore', port: f.port, unit: f.unit, init: actual.init, dir: f.dir, label: args.label, backup: f.backup, layout, owner, marker: markerLine(args.label, f.backup), encryptionKey: args.encryption_key };
        return { description: `restore ${f.port} from backup ${args.label} (${layout.mode}, ${f.backup.meta.keys} key(s) saved ${f.backup.meta.saved_at}) into ${f.dir}, keeping the current files aside; start ${f.unit}`, op };
      }),
      result,
    };
  },
  async apply(ctx, ops) {
    const msgs: string[] = [];
    for (const op of ops) msgs.push(await restoreOne(ctx, op));
    return { msg: msgs.join('; ') };
  },
});
