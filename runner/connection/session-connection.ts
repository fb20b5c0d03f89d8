import type { Duplex } from 'node:stream';
import { MAX_READ_BYTES, type Connection, type ExecOptions, type ExecResult, type FileData, type ReadFileOptions, type WriteFileOptions } from './connection.js';
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

// The size is checked before a byte is sent; base64 because a command's output arrives as text.
const READ_SCRIPT = `if [ ! -e "$1" ] && [ ! -L "$1" ]; then echo 'no such file' >&2; exit 3; fi
if [ ! -f "$1" ]; then echo 'not a regular file' >&2; exit 3; fi
s=$(stat -L -c %s -- "$1") || exit 3
if [ "$s" -gt "$2" ]; then echo "$s bytes, more than the $2 bytes allowed (readFile's maxBytes)" >&2; exit 4; fi
base64 -w0 < "$1"`;

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

  async readFile(path: string, opts: ReadFileOptions = {}): Promise<Buffer> {
    const max = opts.maxBytes ?? MAX_READ_BYTES;
    const r = await this.sh(READ_SCRIPT, [path, String(max)], {
      become: opts.become,
      becomeUser: opts.becomeUser,
      timeoutMs: opts.timeoutMs,
      // A file that grows past the limit after its size was checked is cut off, not read whole.
      maxOutputBytes: Math.ceil(max / 3) * 4 + 4,
    });
    if (r.rc !== 0) throw new Error(`reading ${path} on ${this.host} failed: ${r.stderr.trim() || `rc=${r.rc}`}`);
    const data = Buffer.from(r.stdout, 'base64');
    if (data.length > max) throw new Error(`reading ${path} on ${this.host} failed: it grew past the ${max} bytes allowed while being read`);
    return data;
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
