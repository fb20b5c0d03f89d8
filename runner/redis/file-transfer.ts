// Copying files between the controller and a host over the host's existing connection, a chunk per
// round trip (base64 on the wire: the session's output is text), so a large RDB never sits in
// memory whole. Each side's sha256 is computed as the bytes pass, for end-to-end checks.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { Connection, ExecOptions } from '../connection/connection.js';

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

/** Host file → new local file (which must not exist). */
export async function fetchFile(conn: Connection, remote: string, local: string, size: number, opts: ExecOptions = {}): Promise<Transferred> {
  const hash = createHash('sha256');
  const fh = await open(local, 'wx', 0o600);
  let got = 0;
  try {
    for (let block = 0; block * CHUNK < size; block++) {
      const r = await conn.sh(`dd if="$1" bs=${CHUNK} skip="$2" count=1 2>/dev/null | base64 -w0`, [remote, String(block)], opts);
      if (r.rc !== 0) throw new TransferError(`reading ${remote} on ${conn.host} failed: ${r.stderr.trim() || `rc=${r.rc}`}`);
      const bytes = Buffer.from(r.stdout, 'base64');
      if (bytes.length === 0) break;
      hash.update(bytes);
      await fh.write(bytes);
      got += bytes.length;
    }
  } finally {
    await fh.close();
  }
  if (got !== size) throw new TransferError(`${remote} on ${conn.host}: got ${got} of ${size} bytes (did it change while being read?)`);
  return { sha256: hash.digest('hex'), size: got };
}

/** Local file → host file (created or emptied first), appended a chunk at a time. */
export async function putFile(conn: Connection, local: string, remote: string, opts: ExecOptions = {}): Promise<Transferred> {
  const hash = createHash('sha256');
  const start = await conn.sh(': > "$1" && chmod 0600 "$1"', [remote], opts);
  if (start.rc !== 0) throw new TransferError(`creating ${remote} on ${conn.host} failed: ${start.stderr.trim() || `rc=${start.rc}`}`);
  const fh = await open(local, 'r');
  let size = 0;
  try {
    const buf = Buffer.alloc(CHUNK);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      const piece = buf.subarray(0, bytesRead);
      hash.update(piece);
      const r = await conn.sh('cat >> "$1"', [remote], { ...opts, stdin: Buffer.from(piece) });
      if (r.rc !== 0) throw new TransferError(`writing ${remote} on ${conn.host} failed: ${r.stderr.trim() || `rc=${r.rc}`}`);
      size += bytesRead;
    }
  } finally {
    await fh.close();
  }
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
