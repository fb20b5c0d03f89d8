// What a running Redis instance uses, against what rplay wants it to use: every setting of its config
// (CONFIG GET against the rendered template, or an explicit set), and the TLS certificate it serves
// (from a real handshake) against the one on disk. Drift is put back live with CONFIG SET; where Redis
// cannot change a setting live, that one instance is restarted. No CONFIG REWRITE: the file on disk
// is the template's output already, and Redis rewriting it would reformat it into template drift.
import { X509Certificate } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { Redis } from 'ioredis';
import { isRefused, loadLogin, redisLoginArgs, type RedisLoginArgs } from './redis/login.js';
import { openRedis, servedCertificate, type RedisLogin, type ServedCertificate } from './redis/open-redis.js';
import { defineModule, ModuleError, NotYetThere, prefixedError, type ApplyResult, type ModuleContext } from '../runner/types.js';
import { tail } from './host/tail.js';
import { renderProjectTemplate } from './files/project-template.js';
import { initSystem, unitActions, UNIT_STATE_SH, type InitSystem } from './host/unit-control.js';

const schema = Type.Object(
  {
    /** The instance's config template (as the template task renders it): each directive in it is a wanted setting. */
    src: Type.Optional(Type.String({ minLength: 1 })),
    /** Or the wanted settings themselves (name: value), e.g. only the certificate files. */
    settings: Type.Optional(
      Type.Record(Type.String({ pattern: '^[a-z][a-z0-9-]*$' }), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), { additionalProperties: false, minProperties: 1 }),
    ),
    /** Where the instance listens (its host's private address) and its TLS port. */
    address: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    /** The instance's unit: restarted (it alone) where a setting cannot change live. */
    service: Type.String({ minLength: 1 }),
    /**
     * Compare the certificate the instance serves with its tls-cert-file on disk, and load the file
     * when they differ. Default true; false where another task of the run does (tls.yml's), so one
     * pending reload is not reported twice.
     */
    certificate: Type.Optional(Type.Boolean()),
    ...redisLoginArgs,
  },
  { additionalProperties: false, oneOf: [{ required: ['src'] }, { required: ['settings'] }] },
);

type ConfigArgs = Static<typeof schema>;

/** Settings Redis never prints back in the clear from rplay: their values are never shown. */
const SECRET = new Set(['masterauth', 'requirepass', 'tls-key-file-pass', 'tls-client-key-file-pass']);

/**
 * Settings Redis 7 refuses to change live (immutable, or protected while enable-protected-configs is
 * off, as it is by default): a drift in one of these is put back by restarting the instance.
 */
export const RESTART_ONLY: ReadonlySet<string> = new Set([
  'aclfile',
  'cluster-config-file',
  'cluster-enabled',
  'cluster-port',
  'daemonize',
  'databases',
  'dir',
  'enable-debug-command',
  'enable-module-command',
  'enable-protected-configs',
  'io-threads',
  'logfile',
  'pidfile',
  'supervised',
  'syslog-enabled',
  'syslog-facility',
  'syslog-ident',
  'unixsocket',
  'unixsocketperm',
]);

const CERT = 'tls-cert-file';
const KEY = 'tls-key-file';

export class ConfigTextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigTextError';
  }
}

/** One line's arguments as Redis splits a config line: blanks separate, "…" with \-escapes, '…' with \' only. */
export function splitConfigLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  const escapes: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', a: '\x07' };
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i] as string)) i++;
    if (i >= line.length) break;
    let arg = '';
    const quote = line[i] === '"' || line[i] === "'" ? (line[i++] as string) : undefined;
    for (;;) {
      if (i >= line.length) {
        if (quote) throw new ConfigTextError(`unbalanced ${quote} quote`);
        break;
      }
      const ch = line[i] as string;
      if (quote === undefined) {
        if (/\s/.test(ch)) break;
        arg += ch;
        i++;
      } else if (ch === quote) {
        i++;
        if (i < line.length && !/\s/.test(line[i] as string)) throw new ConfigTextError(`a closing ${quote} quote must be followed by a blank`);
        break;
      } else if (ch === '\\' && quote === '"' && i + 1 < line.length) {
        const next = line[i + 1] as string;
        const hex = /^x([0-9a-fA-F]{2})/.exec(line.slice(i + 1));
        if (hex) {
          arg += String.fromCharCode(parseInt(hex[1] as string, 16));
          i += 4;
        } else {
          arg += escapes[next] ?? next;
          i += 2;
        }
      } else if (ch === '\\' && quote === "'" && line[i + 1] === "'") {
        arg += "'";
        i += 2;
      } else {
        arg += ch;
        i++;
      }
    }
    out.push(arg);
  }
  return out;
}

