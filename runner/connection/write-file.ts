import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pLimit from 'p-limit';
import { CommandLimitError, type ControllerFile, type ExecOptions, type ExecResult, type FileData, type WriteFileOptions } from './connection.js';
import { DEFAULT_TIMEOUT_MS } from './shell-session.js';

/** Data up to this size goes in one round trip of the host's session (as base64 on its command line). */
export const CHUNK_BYTES = 1024 * 1024;

/**
 * Larger data is streamed raw to a process of its own on the host, this many bytes at a time: the
 * next piece is read only once the transport has taken the last one, so a transfer holds one piece
 * of memory (and one buffer for it) whatever the file size.
 */
export const PIECE_BYTES = 64 * 1024;

// Streamed transfers under way at once, whatever the number of hosts: the transport takes a piece
// once the channel's window allows, and the socket may then hold up to that window (2 MiB) in the
// process until the host reads it; 100 hosts at once would hold 100 windows. The others wait their
// turn (the time counts against their timeout).
const transfers = pLimit(4);

// V8 frees dead Buffers when its own heap needs a collection, or once about 64 MB outside the heap
// has built up since the last one: the transport's packet buffers (plain and encrypted copies of
// every piece) are that kind of garbage, so a transfer alone would add up to 64 MB of RSS. A minor
// collection every few MiB streamed frees them while they are young (about a millisecond each).
setFlagsFromString('--expose-gc');
const collectYoung = (runInNewContext('gc') as (o: { type: 'minor'; execution: 'sync' }) => void).bind(null, { type: 'minor', execution: 'sync' });
const COLLECT_EVERY = 8 * 1024 * 1024;
let sinceCollect = 0;

export type RunSh = (script: string, args: readonly string[], opts: ExecOptions) => Promise<ExecResult>;

/** A process started on the host for one transfer: raw stdin, its exit code (-1: killed by a signal). */
export interface HostProcess {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  exit: Promise<number>;
  /** Ends the process (closes the channel); its own traps clean up. */
  kill(): void;
}

/** Starts `/bin/sh -c script sh args…` on the host, as the login user or through `sudo -n` (become). */
export type StartProcess = (script: string, args: readonly string[], as: { become?: boolean; becomeUser?: string }) => Promise<HostProcess>;

// Attributes are set on the temp file before the rename: a reader never sees a half-written file.
// Without an explicit mode/owner an existing file keeps its own; a new one gets 0644. $1 is the
// target, $2 owner[:group], $3 the mode, $t the temp file (removed on any failure).
const PLACE = `if [ -e "$1" ]; then chown --reference="$1" -- "$t" 2>/dev/null || true; chmod --reference="$1" -- "$t"; else chmod 0644 -- "$t"; fi
if [ -n "$2" ]; then chown -- "$2" "$t"; fi
if [ -n "$3" ]; then chmod -- "$3" "$t"; fi
mv -f -- "$t" "$1"
trap - EXIT`;

const MKTEMP = `set -e
t=$(mktemp "$(dirname -- "$1")/.rplay.XXXXXX")
trap 'rm -f -- "$t"' EXIT`;

// Small data: one session round trip, the bytes on stdin.
const WRITE_SCRIPT = `${MKTEMP}
cat > "$t"
${PLACE}`;

// Streamed data: everything happens in this one host process, so whatever ends the transfer early
// (the channel closed, the connection lost, rplay killed) gives cat its EOF or the shell a signal,
// and then the size ($4) or sha256 ($5) check fails (no digest is printed: that of changed content
// may be a secret's, and it is not masked) and the trap removes the temp file; the target
// is replaced only by bytes that are exactly the source's.
export const STREAM_SCRIPT = `${MKTEMP}
trap 'exit 1' HUP INT TERM PIPE
cat > "$t"
n=$(stat -c %s -- "$t")
if [ "$n" != "$4" ]; then echo "only $n of $4 bytes arrived" >&2; exit 1; fi
h=$(sha256sum < "$t")
h=\${h%% *}
if [ "$h" != "$5" ]; then echo "the bytes that arrived are not the planned ones (sha256 differs: did the source change since it was planned?)" >&2; exit 1; fi
${PLACE}`;

const STDERR_CAP = 64 * 1024;

function isControllerFile(d: FileData): d is ControllerFile {
  return typeof d === 'object' && !Buffer.isBuffer(d);
}

/**
 * Writes `data` to `path`: up to CHUNK_BYTES in one round trip of the session (`sh`), more streamed
 * to a process of its own (`start`) a piece at a time, with the transport's backpressure.
 */
