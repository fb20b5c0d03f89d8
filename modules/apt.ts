import { Type } from '@sinclair/typebox';
import { defineModule, ModuleError, NotYetThere, type Change } from '../runner/types.js';
import { tail } from './host/tail.js';

const PkgName = Type.String({ pattern: '^[a-z0-9][a-z0-9+.-]+$', description: 'a Debian package name' });

const schema = Type.Object(
  {
    name: Type.Optional(Type.Union([PkgName, Type.Array(PkgName, { minItems: 1 })])),
    state: Type.Optional(Type.Union([Type.Literal('present'), Type.Literal('absent'), Type.Literal('latest')])),
    update_cache: Type.Optional(Type.Boolean()),
    /** With update_cache: refresh only when the last refresh is older than this many seconds. */
    cache_valid_time: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Seconds to wait for a dpkg lock held by another process (unattended-upgrades on a fresh instance). */
    lock_timeout: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false, anyOf: [{ required: ['name'] }, { required: ['update_cache'] }] },
);

export interface AptState {
  /** Installed version per package (absent: not installed). */
  installed: Record<string, string>;
  /** Candidate version per package, only gathered for state: latest. */
  candidate: Record<string, string>;
  /** Host clock and the time of the last successful cache refresh (0: never), in seconds. */
  now: number;
  cacheTime: number;
}

// Touched after each successful refresh (Ubuntu's update-notifier keeps the same file); the lists
// folder's mtime is the fallback, as Ansible does.
const STAMP = '/var/lib/apt/periodic/update-success-stamp';

// One round trip: $1 is 1 for state latest, the rest are package names.
const GATHER = `latest=$1; shift
echo '--installed--'
[ $# -gt 0 ] && dpkg-query -W -f='\${Package} \${Status} \${Version}\\n' "$@" 2>/dev/null
if [ "$latest" = 1 ]; then echo '--policy--'; LC_ALL=C apt-cache policy "$@"; fi
echo '--cache--'
date +%s
stat -c %Y ${STAMP} 2>/dev/null || stat -c %Y /var/lib/apt/lists 2>/dev/null || echo 0`;

function names(name: string | string[] | undefined): string[] {
  return name === undefined ? [] : typeof name === 'string' ? [name] : name;
}

/** Parse the GATHER output (exported for tests). */
export function parseAptGather(out: string): AptState {
  const s: AptState = { installed: {}, candidate: {}, now: 0, cacheTime: 0 };
  let part = '';
  let pkg = '';
  const cache: number[] = [];
  for (const line of out.split('\n')) {
    const head = /^--(\w+)--$/.exec(line);
    if (head) {
      part = head[1];
      continue;
    }
    if (part === 'installed') {
      // "hello install ok installed 2.10-3"; "deinstall ok config-files" is not installed.
      const f = line.split(' ');
      if (f.length >= 5 && f[3] === 'installed') s.installed[f[0]] = f[4];
    } else if (part === 'policy') {
      const p = /^(\S+):$/.exec(line);
      if (p) pkg = p[1];
      const c = /^\s+Candidate: (\S+)/.exec(line);
      if (c && pkg && c[1] !== '(none)') s.candidate[pkg] = c[1];
    } else if (part === 'cache' && /^\d+$/.test(line)) {
      cache.push(Number(line));
    }
  }
  [s.now = 0, s.cacheTime = 0] = cache;
  return s;
}

/**
 * What apply runs. `update` refreshes the cache; install and remove name the exact packages, and
 * `updateFirst` refreshes the cache just before them. Every op carries the lock timeout.
 */
export type AptOp =
  | { kind: 'update'; lockTimeout: number }
  | { kind: 'install' | 'remove'; packages: string[]; updateFirst: boolean; lockTimeout: number };

type AptArgs = { name?: string | string[]; state?: string; update_cache?: boolean; cache_valid_time?: number; lock_timeout?: number };

/** Pure: which packages to install or remove, and whether the cache needs a refresh first. */
function decide(args: AptArgs, s: AptState): Change<AptOp>[] {
  const want = names(args.name);
  const state = args.state ?? 'present';
  const lockTimeout = args.lock_timeout ?? 300;
  const changes: Change<AptOp>[] = [];
  let pkgs: string[];
  if (state === 'absent') {
    pkgs = want.filter((n) => s.installed[n] !== undefined);
    if (pkgs.length) changes.push({ description: `remove ${pkgs.join(', ')}`, op: { kind: 'remove', packages: pkgs, updateFirst: false, lockTimeout } });
  } else {
    const missing = want.filter((n) => s.installed[n] === undefined);
    const old =
      state === 'latest' ? want.filter((n) => s.installed[n] !== undefined && s.candidate[n] !== undefined && s.candidate[n] !== s.installed[n]) : [];
    if (missing.length) changes.push({ description: `install ${missing.join(', ')}`, op: { kind: 'install', packages: missing, updateFirst: false, lockTimeout } });
    for (const n of old) changes.push({ description: `upgrade ${n} ${s.installed[n]} → ${s.candidate[n]}`, op: { kind: 'install', packages: [n], updateFirst: false, lockTimeout } });
    pkgs = [...missing, ...old];
  }
  // Without cache_valid_time the cache is refreshed only before packages change (or when the task
  // is nothing but a refresh), so a converged run stays ok without a network round trip.
  if (args.update_cache) {
    const age = s.now - s.cacheTime;
    const update = (description: string): void => void changes.unshift({ description, op: { kind: 'update', lockTimeout } });
    if (args.cache_valid_time !== undefined) {
      if (s.cacheTime === 0 || age > args.cache_valid_time) update(s.cacheTime ? `update apt cache (last refreshed ${age} s ago)` : 'update apt cache (never refreshed)');
    } else if (!pkgs.length) {
      if (want.length === 0) update('update apt cache');
    } else {
      const op = changes[0].op;
      if (op?.kind !== 'update' && op) op.updateFirst = true;
    }
  }
  return changes;
}

