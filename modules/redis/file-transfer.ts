// Copying files between the controller and a host over the host's existing connection, a chunk per
// round trip (base64 on the wire: the session's output is text), so a large RDB never sits in
// memory whole. Each side's sha256 is computed as the bytes pass, for end-to-end checks.
import { createHash } from 'node:crypto';
import type { Connection, ExecOptions } from '../../runner/connection/connection.js';

/** Bytes per round trip: 1 MiB is ~1.4 MB of base64, well inside what one exec carries quickly. */
export const CHUNK = 1 << 20;

export interface Transferred {
  sha256: string;
  size: number;
}

export class TransferError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransferError';
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Host file → `sink`, a chunk at a time; the host's answers are checked (base64, never more than a
 * chunk per block nor more than `size` in all) before a byte reaches the sink.
 */
export async function fetchFile(conn: Connection, remote: string, size: number, sink: (bytes: Buffer) => Promise<void>, opts: ExecOptions = {}): Promise<Transferred> {
  const hash = createHash('sha256');
  let got = 0;
  for (let block = 0; block * CHUNK < size; block++) {
    const r = await conn.sh(`dd if="$1" bs=${CHUNK} skip="$2" count=1 2>/dev/null | base64 -w0`, [remote, String(block)], opts);
    if (r.rc !== 0) throw new TransferError(`reading ${remote} on ${conn.host} failed: ${r.stderr.trim().slice(0, 400) || `rc=${r.rc}`}`);
    const text = r.stdout.trim();
    if (text.length > Math.ceil(CHUNK / 3) * 4 || !BASE64.test(text)) throw new TransferError(`${remote} on ${conn.host}: block ${block} is not at most ${CHUNK} bytes of base64`);
    const bytes = Buffer.from(text, 'base64');
    if (bytes.length === 0) break;
    if (got + bytes.length > size) throw new TransferError(`${remote} on ${conn.host}: more than the ${size} bytes the host listed`);
    hash.update(bytes);
    await sink(bytes);
    got += bytes.length;
  }
  if (got !== size) throw new TransferError(`${remote} on ${conn.host}: got ${got} of ${size} bytes (did it change while being read?)`);
  return { sha256: hash.digest('hex'), size: got };
}

/** Bytes from `source` → host file (created or emptied first), appended a chunk at a time. */
export async function putFile(conn: Connection, source: AsyncIterable<Buffer>, remote: string, opts: ExecOptions = {}): Promise<Transferred> {
  const hash = createHash('sha256');
  const start = await conn.sh(': > "$1" && chmod 0600 "$1"', [remote], opts);
  if (start.rc !== 0) throw new TransferError(`creating ${remote} on ${conn.host} failed: ${start.stderr.trim() || `rc=${start.rc}`}`);
  let size = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async (): Promise<void> => {
    if (pendingBytes === 0) return;
    const piece = Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    const r = await conn.sh('cat >> "$1"', [remote], { ...opts, stdin: piece });
    if (r.rc !== 0) throw new TransferError(`writing ${remote} on ${conn.host} failed: ${r.stderr.trim() || `rc=${r.rc}`}`);
  };
  for await (const chunk of source) {
    hash.update(chunk);
    size += chunk.length;
    pending.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes >= CHUNK) await flush();
  }
  await flush();
  return { sha256: hash.digest('hex'), size };
}

/** sha256 of files on the host, by the path given (one round trip). */
export async function remoteSums(conn: Connection, paths: readonly string[], opts: ExecOptions = {}): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (paths.length === 0) return out;
  const r = await conn.sh('sha256sum -- "$@"', paths, opts);
  if (r.rc !== 0) throw new TransferError(`sha256sum on ${conn.host} failed: ${r.stderr.trim() || `rc=${r.rc}`}`);
  for (const line of r.stdout.split('\n')) {
    const m = /^\\?([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (m !== null) out.set(m[2], m[1]);
  }
  return out;
}