/** A setting and its value as CONFIG GET prints it (a directive's arguments joined by one space). */
export interface Setting {
  name: string;
  value: string;
}

/** The settings of a config file's text. A directive given twice is refused: rplay compares one value per setting. */
export function parseConfig(text: string, file: string): Setting[] {
  const seen = new Map<string, number>();
  const out: Setting[] = [];
  text.split('\n').forEach((raw, n) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    let args: string[];
    try {
      args = splitConfigLine(line);
    } catch (e) {
      throw new ConfigTextError(`${file}:${n + 1}: ${(e as Error).message}`);
    }
    const [name, ...values] = args;
    if (name === undefined) return;
    const key = name.toLowerCase();
    if (!/^[a-z][a-z0-9-]*$/.test(key)) throw new ConfigTextError(`${file}:${n + 1}: '${name}' is not a setting name`);
    const first = seen.get(key);
    if (first !== undefined) throw new ConfigTextError(`${file}:${n + 1}: '${key}' is set again (first on line ${first}); rplay compares one value per setting`);
    seen.set(key, n + 1);
    out.push({ name: key, value: values.join(' ') });
  });
  return out;
}

/** Bytes of a Redis memory value ("1gb", "100mb", "64k"), or undefined when it is not one. */
function memoryBytes(v: string): bigint | undefined {
  const m = /^(\d+)(k|kb|m|mb|g|gb)?$/i.exec(v);
  if (!m) return undefined;
  const unit: Record<string, bigint> = { k: 1000n, kb: 1024n, m: 1000n ** 2n, mb: 1024n ** 2n, g: 1000n ** 3n, gb: 1024n ** 3n };
  return BigInt(m[1] as string) * (m[2] ? (unit[m[2].toLowerCase()] as bigint) : 1n);
}

/** Whether CONFIG GET's `live` is the value written as `wanted` (yes/no in any case, memory units as bytes). */
export function sameValue(live: string, wanted: string): boolean {
  if (live === wanted) return true;
  if (/^(yes|no)$/i.test(wanted)) return live.toLowerCase() === wanted.toLowerCase();
  const bytes = memoryBytes(wanted);
  return bytes !== undefined && /^\d+$/.test(live) && BigInt(live) === bytes;
}

/** The certificate file on disk, as gathered: its fingerprint, or why there is none. */
export type DiskCert = { path: string; fingerprint256: string } | { path: string; missing: string };

export interface RunningInstance {
  running: true;
  pid: number;
  /** CONFIG GET of every wanted setting (and the certificate files). */
  values: Record<string, string>;
  served: ServedCertificate;
}

/** Nothing accepts connections there; `unit` is the unit's state (active: just starting). */
export type LiveInstance = { running: false; unit: string } | RunningInstance;

export interface ConfigState {
  /** "address:port". */
  where: string;
  service: string;
  init: InitSystem;
  /** Where the wanted settings come from (the template's path, or "the task's settings"). */
  source: string;
  wanted: Setting[];
  /** Present when tls-cert-file is a wanted setting (and the certificate is compared). */
  disk?: DiskCert;
  live: LiveInstance;
}

/** What puts the instance right: restart it, or CONFIG SET these settings (reloading TLS when the certificate is among them). */
export type ConfigFix = { kind: 'restart'; reasons: string[] } | { kind: 'set'; settings: Setting[]; reasons: string[] };

/** Where an instance listens. */
interface At {
  address: string;
  port: number;
}

/**
 * What apply runs: restart the unit, or CONFIG SET on the instance, then read it again and check it
 * runs as `expect` says (the state the plan was made from, with what Redis uses now).
 */
export type RedisConfigOp =
  | { kind: 'restart'; service: string; init: InitSystem; reasons: string[] }
  | {
      kind: 'config-set';
      address: string;
      port: number;
      login: RedisLoginArgs;
      /** The certificate seen served when the CA does not verify it: the only one accepted. */
      pinnedFingerprint256?: string;
      settings: Setting[];
      reasons: string[];
      /** The settings read back afterwards, and what they are compared with. */
      names: string[];
      expect: Omit<ConfigState, 'live'>;
    };

