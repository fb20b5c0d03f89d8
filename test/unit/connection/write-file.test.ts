// writeFileWith against real /bin/sh processes on the controller, with the transport's writes
// recorded: whatever the file size, no write is larger than a piece, one piece is outstanding at a
// time, the bytes land exactly, and a bad transfer leaves the old file and no temp file.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ExecOptions } from '../../../runner/connection/connection.js';
import { localConnection } from '../../../runner/connection/local.js';
import { CHUNK_BYTES, PIECE_BYTES, writeFileWith, type HostProcess, type StartProcess } from '../../../runner/connection/write-file.js';

const test = suite('writeFileWith');
const dir = mkdtempSync(join(tmpdir(), 'rplay-write-'));
const local = localConnection();
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface Record {
  writes: number[];
  maxOutstanding: number;
  started: number;
  shStdin: number[];
}

/** The session and process transports of a local connection, recording every write they are handed. */
function recording(): { rec: Record; sh: Parameters<typeof writeFileWith>[1]; start: StartProcess } {
  const rec: Record = { writes: [], maxOutstanding: 0, started: 0, shStdin: [] };
  const sh = (script: string, args: readonly string[], opts: ExecOptions) => {
    if (opts.stdin !== undefined) rec.shStdin.push(Buffer.byteLength(opts.stdin));
    return local.sh(script, args, opts);
  };
  const start: StartProcess = async (script, args) => {
    rec.started++;
    const child = spawn('/bin/sh', ['-c', script, 'sh', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let outstanding = 0;
    const write = child.stdin.write.bind(child.stdin) as (b: Buffer, cb: (e?: Error | null) => void) => boolean;
    (child.stdin as unknown as { write: typeof write }).write = (b, cb) => {
      rec.writes.push(b.length);
      rec.maxOutstanding = Math.max(rec.maxOutstanding, ++outstanding);
      return write(b, (e) => {
        outstanding--;
        cb(e);
      });
    };
    const proc: HostProcess = {
      stdin: child.stdin,
      stdout: child.stdout,
      stderr: child.stderr,
      exit: new Promise((r) => child.once('close', (code) => r(code ?? -1))),
      kill: () => void child.kill('SIGTERM'),
    };
    return proc;
  };
  return { rec, sh, start };
}

/** Binary bytes a text path would corrupt: NULs, invalid UTF-8, CR/LF, every byte value. */
function binary(size: number): Buffer {
  const b = randomBytes(size);
  Buffer.from([0, 0xff, 0xfe, 0xc3, 0x28, 0x0d, 0x0a, 0x80, 0]).copy(b, 0);
  for (let i = 0; i < 256; i++) b[100 + i] = i;
  return b;
}

async function rejected(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

/** The .rplay.* temp files in `dir` once the killed process has had time to clean up. */
async function temps(): Promise<string[]> {
  let left: string[] = [];
  for (let i = 0; i < 40; i++) {
    left = readdirSync(dir).filter((n) => n.startsWith('.rplay.'));
    if (left.length === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return left;
}

test.after(() => local.close());

test('a controller file of 9 MiB + 7 bytes: exact bytes and mode, every write at most a piece, one outstanding at a time', async () => {
  const bytes = binary(9 * 1024 * 1024 + 7);
  const from = join(dir, 'src.bin');
  writeFileSync(from, bytes);
  const { rec, sh, start } = recording();
  await writeFileWith('local', sh, start, join(dir, 'dest.bin'), { path: from, size: bytes.length, sha256: sha(bytes) }, { mode: '0640' });
  assert.ok(readFileSync(join(dir, 'dest.bin')).equals(bytes));
  assert.is(statSync(join(dir, 'dest.bin')).mode & 0o777, 0o640);
  assert.is(rec.started, 1);
  assert.is(Math.max(...rec.writes), PIECE_BYTES);
  assert.is(rec.writes.length, Math.ceil(bytes.length / PIECE_BYTES));
  assert.is(rec.maxOutstanding, 1);
  assert.equal(rec.shStdin, []);
  assert.equal(await temps(), []);
});

test('bytes in memory: up to a chunk in one session round trip, more streamed in pieces', async () => {
  const small = binary(CHUNK_BYTES);
  const { rec, sh, start } = recording();
  await writeFileWith('local', sh, start, join(dir, 'small.bin'), small);
  assert.ok(readFileSync(join(dir, 'small.bin')).equals(small));
  assert.equal(rec.shStdin, [CHUNK_BYTES]);
  assert.is(rec.started, 0);
  const big = binary(3 * CHUNK_BYTES + 1);
  await writeFileWith('local', sh, start, join(dir, 'big.bin'), big);
  assert.ok(readFileSync(join(dir, 'big.bin')).equals(big));
  assert.is(rec.started, 1);
  assert.ok(rec.writes.every((n) => n <= PIECE_BYTES));
  assert.is(rec.maxOutstanding, 1);
});

test('bytes that do not hash to the source: refused on the host, the old file kept, no temp file', async () => {
  const dest = join(dir, 'kept.bin');
  writeFileSync(dest, 'old');
  const bytes = binary(2 * CHUNK_BYTES);
  const from = join(dir, 'changed.bin');
  writeFileSync(from, bytes);
  const { sh, start } = recording();
  const e = await rejected(writeFileWith('local', sh, start, dest, { path: from, size: bytes.length, sha256: sha(Buffer.from('other')) }));
  assert.match(e.message, /^writing .*kept\.bin on local failed: the bytes that arrived are not the planned ones \(sha256 differs: did the source change since it was planned\?\)$/);
  assert.is(readFileSync(dest, 'utf8'), 'old');
  assert.equal(await temps(), []);
});

test('a source shorter than when it was hashed: refused, the transfer cut, the old file kept, no temp file', async () => {
  const dest = join(dir, 'kept2.bin');
  writeFileSync(dest, 'old');
  const bytes = binary(2 * CHUNK_BYTES);
  const from = join(dir, 'shrunk.bin');
  writeFileSync(from, bytes.subarray(0, CHUNK_BYTES));
  const { sh, start } = recording();
  const e = await rejected(writeFileWith('local', sh, start, dest, { path: from, size: bytes.length, sha256: sha(bytes) }));
  assert.match(e.message, /shrunk\.bin is shorter than when it was read \(1048576 of 2097152 bytes\); it changed during the run$/);
  assert.is(readFileSync(dest, 'utf8'), 'old');
  assert.equal(await temps(), []);
});

test('a timeout cuts the transfer off: the old file kept, no temp file', async () => {
  const dest = join(dir, 'kept3.bin');
  writeFileSync(dest, 'old');
  const bytes = binary(64 * CHUNK_BYTES);
  const from = join(dir, 'slow.bin');
  writeFileSync(from, bytes);
  const { sh, start } = recording();
  const e = await rejected(writeFileWith('local', sh, start, dest, { path: from, size: bytes.length, sha256: sha(bytes) }, { timeoutMs: 20 }));
  assert.match(e.message, /^writing .*kept3\.bin on local ran out of time .*left as it was$/);
  assert.is(readFileSync(dest, 'utf8'), 'old');
  assert.equal(await temps(), []);
});

test.run();
