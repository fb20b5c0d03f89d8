// readFile on the real local shell sessions (the same code SSH uses): bytes exactly as on disk,
// bounded, refused with the path and the reason, as the task's become user.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withBecome } from '../../../runner/connection/become.js';
import type { Connection } from '../../../runner/connection/connection.js';
import { localConnection } from '../../../runner/connection/local.js';

let conn: Connection;
let dir: string;
test.before(() => {
  conn = localConnection();
  dir = mkdtempSync(join(tmpdir(), 'rplay-read-'));
  chmodSync(dir, 0o755);
});
test.after(async () => {
  await conn.close();
  rmSync(dir, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected readFile to fail');
}

test('the bytes come back exactly: binary (NULs, invalid UTF-8), empty, and under a name with shell metacharacters', async () => {
  const bytes = Buffer.concat([randomBytes(300_000), Buffer.from([0, 0xff, 0xfe, 0xc3, 0x28, 0x0a])]);
  writeFileSync(join(dir, 'blob'), bytes);
  assert.ok((await conn.readFile(join(dir, 'blob'))).equals(bytes));
  writeFileSync(join(dir, 'empty'), '');
  assert.is((await conn.readFile(join(dir, 'empty'))).length, 0);
  const odd = join(dir, "a b;$(touch x)'\"");
  writeFileSync(odd, 'odd\n');
  assert.is((await conn.readFile(odd)).toString(), 'odd\n');
  assert.not.ok(existsSync('/x') || existsSync(join(dir, 'x')));
  symlinkSync(join(dir, 'blob'), join(dir, 'link'));
  assert.ok((await conn.readFile(join(dir, 'link'))).equals(bytes));
});

test('a missing file, a folder, a dangling link are errors naming the path and host', async () => {
  assert.is(await failure(conn.readFile(join(dir, 'nope'))), `reading ${join(dir, 'nope')} on localhost failed: no such file`);
  mkdirSync(join(dir, 'sub'));
  assert.is(await failure(conn.readFile(join(dir, 'sub'))), `reading ${join(dir, 'sub')} on localhost failed: not a regular file`);
  symlinkSync(join(dir, 'gone'), join(dir, 'dangling'));
  assert.is(await failure(conn.readFile(join(dir, 'dangling'))), `reading ${join(dir, 'dangling')} on localhost failed: not a regular file`);
});

test('a file over maxBytes is refused before it is sent; one at the limit is read', async () => {
  writeFileSync(join(dir, 'big'), Buffer.alloc(1001, 'a'));
  assert.is(await failure(conn.readFile(join(dir, 'big'), { maxBytes: 1000 })), `reading ${join(dir, 'big')} on localhost failed: 1001 bytes, more than the 1000 bytes allowed (readFile's maxBytes)`);
  assert.is((await conn.readFile(join(dir, 'big'), { maxBytes: 1001 })).length, 1001);
  // The session still serves after a refusal.
  assert.is((await conn.sh('echo alive')).stdout, 'alive\n');
});

test('become is honoured: a root-only file is refused to nobody, read by root, and a bound become applies', async () => {
  writeFileSync(join(dir, 'secret'), 'root only\n', { mode: 0o600 });
  const asNobody = withBecome(conn, { become: true, becomeUser: 'nobody' });
  assert.match(await failure(asNobody.readFile(join(dir, 'secret'))), new RegExp(`^reading ${join(dir, 'secret')} on localhost failed: .*Permission denied`));
  assert.is((await asNobody.readFile(join(dir, 'secret'), { become: false })).toString(), 'root only\n');
  assert.match(await failure(conn.readFile(join(dir, 'secret'), { become: true, becomeUser: 'nobody' })), /Permission denied/);
});

test.run();