function shown(v: string): string {
  return v === '' ? '""' : /\s/.test(v) ? JSON.stringify(v) : v;
}

function driftText(name: string, live: string, wanted: string): string {
  if (SECRET.has(name)) return `${name}: live value differs from the wanted one (secret, not shown)`;
  return `${name}: live ${shown(live)}, wanted ${shown(wanted)}`;
}

function short(fp: string): string {
  return `${fp.slice(0, 23)}…`;
}

/** Pure: what makes the instance run with the wanted settings and serve the certificate on disk. */
export function configFixes(s: ConfigState): ConfigFix[] {
  const live = s.live;
  // Nothing to compare: when it starts (or, just started, begins to listen) it reads the file.
  if (!live.running) return [];
  const unknown = s.wanted.filter((w) => live.values[w.name] === undefined).map((w) => w.name);
  if (unknown.length) {
    throw new ModuleError(`redis_config: ${s.where} has no setting ${unknown.map((n) => `'${n}'`).join(', ')} (CONFIG GET returns nothing); ${s.source} names what this Redis does not know`);
  }
  const drifted = s.wanted.filter((w) => !sameValue(live.values[w.name] as string, w.value));
  const restart = drifted.filter((w) => RESTART_ONLY.has(w.name));
  if (restart.length) {
    return [{ kind: 'restart', reasons: drifted.map((w) => `${driftText(w.name, live.values[w.name] as string, w.value)}${RESTART_ONLY.has(w.name) ? ' (not changeable live)' : ''}`) }];
  }
  const reasons = drifted.map((w) => driftText(w.name, live.values[w.name] as string, w.value));
  const settings = [...drifted];
  if (s.disk !== undefined) {
    const disk = s.disk;
    const why =
      'missing' in disk
        ? `${s.where} serves certificate SHA-256 ${short(live.served.fingerprint256)}; ${disk.path} ${disk.missing}`
        : disk.fingerprint256 !== live.served.fingerprint256
          ? `${s.where} serves certificate SHA-256 ${short(live.served.fingerprint256)}, ${disk.path} holds ${short(disk.fingerprint256)}`
          : live.served.verified
            ? undefined
            : `${s.where} serves ${disk.path}, which the CA does not verify (${live.served.whyNot ?? 'unverified'})`;
    if (why !== undefined) {
      reasons.push(why);
      // Setting the certificate files rebuilds Redis's TLS context from disk, even with unchanged paths.
      for (const name of [CERT, KEY]) {
        if (!settings.some((x) => x.name === name)) settings.push(s.wanted.find((w) => w.name === name) ?? { name, value: live.values[name] as string });
      }
    }
  }
  return settings.length ? [{ kind: 'set', settings, reasons }] : [];
}

/** One line: why, then what is done. */
function describeFix(s: ConfigState, fix: ConfigFix): string {
  const what =
    fix.kind === 'restart'
      ? `restart ${s.service} (this instance only): Redis cannot change this live`
      : `CONFIG SET ${fix.settings.map((x) => x.name).join(' ')} on ${s.where}${fix.settings.some((x) => x.name === CERT) ? ' (reloads TLS from disk, no restart)' : ''}`;
  return [...fix.reasons, what].join('; ');
}

function opOf(args: ConfigArgs, s: ConfigState, fix: ConfigFix): RedisConfigOp {
  if (fix.kind === 'restart') return { kind: 'restart', service: s.service, init: s.init, reasons: fix.reasons };
  const live = s.live as RunningInstance;
  const { live: _now, ...expect } = s;
  return {
    kind: 'config-set',
    address: args.address,
    port: args.port,
    login: { login_user: args.login_user, login_password: args.login_password, tls: args.tls },
    ...(live.served.verified ? {} : { pinnedFingerprint256: live.served.fingerprint256 }),
    settings: fix.settings,
    reasons: fix.reasons,
    names: Object.keys(live.values),
    expect,
  };
}

interface HostFacts {
  init: InitSystem;
  unit: string;
  disk?: DiskCert;
}

// The init system and unit state on two lines, then the certificate file base64 on one line (or a reason).
const GATHER = `unit=$1 cert=$2
${UNIT_STATE_SH}
st=$(unit_state "$unit")
echo "\${st:-unknown}"
if [ -z "$cert" ]; then echo; elif [ ! -e "$cert" ]; then echo "!is missing"; elif [ ! -r "$cert" ]; then echo "!cannot be read"; else base64 -w0 < "$cert"; echo; fi`;

