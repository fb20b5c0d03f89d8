import { Type, type Static } from '@sinclair/typebox';
import type { Redis } from 'ioredis';
import type { Connection } from '../runner/connection/connection.js';
import { aclDrift, aclListByUser, canonicalAcl, commandTable, describeDrift, type Canonical, type CommandTable } from './redis/acl-canonical.js';
import { AclError, renderAclFile } from './redis/acl-file.js';
import { isRefused, loadLogin, redisLoginArgs } from './redis/login.js';
import { openRedis, type RedisLogin } from './redis/open-redis.js';
import { defineModule, ModuleError, prefixedError, type Change, type ModuleContext } from '../runner/types.js';
import { hostSh, tail } from './host/exec.js';
import { applyDest, gatherDest, planDest, type DestState, type WantedFile } from './files/file-content.js';

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

function where(args: AclArgs, port: number): string {
  return `${args.address ?? '?'}:${port}`;
}

async function login(ctx: ModuleContext, args: AclArgs): Promise<RedisLogin> {
  const { login_user, login_password, tls } = args;
  if (!login_user || !login_password || !tls) throw new ModuleError('redis_acl: ports need address, login_user, login_password and tls');
  try {
    return await loadLogin(ctx.projectDir, { login_user, login_password, tls });
  } catch (e) {
    throw prefixedError('redis_acl', e);
  }
}

/** Runs `fn` with a client for the instance, or returns undefined when nothing listens there. */
async function withInstance<T>(conn: Connection, args: AclArgs, who: RedisLogin, port: number, fn: (c: Redis) => Promise<T>): Promise<T | undefined> {
  let client;
  try {
    client = await openRedis(conn, { ...who, host: args.address ?? '', port });
  } catch (e) {
    if (isRefused(e)) return undefined;
    throw new ModuleError(`redis_acl: cannot log in to ${where(args, port)} as ${who.user}: ${(e as Error).message}`);
  }
  try {
    return await fn(client);
  } catch (e) {
    throw new ModuleError(`redis_acl: on ${where(args, port)}: ${(e as Error).message}`);
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
  const who = await login(ctx, args);
  return Promise.all(
    ports.map(async (port): Promise<LiveAcl> => {
      const acl = await withInstance(ctx.conn, args, who, port, async (c) => {
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

/** Ports whose live users differ from the file's, with one change per differing user. */
function driftChanges(s: AclState): { port: number; changes: Change[] }[] {
  if (s.canonical.kind !== 'ok') return [];
  const wanted = s.canonical.users;
  return s.live.flatMap((l) => {
    if (!l.running) return [];
    const changes = aclDrift(wanted, l.users).map((d) => ({ description: describeDrift(d, l.port) }));
    return changes.length ? [{ port: l.port, changes }] : [];
  });
}

/** Running instances that need ACL LOAD: all of them when the file's content changes, else those that drifted. */
function loadPorts(s: AclState): number[] {
  if (!s.dest.sameContent) return s.live.filter((l) => l.running).map((l) => l.port);
  return driftChanges(s).map((d) => d.port);
}

/** Pure: the file, then which running instances need ACL LOAD (and, without a file change, why). */
function plan(_args: AclArgs, s: AclState): { changes: Change[]; msg?: string } {
  const why = s.dest.sameContent ? new Map(driftChanges(s).map((d) => [d.port, d.changes])) : new Map<number, Change[]>();
  const changes: Change[] = [...planDest(s.want, s.dest).changes];
  for (const port of loadPorts(s)) changes.push(...(why.get(port) ?? []), { description: `ACL LOAD on :${port}` });
  const running = s.live.filter((l) => l.running).map((l) => `:${l.port}`);
  const live = running.length ? `; live on ${running.join(', ')}` : '';
  return { changes, msg: changes.length ? undefined : `${s.want.dest} as wanted${live}` };
}

/**
 * Redis users in users.acl (SHA-256 password hashes, mode 0640, owner redis), loaded live with
 * ACL LOAD into every running instance of the node; live drift (ACL SETUSER, ACL DELUSER) is found
 * by comparing ACL LIST with what Redis makes of the file, and put back by loading the file again.
 */
export const redisAcl = defineModule({
  name: 'redis_acl',
  schema,
  gather,
  plan,
  async legacyApply(ctx, args, _plan, s) {
    if (planDest(s.want, s.dest).changes.length) await applyDest(ctx, s.want, s.dest);
    const ports = loadPorts(s);
    if (ports.length === 0) return { result: { dest: s.want.dest, loaded: [] } };
    const who = await login(ctx, args);
    const wanted = s.canonical.kind === 'ok' ? s.canonical.users : undefined;
    await Promise.all(
      ports.map(async (port) => {
        // ACL LOAD drops every logged-in client, this one included (after its reply): check on a new one.
        await withInstance(ctx.conn, args, who, port, (c) => c.call('ACL', 'LOAD'));
        if (!wanted) return;
        const left = await withInstance(ctx.conn, args, who, port, async (c) => aclDrift(wanted, (await liveAcl(c)).users));
        if (left?.length) throw new ModuleError(`redis_acl: after ACL LOAD, ${left.map((d) => describeDrift(d, port)).join('; ')}`);
      }),
    );
    return { result: { dest: s.want.dest, loaded: ports } };
  },
});
