import { Type, type Static } from '@sinclair/typebox';
import type { Redis } from 'ioredis';
import type { Connection } from '../runner/connection/connection.js';
import { aclDrift, aclListByUser, canonicalAcl, commandTable, describeDrift, type Canonical, type CommandTable } from './redis/acl-canonical.js';
import { AclError, renderAclFile } from './redis/acl-file.js';
import { isRefused, loadLogin, redisLoginArgs, type RedisLoginArgs } from './redis/login.js';
import { openRedis, type RedisLogin } from './redis/open-redis.js';
import { defineModule, ModuleError, prefixedError, type Change, type ModuleContext, type Plan } from '../runner/types.js';
import { tail } from './host/tail.js';
import { attrCommands } from './files/file-attrs.js';
import { gatherDest, planDest, type DestState, type WantedFile } from './files/file-content.js';

const schema = Type.Object(
  {
    users: Type.Array(
      Type.Object(
        {
          name: Type.String({ minLength: 1 }),
          /** From the vault; the file holds only its SHA-256. */
          password: Type.Optional(Type.String()),
          enabled: Type.Optional(Type.Boolean()),
          rules: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
    path: Type.Optional(Type.String({ minLength: 1 })),
    owner: Type.Optional(Type.String({ minLength: 1 })),
    group: Type.Optional(Type.String({ minLength: 1 })),
    /** The address the node's Redis instances bind (its private address). */
    address: Type.Optional(Type.String({ minLength: 1 })),
    /** Ports of this node's instances: each one that is running gets the file loaded live. */
    ports: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }))),
    login_user: Type.Optional(redisLoginArgs.login_user),
    login_password: Type.Optional(redisLoginArgs.login_password),
    tls: Type.Optional(redisLoginArgs.tls),
  },
  { additionalProperties: false, dependencies: { ports: ['address', 'login_user', 'login_password', 'tls'] } },
);

type AclArgs = Static<typeof schema>;

const DEFAULT_PATH = '/etc/redis/users.acl';

/** One instance as gathered: not running, or its live users in Redis's canonical form. */
type LiveAcl = { port: number; running: false } | { port: number; running: true; users: Map<string, string>; table: CommandTable };

interface AclState {
  want: WantedFile;
  dest: DestState;
  canonical: Canonical;
  live: LiveAcl[];
}

/** users.acl with these bytes and attributes; `write: false` when only its attributes differ. */
export interface AclFileOp {
  kind: 'acl-file';
  path: string;
  content: Buffer;
  mode: string;
  owner: string;
  group: string;
  write: boolean;
}

/** ACL LOAD on one instance, then its live users checked against `expect` (Redis's canonical form of the file). */
export interface AclLoadOp {
  kind: 'acl-load';
  address: string;
  port: number;
  login: RedisLoginArgs;
  /** [user, canonical line] as Redis makes them of the file; null when no redis-server could say. */
  expect: [string, string][] | null;
}

export type AclOp = AclFileOp | AclLoadOp;

function where(address: string | undefined, port: number): string {
  return `${address ?? '?'}:${port}`;
}

function loginArgs(args: AclArgs): RedisLoginArgs {
  const { login_user, login_password, tls } = args;
  if (!login_user || !login_password || !tls) throw new ModuleError('redis_acl: ports need address, login_user, login_password and tls');
  return { login_user, login_password, tls };
}

async function login(ctx: ModuleContext, args: RedisLoginArgs): Promise<RedisLogin> {
  try {
    return await loadLogin(ctx.projectDir, args);
  } catch (e) {
    throw prefixedError('redis_acl', e);
  }
}

/** Runs `fn` with a client for the instance, or returns undefined when nothing listens there. */
async function withInstance<T>(conn: Connection, address: string, who: RedisLogin, port: number, fn: (c: Redis) => Promise<T>): Promise<T | undefined> {
  let client;
  try {
    client = await openRedis(conn, { ...who, host: address, port });
  } catch (e) {
    if (isRefused(e)) return undefined;
    throw new ModuleError(`redis_acl: cannot log in to ${where(address, port)} as ${who.user}: ${(e as Error).message}`);
  }
  try {
    return await fn(client);
  } catch (e) {
    throw new ModuleError(`redis_acl: on ${where(address, port)}: ${(e as Error).message}`);
  } finally {
    client.disconnect();
  }
}

/** The instance's users, read with its own command table (what its categories and commands cover). */
async function liveAcl(client: Redis): Promise<{ users: Map<string, string>; table: CommandTable }> {
  const [table, lines] = await Promise.all([commandTable((...argv) => client.call(argv[0]!, ...argv.slice(1))), client.call('ACL', 'LIST') as Promise<string[]>]);
  return { users: aclListByUser(lines, table), table };
}

async function gatherLive(ctx: ModuleContext, args: AclArgs, path: string): Promise<LiveAcl[]> {
  const ports = args.ports ?? [];
  if (ports.length === 0) return [];
  const who = await login(ctx, loginArgs(args));
  return Promise.all(
    ports.map(async (port): Promise<LiveAcl> => {
      const acl = await withInstance(ctx.conn, args.address ?? '', who, port, async (c) => {
        // ACL LOAD reads the instance's own aclfile; loading another path's content is a setup error.
        const [, aclfile] = (await c.call('CONFIG', 'GET', 'aclfile')) as [string, string];
        if (aclfile !== path) throw new Error(`the instance reads its users from '${aclfile}', not ${path}`);
        return liveAcl(c);
      });
      return acl === undefined ? { port, running: false } : { port, running: true, ...acl };
    }),
  );
}