export async function writeFileWith(host: string, sh: RunSh, start: StartProcess, path: string, data: FileData, opts: WriteFileOptions = {}): Promise<void> {
  const owner = opts.owner || opts.group ? `${opts.owner ?? ''}${opts.group ? `:${opts.group}` : ''}` : '';
  const as = { become: opts.become, becomeUser: opts.becomeUser };
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (!isControllerFile(bytes) && bytes.length <= CHUNK_BYTES) {
    const r = await sh(WRITE_SCRIPT, [path, owner, opts.mode ?? ''], { ...as, stdin: bytes, timeoutMs: opts.timeoutMs });
    if (r.rc !== 0) throw new Error(`writing ${path} on ${host} failed: ${r.stderr.trim() || `rc=${r.rc}`}`);
    return;
  }
  const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const size = isControllerFile(bytes) ? bytes.size : bytes.length;
  const digest = isControllerFile(bytes) ? bytes.sha256 : createHash('sha256').update(bytes).digest('hex');
  await transfers(async () => {
    const file = isControllerFile(bytes) ? await open(bytes.path, 'r') : undefined;
    try {
      const pieces = file ? filePieces(file, size, (bytes as ControllerFile).path) : bufferPieces(bytes as Buffer);
      await stream(host, start, path, [path, owner, opts.mode ?? '', String(size), digest], as, pieces, deadline);
    } finally {
      await file?.close();
    }
  });
}

function* bufferPieces(b: Buffer): Generator<Buffer> {
  for (let at = 0; at < b.length; at += PIECE_BYTES) yield b.subarray(at, at + PIECE_BYTES);
}

/** `size` bytes of the file, a piece at a time into one reused buffer (each piece is sent before the next is read). */
async function* filePieces(file: FileHandle, size: number, name: string): AsyncGenerator<Buffer> {
  const buf = Buffer.allocUnsafe(Math.min(PIECE_BYTES, size));
  for (let at = 0; at < size; ) {
    const { bytesRead } = await file.read(buf, 0, Math.min(buf.length, size - at), at);
    if (bytesRead === 0) throw new Error(`${name} is shorter than when it was read (${at} of ${size} bytes); it changed during the run`);
    at += bytesRead;
    yield buf.subarray(0, bytesRead);
  }
}

async function stream(
  host: string,
  start: StartProcess,
  path: string,
  args: string[],
  as: { become?: boolean; becomeUser?: string },
  pieces: Iterable<Buffer> | AsyncIterable<Buffer>,
  deadline: number,
): Promise<void> {
  const timeoutMs = Math.max(1, deadline - Date.now());
  const proc = await start(STREAM_SCRIPT, args, as);
  let stderr = '';
  proc.stderr.on('data', (b: Buffer) => {
    if (stderr.length < STDERR_CAP) stderr += b.toString('utf8');
  });
  proc.stdout.resume();
  proc.stdin.on('error', () => {}); // the exit code and stderr say what went wrong
  // The host's cat sees EOF (a signal alone waits for it to finish), then the size check fails.
  const cut = (): void => {
    proc.stdin.destroy();
    proc.kill();
  };
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      cut();
      reject(new CommandLimitError(host, `writing ${path} on ${host} ran out of time (the task's timeout:, or rplay's default command timeout); the transfer was cut off and ${path} left as it was`));
    }, timeoutMs);
  });
  limit.catch(() => {}); // raced below; it may fire while a piece is being read
  const failed = (rc: number): Error => new Error(`writing ${path} on ${host} failed: ${stderr.trim() || `rc=${rc}`}`);
  // The process ending before it has all the bytes (sudo refused, disk full, channel lost) ends the wait for the transport.
  const ended = proc.exit.then((rc) => Promise.reject(failed(rc)));
  ended.catch(() => {});
  try {
    for await (const piece of pieces) {
      // A refused write (EPIPE) means the process ended: its exit code and stderr say why.
      const sent = new Promise<void>((res, rej) => proc.stdin.write(piece, (e) => (e ? rej(e) : res()))).catch(() => Promise.race([ended, limit]));
      await Promise.race([sent, ended, limit]);
      sinceCollect += piece.length;
      if (sinceCollect >= COLLECT_EVERY) {
        sinceCollect = 0;
        collectYoung();
      }
    }
    proc.stdin.end();
    const rc = await Promise.race([proc.exit, limit]);
    if (rc !== 0) throw failed(rc);
  } catch (e) {
    cut();
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