async function hostFacts(ctx: ModuleContext, args: ConfigArgs, certPath: string | undefined): Promise<HostFacts> {
  const r = await ctx.conn.sh(GATHER, [args.service, certPath ?? '']);
  if (r.rc !== 0) throw new ModuleError(`redis_config: reading ${args.service} on ${ctx.host} failed: ${tail(r.stderr)}`);
  const [init, unit, cert] = r.stdout.split('\n');
  const facts: HostFacts = { init: initSystem(init), unit: unit ?? 'unknown' };
  if (certPath === undefined) return facts;
  if (cert?.startsWith('!')) return { ...facts, disk: { path: certPath, missing: cert.slice(1) } };
  try {
    return { ...facts, disk: { path: certPath, fingerprint256: new X509Certificate(Buffer.from(cert ?? '', 'base64')).fingerprint256 } };
  } catch {
    return { ...facts, disk: { path: certPath, missing: 'holds no certificate' } };
  }
}

async function login(ctx: ModuleContext, args: RedisLoginArgs): Promise<RedisLogin> {
  try {
    return await loadLogin(ctx.projectDir, args);
  } catch (e) {
    throw prefixedError('redis_config', e);
  }
}

/** A client for the instance; a certificate the CA does not verify is accepted only if it is exactly the pinned one (just seen served). */
async function open(ctx: ModuleContext, args: At, who: RedisLogin, pinnedFingerprint256: string | undefined): Promise<Redis> {
  try {
    return await openRedis(ctx.conn, { ...who, host: args.address, port: args.port, ...(pinnedFingerprint256 === undefined ? {} : { pinnedFingerprint256 }) });
  } catch (e) {
    throw new ModuleError(`redis_config: cannot log in to ${args.address}:${args.port} as ${who.user}: ${(e as Error).message}`);
  }
}

async function readLive(ctx: ModuleContext, args: At, who: RedisLogin, names: readonly string[]): Promise<RunningInstance | undefined> {
  // The usual case (a certificate the CA verifies) logs in alongside the probe, not after it.
  const optimistic = openRedis(ctx.conn, { ...who, host: args.address, port: args.port }).catch((e: Error) => e);
  let served: ServedCertificate;
  try {
    served = await servedCertificate(ctx.conn, args.address, args.port, who);
  } catch (e) {
    const early = await optimistic;
    if (!(early instanceof Error)) early.disconnect();
    if (isRefused(e)) return undefined;
    throw new ModuleError(`redis_config: ${(e as Error).message}`);
  }
  const early = await optimistic;
  let c: Redis;
  if (!(early instanceof Error)) c = early;
  else if (served.verified) throw new ModuleError(`redis_config: cannot log in to ${args.address}:${args.port} as ${who.user}: ${early.message}`);
  else c = await open(ctx, args, who, served.fingerprint256);
  try {
    const [pairs, info] = (await Promise.all([c.call('CONFIG', 'GET', ...names), c.call('INFO', 'server')])) as [string[], string];
    const values: Record<string, string> = {};
    for (let i = 0; i + 1 < pairs.length; i += 2) values[pairs[i] as string] = pairs[i + 1] as string;
    const pid = Number(/^process_id:(\d+)/m.exec(info)?.[1]);
    return { running: true, pid, values, served };
  } catch (e) {
    throw new ModuleError(`redis_config: on ${args.address}:${args.port}: ${(e as Error).message}`);
  } finally {
    c.disconnect();
  }
}

async function wantedOf(ctx: ModuleContext, args: ConfigArgs): Promise<{ source: string; wanted: Setting[] }> {
  if (args.settings !== undefined) {
    const text = (v: string | number | boolean): string => (typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v));
    return { source: "the task's settings", wanted: Object.entries(args.settings).map(([name, v]) => ({ name, value: text(v) })) };
  }
  const { shown: source, rendered } = await renderProjectTemplate(ctx, args.src as string, 'redis_config');
  try {
    return { source, wanted: parseConfig(rendered, source) };
  } catch (e) {
    if (e instanceof ConfigTextError) throw new ModuleError(`redis_config: ${e.message}`);
    throw e;
  }
}

