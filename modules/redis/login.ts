// How rplay's modules log in to Redis: a user and password (from the vault) and a client
// certificate on the controller. The arg shape is shared by every module that talks to Redis.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { NotYetThere } from '../../runner/types.js';
import type { RedisLogin } from './open-redis.js';

export const redisLoginArgs = {
  /** The admin user rplay acts as (never `default`, which is off). */
  login_user: Type.String({ minLength: 1 }),
  login_password: Type.String({ minLength: 1 }),
  /** Controller files (relative to the project, or absolute): CA certificate, client certificate and key. */
  tls: Type.Object(
    {
      ca: Type.String({ minLength: 1 }),
      cert: Type.String({ minLength: 1 }),
      key: Type.String({ minLength: 1 }),
      /** Name to check the server certificate against; default the instance's address (IP SAN). */
      servername: Type.Optional(Type.String({ minLength: 1 })),
    },
    { additionalProperties: false },
  ),
};

const loginSchema = Type.Object(redisLoginArgs);
export type RedisLoginArgs = Static<typeof loginSchema>;

/** The login with the PEM files read. Throws an Error naming the unreadable file (a NotYetThere when it does not exist). */
export async function loadLogin(projectDir: string, args: RedisLoginArgs): Promise<RedisLogin> {
  const read = async (what: string, p: string): Promise<string> => {
    const file = resolve(projectDir, p);
    try {
      return await readFile(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const message = `cannot read the TLS ${what} ${file}: ${code ?? (e as Error).message}`;
      // Not made yet: the cert task (delegated to the controller, on whichever host ran it) makes it.
      if (code === 'ENOENT') throw new NotYetThere(message, `TLS ${what} ${file}`, { on: '*' });
      throw new Error(message);
    }
  };
  const [ca, cert, key] = await Promise.all([read('CA certificate', args.tls.ca), read('client certificate', args.tls.cert), read('client key', args.tls.key)]);
  return { user: args.login_user, password: args.login_password, tls: { ca, cert, key }, servername: args.tls.servername };
}

/** Nothing listens there: the tunnel's far end refused the connection (Redis is not running). */
export function isRefused(e: unknown): boolean {
  const msg = e instanceof Error ? e.message : String(e);
  return /connection refused|ECONNREFUSED/i.test(msg);
}
