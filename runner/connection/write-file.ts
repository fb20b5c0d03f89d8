import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import pLimit from 'p-limit';
import type { ControllerFile, ExecOptions, ExecResult, FileData, WriteFileOptions } from './connection.js';

/** Raw bytes per command of a streamed write: the session sends them as one base64 line. */
export const CHUNK_BYTES = 1024 * 1024;

// Chunks held in memory by the whole process at once, whatever the forks: with 100 hosts streaming
// a file, each waits for its turn at a chunk instead of holding one, so memory does not grow with
// the number of hosts.
const chunkTurns = pLimit(4);

export type RunSh = (script: string, args: readonly string[], opts: ExecOptions) => Promise<ExecResult>;

// Attributes are set on the temp file before the rename: a reader never sees a half-written file.
// Without an explicit mode/owner an existing file keeps its own; a new one gets 0644. $1 is the
// target, $2 owner[:group], $3 the mode, $t the temp file (removed on any failure).
const PLACE = `if [ -e "$1" ]; then chown --reference="$1" -- "$t" 2>/dev/null || true; chmod --reference="$1" -- "$t"; else chmod 0644 -- "$t"; fi
if [ -n "$2" ]; then chown -- "$2" "$t"; fi
if [ -n "$3" ]; then chmod -- "$3" "$t"; fi
mv -f -- "$t" "$1"
trap - EXIT`;

const MKTEMP = 't=$(mktemp "$(dirname -- "$1")/.rplay.XXXXXX")';

// Small data: one round trip, the bytes on stdin.
const WRITE_SCRIPT = `set -e
${MKTEMP}
trap 'rm -f -- "$t"' EXIT
cat > "$t"
${PLACE}`;

// Streamed data: the temp file is made first and kept ($t printed), chunks are appended to it...
const STREAM_START = `set -e
${MKTEMP}
printf %s "$t"`;
const STREAM_CHUNK = 'cat >> "$1"';
// ...then, only if what arrived has the source's sha256 ($5), it is put in place ($4 is $t).
const STREAM_FINISH = `set -e
t=$4
trap 'rm -f -- "$t"' EXIT
h=$(sha256sum < "$t")
h=\${h%% *}
if [ "$h" != "$5" ]; then echo "the bytes that arrived have sha256 $h, the source $5 (did it change while being sent?)" >&2; exit 1; fi
${PLACE}`;

function isControllerFile(d: FileData): d is ControllerFile {
  return typeof d === 'object' && !Buffer.isBuffer(d);
}

/**
 * Writes `data` to `path` through `sh` (one host's session). Data up to a chunk goes in one round
 * trip; larger data is streamed a chunk per command, so no command line grows with the file and
 * the controller holds at most a few chunks, however many hosts are written at once.
 */
export async function writeFileWith(host: string, sh: RunSh, path: string, data: FileData, opts: WriteFileOptions = {}): Promise<void> {
  const owner = opts.owner || opts.group ? `${opts.owner ?? ''}${opts.group ? `:${opts.group}` : ''}` : '';
  const as: ExecOptions = { become: opts.become, becomeUser: opts.becomeUser, timeoutMs: opts.timeoutMs };
  const failed = (r: ExecResult): Error => new Error(`writing ${path} on ${host} failed: ${r.stderr.trim() || `rc=${r.rc}`}`);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (!isControllerFile(bytes) && bytes.length <= CHUNK_BYTES) {
    const r = await sh(WRITE_SCRIPT, [path, owner, opts.mode ?? ''], { ...as, stdin: bytes });
    if (r.rc !== 0) throw failed(r);
    return;
  }
  const source = isControllerFile(bytes) ? bytes : { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  const started = await sh(STREAM_START, [path], as);
  if (started.rc !== 0) throw failed(started);
  const temp = started.stdout;
  const file = isControllerFile(bytes) ? await open(bytes.path, 'r') : undefined;
  try {
    for (let at = 0; at < source.size; ) {
      at += await chunkTurns(async () => {
        const n = Math.min(CHUNK_BYTES, source.size - at);
        let chunk: Buffer;
        if (file) {
          chunk = Buffer.allocUnsafe(n);
          const { bytesRead } = await file.read(chunk, 0, n, at);
          if (bytesRead === 0) throw new Error(`writing ${path} on ${host} failed: ${(bytes as ControllerFile).path} is shorter than when it was read (${at} of ${source.size} bytes); it changed during the run`);
          chunk = chunk.subarray(0, bytesRead);
        } else {
          chunk = (bytes as Buffer).subarray(at, at + n);
        }
        const r = await sh(STREAM_CHUNK, [temp], { ...as, stdin: chunk });
        if (r.rc !== 0) throw failed(r);
        return chunk.length;
      });
    }
    const r = await sh(STREAM_FINISH, [path, owner, opts.mode ?? '', temp, source.sha256], as);
    if (r.rc !== 0) throw failed(r);
  } catch (e) {
    // The finish script removes its temp file itself; a failure before it leaves one to remove.
    await sh('rm -f -- "$1"', [temp], as).catch(() => {});
    throw e;
  } finally {
    await file?.close();
  }
}
