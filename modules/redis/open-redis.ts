// Redis on a node, reached from the controller through that node's SSH connection: an ssh2
// forwardOut stream from the node to the address Redis binds, wrapped in TLS with a client
// certificate, handed to ioredis as its socket through ioredis's `Connector` option. The controller
// needs no network path into the VPC, only SSH.
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { createRequire } from 'node:module';
import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import type { Connection } from '../../runner/connection/connection.js';

/** PEM text (not paths) of the CA that signed the servers and of the client's certificate and key. */
export interface RedisTls {
  ca: string;
  cert: string;
  key: string;
}

export interface RedisLogin {
  user: string;
  password: string;
  tls: RedisTls;
  /**
   * The name the server certificate is checked against (and sent as SNI). Default: the address
   * itself, checked against the certificate's IP SANs.
   */
  servername?: string;
  /** Milliseconds for the tunnel, TLS handshake and login. Default 5000. */
  connectTimeoutMs?: number;
  /** Milliseconds a command may take on a single-instance client. Default 10000. */
  commandTimeoutMs?: number;
  /**
   * Accept exactly this server certificate (SHA-256 fingerprint, as Node prints it) although the CA
   * does not verify it: for putting a node's own instance back on the right certificate, after a
   * probe through the node's SSH connection saw it serve this one. Any other certificate is refused.
   */
  pinnedFingerprint256?: string;
}

export interface RedisEndpoint extends RedisLogin {
  /** The node's own address as Redis binds it (its private address). */
  host: string;
  port: number;
}

// ioredis loads on first use (it costs ~60 ms of start-up), and synchronously: it is CommonJS.
const require = createRequire(import.meta.url);
let lib: typeof import('ioredis') | undefined;
function ioredis(): typeof import('ioredis') {
  lib ??= require('ioredis') as typeof import('ioredis');
  return lib;
}

