import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { CommandLimitError, type ExecOptions, type ExecResult } from './connection.js';
import { shQuote } from './quote.js';

/** The three streams of a running `/bin/sh` (an ssh channel, or a local child process). */
export interface ShellStreams {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** Resolves when the shell has exited (channel closed). */
  closed: Promise<void>;
}

/** What a command may run and print unless told otherwise. */
export const DEFAULT_TIMEOUT_MS = 30 * 60_000;
export const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * One stream of one command, framed as `START … body … END`: bytes before START are not this
 * command's (a leftover of an earlier one) and are dropped; END is searched for only in the newly
 * arrived bytes plus a short tail, so buffering is linear in the output; past `cap` bytes the body
 * is no longer kept.
 */
class Frame {
  #started = false;
  #window = Buffer.alloc(0);
  readonly #chunks: Buffer[] = [];
  #size = 0;
  body: Buffer | undefined;

  constructor(
    private readonly start: Buffer,
    /** END's first bytes; END itself runs to the next newline after them. */
    private readonly end: Buffer,
    readonly cap: number,
  ) {}

  get overflowed(): boolean {
    return this.#size > this.cap;
  }

  /** Feeds bytes; returns the bytes after END once it is complete (END's trailer, e.g. the exit code, in `trailer`). */
  push(b: Buffer): { trailer: string } | undefined {
    if (!this.#started) {
      const hay = Buffer.concat([this.#window, b]);
      const i = hay.indexOf(this.start);
      if (i < 0) {
        this.#window = hay.subarray(Math.max(0, hay.length - this.start.length + 1));
        return undefined;
      }
      this.#started = true;
      this.#window = Buffer.alloc(0);
      b = hay.subarray(i + this.start.length);
    }
    // Search the tail of what came before (END may straddle two chunks) and the new bytes only.
    const hay = Buffer.concat([this.#window, b]);
    const base = this.#size - this.#window.length;
    const i = hay.indexOf(this.end);
    const nl = i < 0 ? -1 : hay.indexOf(0x0a, i + this.end.length);
    if (i >= 0 && nl >= 0) {
      const bodyEnd = base + i;
      this.#append(b.subarray(0, Math.max(0, bodyEnd - this.#size)));
      this.body = Buffer.concat(this.#chunks).subarray(0, Math.min(bodyEnd, this.cap));
      return { trailer: hay.subarray(i + this.end.length, nl).toString('latin1') };
    }
    this.#append(b);
    // Keep enough to find END (prefix plus a short trailer) across the next chunk boundary.
    const keep = i >= 0 ? hay.length - i : this.end.length + 16;
    this.#window = hay.subarray(Math.max(0, hay.length - keep));
    return undefined;
  }

  #append(b: Buffer): void {
    if (this.#size < this.cap) this.#chunks.push(b.subarray(0, this.cap - this.#size));
    this.#size += b.length;
  }
}

interface Pending {
  resolve: (r: ExecResult) => void;
  reject: (e: Error) => void;
  out: Frame;
  err: Frame;
  rc?: number;
  timer: NodeJS.Timeout;
}

/**
 * Many commands over one long-lived shell: one round trip per command, no process start-up, no
 * per-command sudo. Each command runs in a subshell (`( … )`) so `cd`, `exit` or a syntax error in
 * it cannot disturb the session; its output is framed by random markers on stdout (with the exit
 * code) and on stderr.
 *
 * What a command leaves behind: the shell is the leader of its own process group and ignores
 * SIGHUP; commands run with SIGHUP restored, and after each one the whole group gets SIGHUP, as a
 * terminal's hang-up would deliver at the end of an interactive command. So `x &` ends with its
 * command, `nohup x > log 2>&1 &` and daemons (which leave the group with setsid) keep running. A
 * command that times out or prints more than the cap is killed with the whole group (the shell
 * too: `onAbort` kills the group from a fresh session, which then serves the next command).
 */
export class ShellSession {
  readonly #marker = `__RPLAY_${randomBytes(12).toString('hex')}`;
  #current: Pending | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #dead: Error | undefined;
  #stderrTail = '';
  /** The process group of the shell, read at start. */
  pgid = 0;
  readonly ready: Promise<void>;

  constructor(
    private readonly host: string,
    private readonly streams: ShellStreams,
    private readonly onDeath: (stderr: string) => Error,
    /** Kill the shell's whole process group (a command timed out or printed too much). */
    private readonly onAbort: (pgid: number) => void,
  ) {
    streams.stdout.on('data', (b: Buffer) => this.#onData('out', b));
    streams.stderr.on('data', (b: Buffer) => this.#onData('err', b));
    streams.stdin.on('error', () => {});
    void streams.closed.then(() => {
      this.#dead ??= this.onDeath(this.#stderrTail);
      this.#fail(this.#dead);
    });
    // The shell ignores SIGHUP (the end-of-command hang-up is for what commands leave behind) and
    // reports its process group, which a timeout kills.
    const prelude = `trap '' HUP; read -r __rplay_l < /proc/$$/stat; set -- \${__rplay_l##*") "}; printf %s "$3"`;
    this.ready = this.#send({}, `${prelude}; `, '').then((r) => {
      this.pgid = Number(r.stdout);
      if (!Number.isInteger(this.pgid) || this.pgid <= 1) throw new Error(`shell on ${host} did not report its process group: ${r.stdout.slice(0, 80)}`);
    });
    this.ready.catch(() => {}); // exec() hands the failure on
  }

  /** Run one sh script; $1… are `args`. Calls are serialised: one command at a time per session. */
  exec(script: string, args: readonly string[] = [], opts: ExecOptions = {}): Promise<ExecResult> {
    const run = this.#queue.then(() => this.ready).then(() => this.#command(script, args, opts));
    this.#queue = run.catch(() => {});
    return run;
  }

  /** The shell has ended or was given up (a command broke a limit): it runs nothing more. */
  get dead(): boolean {
    return this.#dead !== undefined;
  }

  close(): void {
    if (!this.#dead) this.streams.stdin.end('exit 0\n');
  }

  #command(script: string, args: readonly string[], opts: ExecOptions): Promise<ExecResult> {
    const env = Object.entries(opts.env ?? {})
      .map(([k, v]) => {
        if (!ENV_NAME.test(k)) throw new Error(`environment variable name ${JSON.stringify(k)} is not a valid name`);
        return `export ${k}=${shQuote(v)}; `;
      })
      .join('');
    const setArgs = args.length ? `set -- ${args.map(shQuote).join(' ')}; ` : '';
    const body = `( trap - HUP; cd / 2>/dev/null; ${env}${setArgs}eval ${shQuote(script)}\n)`;
    const input =
      opts.stdin === undefined
        ? `${body} </dev/null`
        : `printf %s ${Buffer.from(opts.stdin).toString('base64') || "''"} | base64 -d | ${body}`;
    return this.#send(opts, `${input}; `, `kill -s HUP -- -${this.pgid} 2>/dev/null; `);
  }

  #send(opts: ExecOptions, command: string, after: string): Promise<ExecResult> {
    if (this.#dead) return Promise.reject(this.#dead);
    const m = this.#marker;
    const line =
      `printf '%s\\n' ${m}:S; printf '%s\\n' ${m}:S >&2; ${command}` +
      `__rplay_rc=$?; ${after}printf '\\n%s:%s\\n' ${m} "$__rplay_rc"; printf '\\n%s\\n' ${m}:E >&2\n`;
    const cap = opts.maxOutputBytes ?? MAX_OUTPUT_BYTES;
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const s = Math.round(timeoutMs / 100) / 10;
        const which = opts.timeoutMs === undefined ? "rplay's default command timeout; set the task's timeout: to allow longer" : "the task's timeout:";
        this.#abort(new CommandLimitError(this.host, `command on ${this.host} timed out after ${s} s (${which}); it was killed with its process group`));
      }, timeoutMs);
      const start = Buffer.from(`${m}:S\n`);
      this.#current = {
        resolve,
        reject,
        timer,
        out: new Frame(start, Buffer.from(`\n${m}:`), cap),
        err: new Frame(start, Buffer.from(`\n${m}:E`), cap),
      };
      this.streams.stdin.write(line);
    });
  }