/**
 * A clear message when apt gave up on a lock another process holds; undefined for other failures.
 * `output` is stdout and stderr: apt prints who holds the lock ("Waiting for cache lock: …") on stdout.
 */
export function lockError(output: string, timeout: number): string | undefined {
  if (!/Could not get lock|Unable to acquire the dpkg|Unable to lock/.test(output)) return undefined;
  const held = /Could not get lock (\S+?)\.?\s+It is held by process (\d+)(?: \(([^)]*)\))?/.exec(output);
  const who = held ? `${held[1]} is held by ${held[3] ?? 'process'} (pid ${held[2]})` : 'the dpkg/apt lock is held by another process';
  return `${who} and was not released within lock_timeout ${timeout} s (another apt/dpkg run such as unattended-upgrades is busy; retry later or raise lock_timeout)`;
}

// apt-get update does not honour DPkg::Lock::Timeout for the lists lock, so it is retried here
// while that lock is busy, up to the same timeout.
const UPDATE_FN = `update_cache() {
  end=$(( $(date +%s) + $1 ))
  while :; do
    if out=$(apt-get -q -y update 2>&1); then printf '%s\\n' "$out"; return 0; fi
    case $out in
      *'Could not get lock'*) if [ "$(date +%s)" -lt "$end" ]; then sleep 1; continue; fi ;;
    esac
    printf '%s\\n' "$out" >&2
    return 1
  done
}`;

/** Debian packages present, absent or at the newest version; waits for a busy dpkg lock. */
export const apt = defineModule({
  name: 'apt',
  schema,
  async gather(ctx, args): Promise<AptState> {
    const r = await ctx.conn.sh(GATHER, [args.state === 'latest' ? '1' : '0', ...names(args.name)]);
    if (r.rc !== 0) throw new ModuleError(`apt: reading package state failed: ${tail(r.stderr)}`);
    const s = parseAptGather(r.stdout);
    // A package to install that apt does not know (its source is an earlier task's): a real install
    // would fail, so it is not planned as one. With update_cache the refresh comes first and decides.
    if (args.state === 'absent' || args.update_cache) return s;
    const missing = names(args.name).filter((n) => s.installed[n] === undefined);
    if (missing.length === 0) return s;
    const p = args.state === 'latest' ? r : await ctx.conn.sh('LC_ALL=C apt-cache policy "$@"', missing);
    const known = args.state === 'latest' ? s.candidate : parseAptGather(`--policy--\n${p.stdout}`).candidate;
    const unknown = missing.filter((n) => known[n] === undefined);
    if (unknown.length) {
      throw new NotYetThere(`apt: no installation candidate for ${unknown.join(', ')} in this host's apt sources`, `package ${unknown.join(', ')} in the apt sources`);
    }
    return s;
  },
  plan(args, s) {
    const changes = decide(args, s);
    const want = names(args.name);
    const state = args.state ?? 'present';
    return {
      changes,
      msg: changes.length ? undefined : want.length ? `${want.join(', ')} ${state === 'absent' ? 'not installed' : state === 'latest' ? 'at the newest version' : 'installed'}` : 'apt cache is fresh',
    };
  },
  async apply(ctx, ops) {
    // One round trip, the ops in order; adjacent installs are one apt-get run (one dpkg transaction).
    const timeout = Math.max(...ops.map((o) => o.lockTimeout));
    const aptGet = `apt-get -q -y -o DPkg::Lock::Timeout=${timeout}`;
    const lines = ['set -e', 'export DEBIAN_FRONTEND=noninteractive', UPDATE_FN];
    const refresh = `update_cache ${timeout}\nmkdir -p ${STAMP.replace(/\/[^/]+$/, '')} && touch ${STAMP}`;
    const pkgs: string[] = [];
    let verb = '';
    for (const [i, op] of ops.entries()) {
      if (op.kind === 'update' || op.updateFirst) lines.push(refresh);
      if (op.kind === 'update') continue;
      const merged = ops[i - 1]?.kind === op.kind && !op.updateFirst;
      const words = op.packages.map((n) => `"\${${pkgs.push(n)}}"`);
      if (merged) lines[lines.length - 1] += ` ${words.join(' ')}`;
      else lines.push(`${aptGet} ${op.kind} ${words.join(' ')}`);
      verb = op.kind;
    }
    const r = await ctx.conn.sh(lines.join('\n'), pkgs);
    const updated = ops.some((o) => o.kind === 'update' || o.updateFirst);
    const result = { packages: pkgs, cache_updated: updated, stdout: r.stdout, stderr: r.stderr, rc: r.rc };
    if (r.rc !== 0) {
      const why = lockError(`${r.stdout}\n${r.stderr}`, timeout) ?? tail(r.stderr);
      throw new ModuleError(`apt ${pkgs.length ? `${verb} ${pkgs.join(' ')}` : 'update'} failed: ${why}`, result);
    }
    return { result };
  },
});