// Building a context parses the CA, certificate and key (~30 ms each time on the lab): one per
// login for the whole run, shared by every connection with it.
const contexts = new Map<string, SecureContext>();
function secureContextOf(tls: RedisTls): SecureContext {
  const key = JSON.stringify([tls.ca, tls.cert, tls.key]);
  let c = contexts.get(key);
  if (!c) contexts.set(key, (c = createSecureContext({ ca: tls.ca, cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' })));
  return c;
}

/** A TLS session over a stream the node opened, resolved once the handshake is done. */
export function tlsOverTunnel(conn: Connection, host: string, port: number, login: RedisLogin): Promise<TLSSocket> {
  return conn.forwardOut(host, port).then(
    (tunnel: Duplex) =>
      new Promise<TLSSocket>((resolve, reject) => {
        // An IP must not be sent as SNI (RFC 6066); without servername Node checks `host` against
        // the certificate's IP SANs.
        const name = login.servername ?? (isIP(host) ? undefined : host);
        const pin = login.pinnedFingerprint256;
        const sock = tlsConnect({
          socket: tunnel,
          host,
          servername: name,
          secureContext: secureContextOf(login.tls),
          rejectUnauthorized: pin === undefined,
        });
        const fail = (e: Error): void => {
          tunnel.destroy();
          reject(new Error(`TLS to ${host}:${port} via ${conn.host}: ${e.message}`));
        };
        sock.once('error', fail);
        sock.once('secureConnect', () => {
          sock.off('error', fail);
          // The served certificate is looked at only when the CA did not vouch for it.
          const served = sock.authorized ? undefined : sock.getPeerX509Certificate()?.fingerprint256;
          if (!sock.authorized && served !== pin) {
            sock.destroy();
            fail(new Error(`the server certificate (SHA-256 ${served}) is neither verified by the CA (${String(sock.authorizationError)}) nor the one seen before`));
            return;
          }
          resolve(sock);
        });
        // The channel outlives a TLS socket that closes on its own (server hang-up, error).
        sock.once('close', () => tunnel.destroy());
      }),
  );
}

/** The certificate an instance serves, as a TLS handshake (with the client certificate) shows it. */
export interface ServedCertificate {
  /** SHA-256 fingerprint, "AB:CD:…" as Node prints it. */
  fingerprint256: string;
  /** Verified by the login's CA and valid for the address (or servername). */
  verified: boolean;
  /** Why not, when not verified (Node's reason, e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE). */
  whyNot?: string;
}

/**
 * Handshakes with the instance without trusting it and without logging in, and hangs up: what
 * certificate it serves, and whether the CA verifies it. A refused tunnel rejects as openRedis does.
 */
export function servedCertificate(conn: Connection, host: string, port: number, login: RedisLogin): Promise<ServedCertificate> {
  return conn.forwardOut(host, port).then(
    (tunnel: Duplex) =>
      new Promise<ServedCertificate>((resolve, reject) => {
        const name = login.servername ?? (isIP(host) ? undefined : host);
        const sock = tlsConnect({ socket: tunnel, host, servername: name, secureContext: secureContextOf(login.tls), rejectUnauthorized: false });
        sock.once('error', (e: Error) => {
          tunnel.destroy();
          reject(new Error(`TLS to ${host}:${port} via ${conn.host}: ${e.message}`));
        });
        sock.once('secureConnect', () => {
          const fingerprint256 = sock.getPeerX509Certificate()?.fingerprint256;
          if (fingerprint256 === undefined) reject(new Error(`TLS to ${host}:${port} via ${conn.host}: the server presented no certificate`));
          else resolve(sock.authorized ? { fingerprint256, verified: true } : { fingerprint256, verified: false, whyNot: String(sock.authorizationError) });
          sock.destroy();
          tunnel.destroy();
        });
      }),
  );
}

/**
 * An ioredis Connector class whose every connection is a TLS session through `conn`. It reads the
 * target from ioredis's own options (host, port), so one class serves a single client and every
 * node a Cluster client discovers.
 */
export function tunnelConnector(conn: Connection, login: RedisLogin): NonNullable<RedisOptions['Connector']> {
  return class TunnelConnector extends ioredis().AbstractConnector {
    readonly #host: string;
    readonly #port: number;
    constructor(options: unknown) {
      const o = options as { host?: string; port?: number; disconnectTimeout?: number };
      super(o.disconnectTimeout ?? 2000);
      this.#host = o.host ?? '127.0.0.1';
      this.#port = o.port ?? 6379;
    }
    async connect(): Promise<TLSSocket> {
      this.connecting = true;
      const sock = await tlsOverTunnel(conn, this.#host, this.#port, login);
      // ioredis calls disconnect() (which ends this.stream) when the client quits.
      this.stream = sock;
      if (!this.connecting) sock.destroy();
      return sock;
    }
  };
}

/** Options every tunnelled client shares: fail fast instead of retrying, no extra commands. */
function clientOptions(conn: Connection, login: RedisLogin): RedisOptions {
  return {
    Connector: tunnelConnector(conn, login),
    username: login.user,
    password: login.password,
    connectTimeout: login.connectTimeoutMs ?? 5000,
    // The ready check sends INFO, which a least-privilege user (app_user) may not run.
    enableReadyCheck: false,
    // CLIENT SETINFO is Redis ≥ 7.2 and another command a least-privilege user may lack.
    disableClientInfo: true,
  };
}

/**
 * A connected, logged-in client for one Redis instance on a node. A refused tunnel (nothing
 * listening) or a failed login rejects; the client never reconnects on its own.
 */
export async function openRedis(conn: Connection, ep: RedisEndpoint): Promise<Redis> {
  const client = new (ioredis().Redis)({
    ...clientOptions(conn, ep),
    host: ep.host,
    port: ep.port,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    // A command on a connection Redis closed (ACL LOAD drops every logged-in client) fails at once
    // instead of waiting in the offline queue for a reconnect that never comes.
    enableOfflineQueue: false,
    commandTimeout: ep.commandTimeoutMs ?? 10_000,
  });
  // A refused login only closes the connection ("Connection is closed"); the reason (WRONGPASS,
  // NOPERM) arrives as an 'error' event first. The listener also keeps ioredis from printing it.
  let first: Error | undefined;
  client.on('error', (e: Error) => (first ??= e));
  try {
    await client.connect();
  } catch (e) {
    client.disconnect();
    throw first ?? e;
  }
  client.removeAllListeners('error');
  client.on('error', () => {});
  return client;
}

/**
 * A Cluster client whose every node connection goes through `conn` (the node's SSH session reaches
 * every other node's private address, as the cluster bus does). `seeds` are instances to learn the
 * slot map from.
 */
export function openCluster(conn: Connection, seeds: readonly { host: string; port: number }[], login: RedisLogin, options: ClusterOptions = {}): Cluster {
  const cluster = new (ioredis().Cluster)(
    seeds.map((s) => ({ host: s.host, port: s.port })),
    {
      ...options,
      // The slot map holds each node's announced address, which is what the tunnel must reach; no DNS.
      dnsLookup: (address, callback) => callback(null, address),
      redisOptions: { ...clientOptions(conn, login), ...options.redisOptions },
    },
  );
  return cluster;
}

/**
 * A cluster client for one task's commands: no ready check, no retrying a cluster that is down
 * (its commands fail instead), its errors surfacing only through them.
 */
export function openTaskCluster(conn: Connection, seeds: readonly { address: string; port: number }[], login: RedisLogin): Cluster {
  const cluster = openCluster(
    conn,
    seeds.map((i) => ({ host: i.address, port: i.port })),
    login,
    { enableReadyCheck: false, clusterRetryStrategy: () => null, slotsRefreshTimeout: 5000 },
  );
  cluster.on('error', () => {});
  return cluster;
}
