import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { Client, type ClientChannel, type ServerHostKeyAlgorithm } from 'ssh2';
import { BecomeError, ConnectionError, type ConnectTarget, type Connection } from './connection.js';
import { addHostKey, checkHostKey, keyType, knownKeyTypes } from './known-hosts.js';
import { shJoin } from './quote.js';
import { SessionConnection, type SessionOpener } from './session-connection.js';
import type { ShellStreams } from './shell-session.js';
import type { HostProcess } from './write-file.js';


// Ciphers and kex that Node does natively (ssh2's pure-JS chacha20 would cost CPU per byte).
const algorithms = {
  cipher: ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'aes128-ctr', 'aes256-ctr'],
  kex: ['curve25519-sha256', 'curve25519-sha256@libssh.org', 'ecdh-sha2-nistp256'],
  serverHostKey: ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256'] as ServerHostKeyAlgorithm[],
} as const;

/**
 * Host-key algorithms with those of the keys the host is known by first (as OpenSSH orders them), so
 * a host with several keys presents the one known_hosts holds rather than one that looks changed.
 */
export function hostKeyAlgorithms(knownTypes: readonly string[]): ServerHostKeyAlgorithm[] {
  const known = (alg: ServerHostKeyAlgorithm): boolean => knownTypes.some((t) => t === alg || (t === 'ssh-rsa' && alg.startsWith('rsa-sha2-')));
  return [...algorithms.serverHostKey.filter(known), ...algorithms.serverHostKey.filter((a) => !known(a))];
}

export async function connectSsh(t: ConnectTarget): Promise<Connection> {
  const client = new Client();
  let hostKeyProblem: string | undefined;
  const where = `${t.host} (${t.address}:${t.port})`;
  await new Promise<void>((resolve, reject) => {
    // ssh2 leaves Nagle on; every exec round trip would then wait ~40 ms for a delayed ACK.
    const sock = netConnect({ host: t.address, port: t.port });
    sock.setNoDelay(true);
    sock.on('error', (e) => reject(new ConnectionError(t.host, `cannot reach ${where}: ${e.message}`)));
    client.once('ready', () => resolve());
    client.once('error', (e) =>
      reject(new ConnectionError(t.host, hostKeyProblem ?? `ssh to ${where} failed: ${e.message}`)),
    );
    let privateKey: Buffer | undefined;
    try {
      privateKey = t.privateKeyFile ? readFileSync(t.privateKeyFile) : undefined;
    } catch (e) {
      reject(new ConnectionError(t.host, `cannot read private key ${t.privateKeyFile}: ${(e as Error).message}`));
      return;
    }
    client.connect({
      sock,
      username: t.user,
      privateKey,
      readyTimeout: t.timeoutMs ?? 10_000,
      keepaliveInterval: 15_000,
      algorithms: {
        cipher: [...algorithms.cipher],
        kex: [...algorithms.kex],
        serverHostKey: hostKeyAlgorithms(knownKeyTypes(t.knownHostsFile, t.address, t.port)),
      },
      hostVerifier: (key: Buffer) => {
        const v = checkHostKey(t.knownHostsFile, t.address, t.port, key);
        if (v.kind === 'known') return true;
        if (v.kind === 'changed') {
          hostKeyProblem = `host key for ${where} has CHANGED (known_hosts ${t.knownHostsFile}:${v.line} holds another key for it, ${keyType(key)} presented); refusing to connect — if the host was rebuilt, remove that line`;
          return false;
        }
        if (v.kind === 'revoked') {
          hostKeyProblem = `host key for ${where} is REVOKED (@revoked at ${t.knownHostsFile}:${v.line}); refusing to connect`;
          return false;
        }
        if (v.kind === 'cert-authority') {
          hostKeyProblem = `host ${where} is known only through a @cert-authority line (${t.knownHostsFile}:${v.line}), and rplay does not verify host certificates; add the host's own key to ${t.knownHostsFile}`;
          return false;
        }
        if (t.acceptNew) {
          addHostKey(t.knownHostsFile, t.address, t.port, key);
          return true;
        }
        hostKeyProblem = `host key for ${where} is unknown (not in ${t.knownHostsFile}); add it there, or set rplay_host_key_checking: accept-new`;
        return false;
      },
    });
  });
  const opener: SessionOpener = (become, becomeUser) =>
    new Promise<ShellStreams>((resolve, reject) => {
      const needsSudo = become && !(t.user === becomeUser);
      // The login shell parses this line: the user name is quoted like every other value.
      const cmd = needsSudo ? shJoin(['exec', 'sudo', '-n', '-H', '-u', becomeUser, '/bin/sh']) : 'exec /bin/sh';
      client.exec(cmd, (err, ch: ClientChannel) => {
        if (err) return reject(new ConnectionError(t.host, `ssh channel to ${where}: ${err.message}`));
        resolve({
          stdin: ch,
          stdout: ch,
          stderr: ch.stderr,
          closed: new Promise((r) => ch.once('close', () => r())),
        });
      });
    });
  const lost = new Promise<void>((r) =>
    client.once('close', () => {
      t.onClose?.();
      r();
    }),
  );
  return new SessionConnection(t.host, opener, {
    deathError: (become, stderr) => {
      const why = stderr.trim();
      if (!become || !why.startsWith('sudo')) {
        return new ConnectionError(t.host, `connection to ${where} lost${why ? `: ${why}` : ''}`);
      }
      const hint = /password/.test(why) ? ` (user ${t.user} needs passwordless sudo on ${t.host})` : '';
      return new BecomeError(t.host, `become failed on ${t.host}: ${why}${hint}`);
    },
    spawn: (become, becomeUser, argv) =>
      new Promise<HostProcess>((resolve, reject) => {
        const cmd = shJoin(['exec', ...(become && t.user !== becomeUser ? ['sudo', '-n', '-H', '-u', becomeUser] : []), ...argv]);
        client.exec(cmd, (err, ch: ClientChannel) => {
          if (err) return reject(new ConnectionError(t.host, `ssh channel to ${where}: ${err.message}`));
          let code = -1;
          ch.once('exit', (c: unknown) => (code = typeof c === 'number' ? c : -1));
          resolve({
            stdin: ch,
            stdout: ch,
            stderr: ch.stderr,
            exit: new Promise((r) => ch.once('close', () => r(code))),
            kill: () => ch.close(),
          });
        });
      }),
    forwardOut: (host, port) =>
      new Promise<Duplex>((resolve, reject) =>
        client.forwardOut('127.0.0.1', 0, host, port, (err, ch) =>
          err ? reject(new ConnectionError(t.host, `tunnel via ${where} to ${host}:${port}: ${err.message}`)) : resolve(ch),
        ),
      ),
    end: async () => {
      client.end();
      await lost;
    },
  });
}
