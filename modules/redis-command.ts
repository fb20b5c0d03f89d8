import { connect as tlsConnect } from 'node:tls';
import { Type, type Static } from '@sinclair/typebox';
import calculateSlot from 'cluster-key-slot';
import type { Cluster, Redis } from 'ioredis';
import type { Connection } from '../runner/connection/connection.js';
import { isRefused, loadLogin, redisLoginArgs, type RedisLoginArgs } from './redis/login.js';
import { openRedis, openTaskCluster, type RedisLogin } from './redis/open-redis.js';
import { defineModule, NotYetThere, type ModuleContext } from '../runner/types.js';

const endpoint = Type.Object(
  {
    address: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    /** Inventory name of the instance's host (redis_topology's instances have it): what check mode waits for. */
    host: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: true },
);

const schema = Type.Object(
  {
    /** The command and its arguments, e.g. [CLUSTER, INFO]. */
    command: Type.Array(Type.String(), { minItems: 1 }),
    /** One instance; with `cluster: true`, seeds of a cluster client that follows redirects. */
    instances: Type.Array(endpoint, { minItems: 1 }),
    cluster: Type.Optional(Type.Boolean()),
    /**
     * How to connect: `tls` (client certificate, the normal way), `tls-without-client-cert` or
     * `plain` — the last two exist to prove the server refuses them.
     */
    transport: Type.Optional(Type.Union([Type.Literal('tls'), Type.Literal('tls-without-client-cert'), Type.Literal('plain')])),
    ...redisLoginArgs,
  },
  { additionalProperties: false },
);

type Args = Static<typeof schema>;
type Transport = NonNullable<Args['transport']>;
type Endpoint = { address: string; port: number };

/** What a command did: Redis's reply, or the error that refused it (a refusal is a result, not a failure). */
interface Outcome {
  reply: unknown;
  error: string | null;
  /** "address:port" of the instance that served the command (in cluster mode, after redirects). */
  node?: string;
  slot?: number;
}

/** Running the command: everything apply needs, as data. */
export interface RunCommand {
  kind: 'run';
  command: string[];
  instances: Endpoint[];
  cluster: boolean;
  transport: Transport;
  login: RedisLoginArgs;
}

/** A read's answer is the gathered state; a command that may write is only run by apply. */
export type CommandActual = { read: true; outcome: Outcome } | { read: false };

/**
 * Commands that change nothing and name no key, by name or `name|subcommand` in lower case. Key
 * commands are judged by Redis itself (COMMAND INFO: `readonly`, and not `blocking`, which waits).
 */
export const READ_ONLY: ReadonlySet<string> = new Set([
  'ping',
  'echo',
  'info',
  'time',
  'role',
  'lastsave',
  'config|get',
  'acl|dryrun',
  'acl|list',
  'acl|users',
  'acl|whoami',
  'acl|getuser',
  'acl|cat',
  'cluster|info',
  'cluster|nodes',
  'cluster|slots',
  'cluster|shards',
  'cluster|myid',
  'cluster|keyslot',
  'cluster|countkeysinslot',
  'command|info',
  'command|count',
  'command|docs',
  'command|list',
  'memory|stats',
  'client|info',
  'client|list',
  'client|getname',
  'client|id',
  'slowlog|get',
  'slowlog|len',
]);

/** The command's name as Redis names it: `acl|dryrun` for a subcommand, `get` otherwise. */
function names(command: readonly string[]): string[] {
  const [name = '', sub] = command.map((x) => x.toLowerCase());
  return sub === undefined ? [name] : [`${name}|${sub}`, name];
}

/** Known to change nothing without asking the server. */
export function knownRead(command: readonly string[]): boolean {
  return names(command).some((n) => READ_ONLY.has(n));
}

/**
 * Whether COMMAND INFO's reply (for `name|sub`, then `name`) flags the command a read that returns
 * at once: the subcommand's entry when there is one, else the command's.
 */
