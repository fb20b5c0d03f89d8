import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { userInfo } from 'node:os';
import type { Duplex } from 'node:stream';
import { BecomeError, ConnectionError, type Connection } from './connection.js';
import { SessionConnection } from './session-connection.js';

/** The controller itself (`localhost`, delegate_to: localhost): the same sessions, no SSH. */
export function localConnection(host = 'localhost'): Connection {
  const me = userInfo().username;
  return new SessionConnection(
    host,
    async (become, becomeUser) => {
      const argv = become && becomeUser !== me ? ['sudo', '-n', '-H', '-u', becomeUser, '/bin/sh'] : ['/bin/sh'];
      // detached: the shell leads its own process group, which the end-of-command hang-up and a
      // timeout's kill address (never rplay's own group).
      const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      return {
        stdin: child.stdin,
        stdout: child.stdout,
        stderr: child.stderr,
        closed: new Promise<void>((r) => child.once('close', () => r())),
      };
    },
    {
      deathError: (become, stderr) =>
        become
          ? new BecomeError(host, `become failed on ${host}: ${stderr.trim()}`)
          : new ConnectionError(host, `local shell ended: ${stderr.trim()}`),
      forwardOut: (h, port) =>
        new Promise<Duplex>((resolve, reject) => {
          const s = connect({ host: h, port }, () => resolve(s));
          s.once('error', reject);
        }),
      spawn: async (become, becomeUser, argv) => {
        const all = become && becomeUser !== me ? ['sudo', '-n', '-H', '-u', becomeUser, ...argv] : [...argv];
        const child = spawn(all[0], all.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
        child.once('error', () => {}); // a failed start also closes: exit says -1
        return {
          stdin: child.stdin,
          stdout: child.stdout,
          stderr: child.stderr,
          exit: new Promise<number>((r) => child.once('close', (code) => r(code ?? -1))),
          kill: () => void child.kill('SIGTERM'),
        };
      },
      end: async () => {},
    },
  );
}
