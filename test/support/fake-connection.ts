// A connection for tests that need no sshd: commands are answered from a table or a function, every
// call is recorded with the options it carried (become, user, stdin), files written are kept and can
// be read back. A command nobody answered fails the test loudly rather than returning a made-up rc.
import { readFile } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import type { Connection, ConnectTarget, Connector, ExecOptions, ExecResult, ReadFileOptions, WriteFileOptions } from '../../runner/connection/connection.js';
import { shJoin } from '../../runner/connection/quote.js';

/** One call as the fake received it. `command` is the script, or for run() the argv quoted as sent. */
export type Sent =
  | { kind: 'sh' | 'run'; command: string; args: readonly string[]; opts: ExecOptions }
  | { kind: 'writeFile'; path: string; data: Buffer; opts: WriteFileOptions }
  | { kind: 'readFile'; path: string; opts: ReadFileOptions };

/** What the host prints for a command; rc and the streams default to 0 and ''. */
export type Reply = Partial<ExecResult>;

/**
 * How commands are answered: a function (undefined: not answered), or a table of [the exact
 * command or a pattern it must match, the reply or a function of the call] tried in order.
 */
export type Answers =
  | ((sent: Extract<Sent, { kind: 'sh' | 'run' }>, host: string) => Reply | undefined)
  | ReadonlyArray<readonly [string | RegExp, Reply | ((sent: Extract<Sent, { kind: 'sh' | 'run' }>) => Reply)]>;

export interface FakeConnection extends Connection {
  /** Every call, in order. */
  readonly sent: Sent[];
  /** The host's files: what tests put there and what writeFile wrote. */
  readonly files: Map<string, Buffer>;
  readonly closed: boolean;
}

export function fakeConnection(host: string, answers: Answers, files: Map<string, Buffer> = new Map()): FakeConnection {
  const sent: Sent[] = [];
  let closed = false;
  const reply = (call: Extract<Sent, { kind: 'sh' | 'run' }>): ExecResult => {
    if (closed) throw new Error(`fake connection to ${host}: used after close: ${call.command}`);
    sent.push(call);
    const r = typeof answers === 'function' ? answers(call, host) : lookup(answers, call);
    if (r === undefined) throw new Error(`fake connection to ${host}: no answer for ${JSON.stringify(call.command)}`);
    return { rc: r.rc ?? 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  return {
    host,
    sent,
    files,
    get closed() {
      return closed;
    },
    run: async (argv, opts = {}) => reply({ kind: 'run', command: shJoin(argv), args: [], opts }),
    sh: async (script, args = [], opts = {}) => reply({ kind: 'sh', command: script, args, opts }),
    async writeFile(path, data, opts = {}) {
      const bytes = typeof data === 'string' || Buffer.isBuffer(data) ? Buffer.from(data) : await readFile(data.path);
      sent.push({ kind: 'writeFile', path, data: bytes, opts });
      files.set(path, bytes);
    },
    async readFile(path, opts = {}) {
      sent.push({ kind: 'readFile', path, opts });
      const bytes = files.get(path);
      if (!bytes) throw new Error(`reading ${path} on ${host} failed: no such file`);
      return bytes;
    },
    forwardOut: (): Promise<Duplex> => Promise.reject(new Error(`fake connection to ${host}: no TCP forwarding`)),
    close: async () => {
      closed = true;
    },
  };
}

function lookup(table: Exclude<Answers, Function>, call: Extract<Sent, { kind: 'sh' | 'run' }>): Reply | undefined {
  for (const [when, r] of table) {
    if (typeof when === 'string' ? when === call.command : when.test(call.command)) return typeof r === 'function' ? r(call) : r;
  }
  return undefined;
}

/** A Connector handing out one fake per host (answered alike), and what it was asked to connect to. */
export function fakeConnector(answers: Answers, refuse: (t: ConnectTarget) => Error | undefined = () => undefined): Connector & {
  readonly hosts: Map<string, FakeConnection>;
  readonly targets: ConnectTarget[];
} {
  const hosts = new Map<string, FakeConnection>();
  const targets: ConnectTarget[] = [];
  const connect = async (t: ConnectTarget): Promise<Connection> => {
    targets.push(t);
    const refused = refuse(t);
    if (refused) throw refused;
    const c = fakeConnection(t.host, answers);
    hosts.set(t.host, c);
    return c;
  };
  return Object.assign(connect, { hosts, targets });
}