export function flaggedRead(info: unknown): boolean {
  const entries = Array.isArray(info) ? info : [];
  const entry = entries.find((e) => Array.isArray(e)) as unknown[] | undefined;
  const flags = Array.isArray(entry?.[2]) ? (entry[2] as unknown[]).map(String) : [];
  return flags.includes('readonly') && !flags.includes('blocking');
}

function target(op: Pick<RunCommand, 'cluster' | 'instances'>): string {
  return op.cluster ? 'the cluster' : `${op.instances[0]!.address}:${op.instances[0]!.port}`;
}

async function inCluster(cluster: Cluster, command: readonly string[]): Promise<Outcome> {
  try {
    const [name, ...rest] = command;
    const key = rest[0];
    const reply = await cluster.call(name!, ...rest);
    if (key === undefined) return { reply, error: null };
    const slot = calculateSlot(key);
    const owner = cluster.slots[slot]?.[0];
    return { reply, error: null, slot, ...(owner ? { node: owner } : {}) };
  } catch (e) {
    return { reply: null, error: (e as Error).message };
  }
}

async function single(client: Redis, at: Endpoint, command: readonly string[]): Promise<Outcome> {
  try {
    const [name, ...rest] = command;
    return { reply: await client.call(name!, ...rest), error: null, node: `${at.address}:${at.port}` };
  } catch (e) {
    return { reply: null, error: (e as Error).message };
  }
}

/** A raw command without TLS, or TLS without a client certificate: what the server says, or how it hung up. */
async function rawProbe(conn: Connection, at: Endpoint, transport: Transport, ca: string, command: readonly string[]): Promise<Outcome> {
  const tunnel = await conn.forwardOut(at.address, at.port);
  const stream = transport === 'plain' ? tunnel : tlsConnect({ socket: tunnel, ca, host: at.address, minVersion: 'TLSv1.2' });
  return new Promise<Outcome>((resolve) => {
    let answer = '';
    const done = (error: string | null): void => {
      stream.destroy();
      tunnel.destroy();
      resolve({ reply: answer || null, error, node: `${at.address}:${at.port}` });
    };
    const timer = setTimeout(() => done('no answer within 5 s'), 5000);
    stream.on('data', (b: Buffer) => {
      answer += b.toString('latin1');
      if (answer.includes('\r\n')) {
        clearTimeout(timer);
        done(answer.startsWith('+') || answer.startsWith('-NOAUTH') ? null : `unexpected reply ${JSON.stringify(answer.slice(0, 40))}`);
      }
    });
    stream.on('error', (e: Error) => {
      clearTimeout(timer);
      done(e.message);
    });
    // A hang-up arrives as 'end' on the tunnel (the server's EOF) before any 'close'.
    for (const ev of ['end', 'close']) {
      stream.on(ev, () => {
        clearTimeout(timer);
        done('connection closed by the server');
      });
    }
    stream.write(`${command.join(' ')}\r\n`);
  });
}

/** Runs the command as the op says (apply), or as a read (gather: `isRead` decides whether to run it). */
async function execute(ctx: ModuleContext, op: RunCommand, login: RedisLogin, isRead?: (ask: (c: string[]) => Promise<unknown>) => Promise<boolean>): Promise<Outcome | undefined> {
  const at = op.instances[0]!;
  if (op.transport !== 'tls') {
    if (isRead && !(await isRead(async () => null))) return undefined;
    return rawProbe(ctx.conn, at, op.transport, login.tls.ca, op.command);
  }
  if (op.cluster) {
    const cluster = openTaskCluster(ctx.conn, op.instances, login);
    try {
      if (isRead && !(await isRead((c) => cluster.call(c[0]!, ...c.slice(1))))) return undefined;
      return await inCluster(cluster, op.command);
    } finally {
      cluster.disconnect();
    }
  }
  let client: Redis;
  try {
    client = await openRedis(ctx.conn, { ...login, host: at.address, port: at.port });
  } catch (e) {
    if (isRead && isRefused(e)) throw e;
    // A refused login is the command's result (a playbook asserts it), as any refusal.
    return { reply: null, error: (e as Error).message };
  }
  try {
    if (isRead && !(await isRead((c) => client.call(c[0]!, ...c.slice(1))))) return undefined;
    return await single(client, at, op.command);
  } finally {
    client.disconnect();
  }
}