async function gather(ctx: ModuleContext, args: ConfigArgs): Promise<ConfigState> {
  const { source, wanted } = await wantedOf(ctx, args);
  const certPath = args.certificate === false ? undefined : wanted.find((w) => w.name === CERT)?.value;
  // Reloading the certificate needs the key file's path too, wanted or not.
  const names = [...new Set([...wanted.map((w) => w.name), ...(certPath === undefined ? [] : [CERT, KEY])])];
  let who: RedisLogin;
  try {
    who = await login(ctx, args);
  } catch (e) {
    // The client certificate is an earlier task's: an instance that does not run has nothing live to
    // read without it (a fresh host); one that runs is not there yet for this task.
    if (!(e instanceof NotYetThere)) throw e;
    const host = await hostFacts(ctx, args, certPath);
    if (['active', 'activating', 'reloading'].includes(host.unit)) throw e;
    return { where: `${args.address}:${args.port}`, service: args.service, init: host.init, source, wanted, ...(host.disk === undefined ? {} : { disk: host.disk }), live: { running: false, unit: host.unit } };
  }
  const [host, live] = await Promise.all([hostFacts(ctx, args, certPath), readLive(ctx, args, who, names)]);
  return {
    where: `${args.address}:${args.port}`,
    service: args.service,
    init: host.init,
    source,
    wanted,
    ...(host.disk === undefined ? {} : { disk: host.disk }),
    live: live ?? { running: false, unit: host.unit },
  };
}

async function restart(ctx: ModuleContext, op: Extract<RedisConfigOp, { kind: 'restart' }>): Promise<ApplyResult> {
  const r = await unitActions(ctx, op.init, op.service, ['restart']);
  if (r.rc !== 0) throw new ModuleError(`redis_config: restarting ${op.service} on ${ctx.host} failed: ${tail(r.stderr || r.stdout)}`);
  return { msg: `restarted ${op.service}: ${op.reasons.join('; ')}` };
}

async function configSet(ctx: ModuleContext, op: Extract<RedisConfigOp, { kind: 'config-set' }>): Promise<ApplyResult> {
  const where = op.expect.where;
  const who = await login(ctx, op.login);
  const c = await open(ctx, op, who, op.pinnedFingerprint256);
  try {
    await c.call('CONFIG', 'SET', ...op.settings.flatMap((x) => [x.name, x.value]));
  } catch (e) {
    throw new ModuleError(`redis_config: CONFIG SET ${op.settings.map((x) => x.name).join(' ')} on ${where}: ${(e as Error).message}`);
  } finally {
    c.disconnect();
  }
  // What Redis uses now must be what was wanted: a value it prints in another form than the
  // template's, or a certificate it will not serve, is an error now rather than drift forever.
  const after = await readLive(ctx, op, who, op.names);
  if (after === undefined) throw new ModuleError(`redis_config: ${where} stopped answering after CONFIG SET`);
  const left = configFixes({ ...op.expect, live: after });
  if (left.length) throw new ModuleError(`redis_config: after CONFIG SET on ${where}, still: ${left.flatMap((o) => o.reasons).join('; ')}`);
  return { msg: `${op.reasons.join('; ')}: set live on ${where} (pid ${after.pid})`, result: { pid: after.pid, served_fingerprint256: after.served.fingerprint256 } };
}

/**
 * A running Redis instance's live settings and served TLS certificate, compared with its config
 * template (or given settings) and the certificate on disk, and put back live: CONFIG SET, or a
 * restart of that one instance where Redis cannot change the setting live. An instance that is not
 * running has nothing live to compare: it reads the file when it starts.
 */
export const redisConfig = defineModule<typeof schema, ConfigState, RedisConfigOp>({
  name: 'redis_config',
  schema,
  gather,
  plan(args, s) {
    const fixes = configFixes(s);
    if (fixes.length) return { changes: fixes.map((fix) => ({ description: describeFix(s, fix), op: opOf(args, s, fix) })) };
    const live = s.live;
    if (!live.running) return { changes: [], msg: `nothing accepts connections on ${s.where} (${s.service}: ${live.unit}): it reads its config file when it starts` };
    const cert = s.disk === undefined ? '' : `, serving ${s.disk.path}`;
    return { changes: [], msg: `${s.where} (pid ${live.pid}) runs with the ${s.wanted.length} setting(s) of ${s.source}${cert}`, result: { pid: live.pid, served_fingerprint256: live.served.fingerprint256 } };
  },
  async apply(ctx, ops) {
    let out = {};
    for (const op of ops) out = await (op.kind === 'restart' ? restart(ctx, op) : configSet(ctx, op));
    return out;
  },
});