async function gather(ctx: ModuleContext, args: AclArgs): Promise<AclState> {
  const path = args.path ?? DEFAULT_PATH;
  let content: string;
  try {
    content = renderAclFile(args.users);
  } catch (e) {
    if (e instanceof AclError) throw new ModuleError(`redis_acl: ${e.message}`);
    throw e;
  }
  const want: WantedFile = { dest: path, content: Buffer.from(content, 'utf8'), mode: '0640', owner: args.owner ?? 'redis', group: args.group ?? 'redis' };
  const [dest, live] = await Promise.all([gatherDest(ctx, want), gatherLive(ctx, args, path)]);
  // The instances on a node run one redis-server: any running one's command table serves.
  const canonical = canonicalAcl(content, path, live.find((l) => l.running)?.table);
  if (canonical.kind === 'rejected') throw new ModuleError(`redis_acl: Redis would reject ${path}: ${canonical.reason}`);
  return { want, dest, canonical, live };
}

/** Per running instance whose live users differ from the file's: why, one text per differing user. */
function drifted(s: AclState): Map<number, string[]> {
  if (s.canonical.kind !== 'ok') return new Map();
  const wanted = s.canonical.users;
  return new Map(
    s.live.flatMap((l) => {
      if (!l.running) return [];
      const why = aclDrift(wanted, l.users).map((d) => describeDrift(d, l.port));
      return why.length ? [[l.port, why] as const] : [];
    }),
  );
}

/**
 * Pure: the file (one change for its bytes and attributes), then ACL LOAD on each running instance
 * that needs it: all of them when the file's content changes, else those whose live users drifted.
 */
function plan(args: AclArgs, s: AclState): Plan<AclOp> {
  const changes: Change<AclOp>[] = [];
  const file = planDest(s.want, s.dest).changes;
  if (file.length) {
    const { dest: path, content, mode, owner, group } = s.want;
    // users.acl is rendered here, never a controller file.
    if (!Buffer.isBuffer(content)) throw new ModuleError(`redis_acl: ${path}: rendered content expected`);
    const op: AclFileOp = { kind: 'acl-file', path, content, mode: mode as string, owner: owner as string, group: group as string, write: !s.dest.sameContent };
    const diff = file.find((c) => c.diff)?.diff;
    changes.push({ description: file.map((c) => c.description).join('; '), ...(diff ? { diff } : {}), op });
  }
  const why = s.dest.sameContent ? drifted(s) : new Map<number, string[]>();
  const ports = s.dest.sameContent ? [...why.keys()] : s.live.filter((l) => l.running).map((l) => l.port);
  const expect = s.canonical.kind === 'ok' ? [...s.canonical.users.entries()] : null;
  for (const port of ports) {
    const op: AclLoadOp = { kind: 'acl-load', address: args.address ?? '', port, login: loginArgs(args), expect };
    changes.push({ description: [...(why.get(port) ?? []), `ACL LOAD on :${port}`].join('; '), op });
  }
  const running = s.live.filter((l) => l.running).map((l) => `:${l.port}`);
  const live = running.length ? `; live on ${running.join(', ')}` : '';
  return { changes, msg: changes.length ? undefined : `${s.want.dest} as wanted${live}`, result: { dest: s.want.dest } };
}

async function writeFile(ctx: ModuleContext, op: AclFileOp): Promise<void> {
  const attrs = { mode: op.mode, owner: op.owner, group: op.group };
  if (op.write) {
    await ctx.conn.writeFile(op.path, op.content, attrs);
    return;
  }
  const r = await ctx.conn.sh(['set -e', ...attrCommands(op.path, attrs)].join('\n'));
  if (r.rc !== 0) throw new ModuleError(`redis_acl: setting attributes of ${op.path} failed: ${tail(r.stderr)}`);
}

async function load(ctx: ModuleContext, op: AclLoadOp): Promise<void> {
  const who = await login(ctx, op.login);
  // ACL LOAD drops every logged-in client, this one included (after its reply): check on a new one.
  const loaded = await withInstance(ctx.conn, op.address, who, op.port, (c) => c.call('ACL', 'LOAD'));
  if (loaded === undefined) throw new ModuleError(`redis_acl: ${where(op.address, op.port)} stopped accepting connections since it was read`);
  if (op.expect === null) return;
  const wanted = new Map(op.expect);
  const left = await withInstance(ctx.conn, op.address, who, op.port, async (c) => aclDrift(wanted, (await liveAcl(c)).users));
  if (left?.length) throw new ModuleError(`redis_acl: after ACL LOAD, ${left.map((d) => describeDrift(d, op.port)).join('; ')}`);
}

/**
 * Redis users in users.acl (SHA-256 password hashes, mode 0640, owner redis), loaded live with
 * ACL LOAD into every running instance of the node; live drift (ACL SETUSER, ACL DELUSER) is found
 * by comparing ACL LIST with what Redis makes of the file, and put back by loading the file again.
 */
export const redisAcl = defineModule<typeof schema, AclState, AclOp>({
  name: 'redis_acl',
  schema,
  gather,
  plan,
  async apply(ctx, ops) {
    for (const op of ops) if (op.kind === 'acl-file') await writeFile(ctx, op);
    const loads = ops.filter((op): op is AclLoadOp => op.kind === 'acl-load');
    await Promise.all(loads.map((op) => load(ctx, op)));
    return { result: { loaded: loads.map((op) => op.port) } };
  },
});