function opOf(args: Args): RunCommand {
  return {
    kind: 'run',
    command: args.command,
    instances: args.instances.map((i) => ({ address: i.address, port: i.port })),
    cluster: args.cluster ?? false,
    transport: args.transport ?? 'tls',
    login: { login_user: args.login_user, login_password: args.login_password, tls: args.tls },
  };
}

async function gather(ctx: ModuleContext, args: Args): Promise<CommandActual> {
  const op = opOf(args);
  const known = knownRead(op.command);
  // Once what is missing is there, a read still changes nothing; a command that may write would run.
  const notYet = (e: NotYetThere, on?: string): NotYetThere =>
    new NotYetThere(`redis_command: ${e.message}`, e.missing, { by: e.by, on: on ?? e.on, unchanged: known, would: known ? undefined : `run ${op.command[0]} on ${target(op)}` });
  let login: RedisLogin;
  try {
    login = await loadLogin(ctx.projectDir, op.login);
  } catch (e) {
    if (e instanceof NotYetThere) throw notYet(e);
    throw e;
  }
  const isRead = async (ask: (c: string[]) => Promise<unknown>): Promise<boolean> => {
    if (known || op.transport !== 'tls') return known;
    // A user who may not ask (COMMAND is not in every role) gets the command treated as a write.
    return ask(['COMMAND', 'INFO', ...names(op.command)]).then(flaggedRead, () => false);
  };
  let outcome: Outcome | undefined;
  try {
    outcome = await execute(ctx, op, login, isRead);
  } catch (e) {
    if (!isRefused(e)) throw e;
    const at = args.instances[0]!;
    const where = `${at.address}:${at.port}`;
    throw notYet(new NotYetThere(`nothing accepts connections on ${where}: ${(e as Error).message}`, `instance ${where} (not running)`), at.host ?? '*');
  }
  return outcome === undefined ? { read: false } : { read: true, outcome };
}

function report(command: readonly string[], o: Outcome): string {
  return o.error === null ? `${command[0]}: ${JSON.stringify(o.reply)}` : `${command[0]} refused: ${o.error}`;
}

/**
 * Runs one Redis command through the node's SSH connection, as `login_user`, and registers what
 * happened: `reply`, or `error` when Redis (or the TLS layer) refused it — so a playbook can assert
 * that a permission is denied as well as that one is granted. A command that changes nothing (a
 * known read, or one Redis flags read-only) is run when gathering, in check mode too: its answer is
 * the state, and nothing changes. Any other command is the plan's operation: like `command`, it acts
 * when run, and check mode reports that it would.
 */
export const redisCommand = defineModule<typeof schema, CommandActual, RunCommand>({
  name: 'redis_command',
  schema,
  opaque: true,
  gather,
  plan(args, actual) {
    if (actual.read) return { changes: [], msg: report(args.command, actual.outcome), result: { ...actual.outcome } };
    const op = opOf(args);
    // Only the command's name: its arguments may be values that belong to nobody's log.
    return { changes: [{ description: `run ${args.command[0]} on ${target(op)} as ${args.login_user}`, op }] };
  },
  async apply(ctx, ops) {
    let last: { msg: string; result: Outcome } | undefined;
    for (const op of ops) {
      const login = await loadLogin(ctx.projectDir, op.login);
      const outcome = (await execute(ctx, op, login)) as Outcome;
      last = { msg: report(op.command, outcome), result: outcome };
    }
    return last === undefined ? {} : { msg: last.msg, result: { ...last.result } };
  },
});
