import { connect as tlsConnect } from 'node:tls';
import { Type, type Static } from '@sinclair/typebox';
import calculateSlot from 'cluster-key-slot';
import type { Cluster, Redis } from 'ioredis';
import type { Connection } from '../runner/connection/connection.js';
import { loadLogin, redisLoginArgs } from './redis/login.js';
import { openCluster, openRedis, type RedisLogin } from './redis/open-redis.js';
import { defineModule, type ModuleContext } from '../runner/types.js';

const endpoint = Type.Object({ address: Type.String({ minLength: 1 }), port: Type.Integer({ minimum: 1, maximum: 65535 }) }, { additionalProperties: true });

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

/** What a command did: Redis's reply, or the error that refused it (a refusal is a result, not a failure). */
interface Outcome {
  reply: unknown;
  error: string | null;
  /** "address:port" of the instance that served the command (in cluster mode, after redirects). */
  node?: string;
  slot?: number;
}

async function inCluster(conn: Connection, args: Args, login: RedisLogin): Promise<Outcome> {
  const cluster: Cluster = openCluster(
    conn,
    args.instances.map((i) => ({ host: i.address, port: i.port })),
    login,
    { enableReadyCheck: false, clusterRetryStrategy: () => null, slotsRefreshTimeout: 5000 },
  );
  cluster.on('error', () => {});
  try {
    const [name, ...rest] = args.command;
    const key = rest[0];
    const reply = await cluster.call(name!, ...rest);
    if (key === undefined) return { reply, error: null };
    const slot = calculateSlot(key);
    const owner = cluster.slots[slot]?.[0];
    return { reply, error: null, slot, ...(owner ? { node: owner } : {}) };
  } catch (e) {
    return { reply: null, error: (e as Error).message };
  } finally {
    cluster.disconnect();
  }
}

async function single(conn: Connection, args: Args, login: RedisLogin): Promise<Outcome> {
  const target = args.instances[0]!;
  let client: Redis | undefined;
  try {
    client = await openRedis(conn, { ...login, host: target.address, port: target.port });
    const [name, ...rest] = args.command;
    return { reply: await client.call(name!, ...rest), error: null, node: `${target.address}:${target.port}` };
  } catch (e) {
    return { reply: null, error: (e as Error).message };
  } finally {
    client?.disconnect();
  }
}

/** A raw PING without TLS, or TLS without a client certificate: what the server says, or how it hung up. */
async function probe(conn: Connection, args: Args, login: RedisLogin): Promise<Outcome> {
  const target = args.instances[0]!;
  const tunnel = await conn.forwardOut(target.address, target.port);
  const stream =
    args.transport === 'plain'
      ? tunnel
      : tlsConnect({ socket: tunnel, ca: login.tls.ca, host: target.address, minVersion: 'TLSv1.2' });
  return new Promise<Outcome>((resolve) => {
    let answer = '';
    const done = (error: string | null): void => {
      stream.destroy();
      tunnel.destroy();
      resolve({ reply: answer || null, error, node: `${target.address}:${target.port}` });
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
    stream.write(`${args.command.join(' ')}\r\n`);
  });
}

/**
 * Runs one Redis command through the node's SSH connection, as `login_user`, and registers what
 * happened: `reply`, or `error` when Redis (or the TLS layer) refused it — so a playbook can assert
 * that a permission is denied as well as that one is granted. Like `command`, it acts when run:
 * check mode does not run it.
 */
export const redisCommand = defineModule({
  name: 'redis_command',
  schema,
  opaque: true,
  async gather(): Promise<null> {
    return null;
  },
  plan(args) {
    // Only the command's name: its arguments may be values that belong to nobody's log.
    return { changes: [{ description: `run ${args.command[0]} on ${args.cluster ? 'the cluster' : `${args.instances[0]!.address}:${args.instances[0]!.port}`} as ${args.login_user}` }] };
  },
  async legacyApply(ctx: ModuleContext, args) {
    const login = await loadLogin(ctx.projectDir, args);
    const transport = args.transport ?? 'tls';
    const outcome = transport !== 'tls' ? await probe(ctx.conn, args, login) : args.cluster ? await inCluster(ctx.conn, args, login) : await single(ctx.conn, args, login);
    return {
      msg: outcome.error === null ? `${args.command[0]}: ${JSON.stringify(outcome.reply)}` : `${args.command[0]} refused: ${outcome.error}`,
      result: { ...outcome },
    };
  },
});
