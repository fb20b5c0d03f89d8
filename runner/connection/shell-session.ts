import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import type { ExecOptions, ExecResult } from './connection.js';
import { shQuote } from './quote.js';

/** The three streams of a running `/bin/sh` (an ssh channel, or a local child process). */
export interface ShellStreams {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** Resolves when the shell has exited (channel closed). */
  closed: Promise<void>;
}

interface Pending {
  resolve: (r: ExecResult) => void;
  reject: (e: Error) => void;
}

/**
 * Many commands over one long-lived shell: one round trip per command, no process start-up, no
 * per-command sudo. Each command runs in a subshell (`( … )`) so `cd`, `exit` or a syntax error in
 * it cannot disturb the session; its end is framed by a random marker on stdout (with the exit
 * code) and on stderr.
 */
export class ShellSession {
  readonly #marker = `__RPLAY_${randomBytes(12).toString('hex')}`;
  #out: Buffer[] = [];
  #err: Buffer[] = [];
  #outText = '';
  #errText = '';
  #current: Pending | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #dead: Error | undefined;

  constructor(
    private readonly streams: ShellStreams,
    private readonly onDeath: (stderr: string) => Error,
  ) {
    streams.stdout.on('data', (b: Buffer) => this.#onData('out', b));
    streams.stderr.on('data', (b: Buffer) => this.#onData('err', b));
    streams.stdin.on('error', () => {});
    void streams.closed.then(() => {
      this.#dead ??= this.onDeath(this.#errText || Buffer.concat(this.#err).toString('utf8'));
      this.#current?.reject(this.#dead);
      this.#current = undefined;
    });
  }

  /** Run one sh script; $1… are `args`. Calls are serialised: one command at a time per session. */
  exec(script: string, args: readonly string[] = [], opts: ExecOptions = {}): Promise<ExecResult> {
    const run = this.#queue.then(() => this.#send(script, args, opts));
    this.#queue = run.catch(() => {});
    return run;
  }

  close(): void {
    if (!this.#dead) this.streams.stdin.end('exit 0\n');
  }

  #send(script: string, args: readonly string[], opts: ExecOptions): Promise<ExecResult> {
    if (this.#dead) return Promise.reject(this.#dead);
    const env = Object.entries(opts.env ?? {})
      .map(([k, v]) => `export ${k}=${shQuote(v)}; `)
      .join('');
    const setArgs = args.length ? `set -- ${args.map(shQuote).join(' ')}; ` : '';
    const body = `( cd / 2>/dev/null; ${env}${setArgs}eval ${shQuote(script)}\n)`;
    const input =
      opts.stdin === undefined
        ? `${body} </dev/null`
        : `printf %s ${Buffer.from(opts.stdin).toString('base64') || "''"} | base64 -d | ${body}`;
    const line = `${input}; printf '\\n%s:%s\\n' ${this.#marker} "$?"; printf '\\n%s\\n' ${this.#marker} >&2\n`;
    return new Promise((resolve, reject) => {
      this.#current = { resolve, reject };
      this.streams.stdin.write(line);
    });
  }

  #onData(which: 'out' | 'err', b: Buffer): void {
    if (which === 'out') {
      this.#out.push(b);
      this.#outText = '';
    } else {
      this.#err.push(b);
      this.#errText = '';
    }
    this.#tryFinish();
  }

  #tryFinish(): void {
    if (!this.#current) return;
    const out = (this.#outText ||= Buffer.concat(this.#out).toString('utf8'));
    const err = (this.#errText ||= Buffer.concat(this.#err).toString('utf8'));
    const m = new RegExp(`\\n${this.#marker}:(\\d+)\\n`).exec(out);
    const errEnd = `\n${this.#marker}\n`;
    const e = err.indexOf(errEnd);
    if (!m || e < 0) return;
    const result: ExecResult = { rc: Number(m[1]), stdout: out.slice(0, m.index), stderr: err.slice(0, e) };
    this.#out = [Buffer.from(out.slice(m.index + m[0].length))];
    this.#err = [Buffer.from(err.slice(e + errEnd.length))];
    this.#outText = this.#errText = '';
    const p = this.#current;
    this.#current = undefined;
    p.resolve(result);
  }
}
