// The task's become bound into the connection: every call runs as the become user unless the call
// itself says otherwise, on the real local shell sessions (sudo to nobody).
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withBecome } from '../../../runner/connection/become.js';
import type { Connection } from '../../../runner/connection/connection.js';
import { localConnection } from '../../../runner/connection/local.js';

let raw: Connection;
let dir: string;
test.before(() => {
  raw = localConnection();
  dir = mkdtempSync(join(tmpdir(), 'rplay-become-'));
  chmodSync(dir, 0o777);
});
test.after(async () => {
  await raw.close();
  rmSync(dir, { recursive: true, force: true });
});

const nobody = (): number => Number(/^nobody:[^:]*:(\d+):/m.exec(readFileSync('/etc/passwd', 'utf8'))?.[1]);

test('sh, run and writeFile run as the bound become user without being told', async () => {
  const conn = withBecome(raw, { become: true, becomeUser: 'nobody' });
  assert.is((await conn.sh('whoami')).stdout, 'nobody\n');
  assert.is((await conn.run(['id', '-un'])).stdout, 'nobody\n');
  await conn.writeFile(join(dir, 'f'), 'x\n');
  assert.is(statSync(join(dir, 'f')).uid, nobody());
});

test("a call's own options win: become: false runs as the login user, another becomeUser as that user", async () => {
  const conn = withBecome(raw, { become: true, becomeUser: 'nobody' });
  assert.is((await conn.sh('whoami', [], { become: false })).stdout, `${userInfo().username}\n`);
  assert.is((await conn.run(['id', '-un'], { becomeUser: 'daemon' })).stdout, 'daemon\n');
  await conn.writeFile(join(dir, 'g'), 'y\n', { become: false });
  assert.is(statSync(join(dir, 'g')).uid, userInfo().uid);
});

test('without become bound, calls run as the login user; an explicit become still becomes', async () => {
  const conn = withBecome(raw, { become: false, becomeUser: 'nobody' });
  assert.is((await conn.sh('whoami')).stdout, `${userInfo().username}\n`);
  assert.is((await conn.sh('whoami', [], { become: true })).stdout, 'nobody\n');
});

test.run();