  #onData(which: 'out' | 'err', b: Buffer): void {
    if (which === 'err') this.#stderrTail = (this.#stderrTail + b.toString('utf8')).slice(-4096);
    const p = this.#current;
    if (!p) return;
    const frame = which === 'out' ? p.out : p.err;
    if (frame.body !== undefined) return;
    const done = frame.push(b);
    if (done && which === 'out') p.rc = Number(done.trailer);
    if (frame.overflowed) {
      this.#abort(
        new CommandLimitError(
          this.host,
          `command on ${this.host} printed more than ${+(frame.cap / 1024 / 1024).toFixed(2)} MiB on ${which === 'out' ? 'stdout' : 'stderr'}; it was killed with its process group (write large output to a file on the host instead)`,
        ),
      );
      return;
    }
    if (p.out.body !== undefined && p.err.body !== undefined && p.rc !== undefined) {
      clearTimeout(p.timer);
      this.#current = undefined;
      p.resolve({ rc: p.rc, stdout: p.out.body.toString('utf8'), stderr: p.err.body.toString('utf8') });
    }
  }

  /** The command broke a limit: the session is done for, its process group is killed. */
  #abort(e: Error): void {
    this.#dead ??= e;
    this.#fail(e);
    this.onAbort(this.pgid);
  }

  #fail(e: Error): void {
    const p = this.#current;
    this.#current = undefined;
    if (!p) return;
    clearTimeout(p.timer);
    p.reject(e);
  }
}
