import type { Duplex } from 'node:stream';
import type { Connection, ExecOptions, ExecResult, FileData, WriteFileOptions } from './connection.js';
import { shJoin } from './quote.js';
import { ShellSession, type ShellStreams } from './shell-session.js';
import { writeFileWith, type HostProcess } from './write-file.js';

/** Opens a long-lived `/bin/sh`, as the login user or (become) through `sudo -n` as becomeUser. */
export type SessionOpener = (become: boolean, becomeUser: string) => Promise<ShellStreams>;

export interface TransportHooks {
  deathError(become: boolean, stderr: string): Error;
  forwardOut(host: string, port: number): Promise<Duplex>;
  /** Starts argv on the host (through `sudo -n -u becomeUser` when become) for one streamed transfer. */
  spawn(become: boolean, becomeUser: string, argv: readonly string[]): Promise<HostProcess>;
  end(): Promise<void>;
}

export class SessionConnection implements Connection {
  readonly #sessions = new Map<string, Promise<ShellSession>>();

  constructor(
    readonly host: string,
    private readonly open: SessionOpener,
    private readonly hooks: TransportHooks,
  ) {}

  #session(opts: ExecOptions): Promise<ShellSession> {
    const become = opts.become ?? false;
    const user = opts.becomeUser ?? 'root';
    const key = become ? `become:${user}` : 'login';
    let s = this.#sessions.get(key);
    if (!s) {
      s = this.open(become, user).then(
        (streams) =>
          new ShellSession(
            this.host,
            streams,
            (stderr) => this.hooks.deathError(become, stderr),
            (pgid) => void this.#killGroup(key, opts, pgid),
          ),
      );
      // A failed open is not cached: the next task may try again.
      s.catch(() => this.#sessions.delete(key));
      this.#sessions.set(key, s);
    }
    return s;
  }

  /**
   * A command broke its timeout or output cap: its session's whole process group (shell, command,
   * anything it started there) is killed from a fresh session as the same user, which then serves
   * the next command.
   */
  async #killGroup(key: string, opts: ExecOptions, pgid: number): Promise<void> {
    this.#sessions.delete(key);
    try {
      const fresh = await this.#session(opts);
      await fresh.exec(`kill -s KILL -- -${pgid} 2>/dev/null; :`, [], { become: opts.become, becomeUser: opts.becomeUser });
    } catch {
      // The next command reports what is wrong with the host.
    }
  }

  async sh(script: string, args: readonly string[] = [], opts: ExecOptions = {}): Promise<ExecResult> {
    const p = this.#session(opts);
    const session = await p;
    try {
      return await session.exec(script, args, opts);
    } catch (e) {
      // A dead session is forgotten (unless a fresh one already took its place); a refused call
      // (a bad environment name) leaves it serving.
      const key = opts.become ? `become:${opts.becomeUser ?? 'root'}` : 'login';
      if (session.dead && this.#sessions.get(key) === p) this.#sessions.delete(key);
      throw e;
    }
  }

  run(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.sh(shJoin(argv), [], opts);
  }

  writeFile(path: string, data: FileData, opts: WriteFileOptions = {}): Promise<void> {
    return writeFileWith(
      this.host,
      (script, args, o) => this.sh(script, args, o),
      (script, args, as) => this.hooks.spawn(as.become ?? false, as.becomeUser ?? 'root', ['/bin/sh', '-c', script, 'sh', ...args]),
      path,
      data,
      opts,
    );
  }

  forwardOut(host: string, port: number): Promise<Duplex> {
    return this.hooks.forwardOut(host, port);
  }

  async close(): Promise<void> {
    for (const s of this.#sessions.values()) await s.then((x) => x.close(), () => {});
    this.#sessions.clear();
    await this.hooks.end();
  }
}
