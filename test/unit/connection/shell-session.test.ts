// A hostile command on the local connection (the same shell session SSH uses): huge and endless
// output, a hang, a background writer, output that looks like the framing; the session survives each.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CommandLimitError, type Connection } from '../../../runner/connection/connection.js';
import { localConnection } from '../../../runner/connection/local.js';
import { withTimeout } from '../../../runner/connection/timeout.js';

let conn: Connection;
test.before(() => {
  conn = localConnection();
});
test.after(async () => {
  await conn.close();
});

async function rejected(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

/** Pids of live processes whose argv is exactly `argv`. */
function processes(...argv: string[]): number[] {
  const want = argv.join('\0') + '\0';
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return readFileSync(`/proc/${e}/cmdline`, 'latin1') === want;
      } catch {
        return false;
      }
    })
    .map(Number);
}

test('100 MiB of output is refused with a clear error, and the session still works', async () => {
  const e = await rejected(conn.sh('head -c 104857600 /dev/zero'));
  assert.instance(e, CommandLimitError);
  assert.match(e.message, /command on localhost printed more than 64 MiB on stdout; it was killed/);
  assert.equal(await conn.sh('echo still here'), { rc: 0, stdout: 'still here\n', stderr: '' });
});

test('endless output (yes) hits the cap instead of hanging; endless stderr too', async () => {
  const tag = `rplay-${randomBytes(4).toString('hex')}`;
  const t = Date.now();
  assert.match((await rejected(conn.sh(`yes ${tag}`, [], { maxOutputBytes: 4 << 20 }))).message, /more than 4 MiB on stdout/);
  assert.match((await rejected(conn.sh(`yes ${tag} >&2`, [], { maxOutputBytes: 4 << 20 }))).message, /more than 4 MiB on stderr/);
  assert.ok(Date.now() - t < 20_000);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(processes('yes', tag), []);
  assert.is((await conn.sh('echo ok')).stdout, 'ok\n');
});

test("a hung command with the task's timeout: 1 fails naming it, is gone from the process list, the next command works", async () => {
  const tag = `86${randomBytes(3).readUIntBE(0, 3)}`;
  const t = Date.now();
  const e = await rejected(withTimeout(conn, 1).sh(`sleep ${tag}; echo never`));
  assert.ok(Date.now() - t < 5000, `took ${Date.now() - t} ms`);
  assert.match(e.message, /command on localhost timed out after 1 s \(the task's timeout:\); it was killed with its process group/);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(processes('sleep', tag), []);
  assert.equal(await conn.sh('echo next'), { rc: 0, stdout: 'next\n', stderr: '' });
});

test('a timeout also kills what the command started in the background', async () => {
  const tag = `87${randomBytes(3).readUIntBE(0, 3)}`;
  await rejected(conn.sh(`sleep ${tag} & sleep ${tag}`, [], { timeoutMs: 300 }));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(processes('sleep', tag), []);
});

test("a background writer does not reach the next command's output", async () => {
  assert.equal(await conn.sh('(sleep 0.3; echo LEAK; echo LEAK >&2) & echo started'), { rc: 0, stdout: 'started\n', stderr: '' });
  const next = await conn.sh('sleep 0.6; echo clean');
  assert.equal(next, { rc: 0, stdout: 'clean\n', stderr: '' });
  // A double fork leaves the command's subshell but not its process group.
  await conn.sh('( (sleep 0.3; echo LEAK2) & ) ; :');
  assert.equal((await conn.sh('sleep 0.6; echo clean')).stdout, 'clean\n');
});

test('nohup with its output elsewhere keeps running after its command (the usual idiom)', async () => {
  const tag = `88${randomBytes(3).readUIntBE(0, 3)}`;
  // The pause lets nohup start before the hang-up, as it needs under a terminal too.
  await conn.sh(`nohup sleep ${tag} > /dev/null 2>&1 & sleep 0.2`);
  await conn.sh('true');
  const alive = processes('sleep', tag);
  assert.is(alive.length, 1);
  process.kill(alive[0]!, 'SIGKILL');
});

test('output that looks like the framing, lone newlines, NUL and invalid UTF-8 come back as printed', async () => {
  const r = await conn.sh(`printf '__RPLAY_\\n__RPLAY_0:0\\n\\n\\n%s\\n' "$1"; printf '\\n__RPLAY_x:E\\n' >&2; printf 'a\\000b\\377c'; exit 7`, ['__RPLAY_deadbeef:S']);
  assert.is(r.rc, 7);
  assert.is(r.stdout, '__RPLAY_\n__RPLAY_0:0\n\n\n__RPLAY_deadbeef:S\na\0b\ufffdc');
  assert.is(r.stderr, '\n__RPLAY_x:E\n');
  const nl = await conn.sh("printf '\\n\\n'");
  assert.is(nl.stdout, '\n\n');
  assert.equal(await conn.sh('exit 0'), { rc: 0, stdout: '', stderr: '' });
});

test('over 16 MiB of output (multi-byte characters across every chunk boundary) is returned byte-exact, in linear time', async () => {
  const chars = ['a', '\n', 'é', '€', '𝄞', ' '];
  const pick = randomBytes(8 << 20);
  const want = Buffer.from(Array.from(pick, (b) => chars[b % chars.length]).join(''));
  const file = join(mkdtempSync(join(tmpdir(), 'rplay-16m-')), 'out');
  writeFileSync(file, want);
  const t = Date.now();
  const r = await conn.sh('cat "$1"', [file]);
  const ms = Date.now() - t;
  assert.ok(Buffer.from(r.stdout, 'utf8').equals(want), 'the output differs from the file');
  assert.ok(ms < 5000, `16 MiB took ${ms} ms`);
});

test('stdin reaches the command byte-exact; exit and cd in a command do not disturb the session', async () => {
  const data = randomBytes(200_000);
  const r = await conn.sh('sha256sum | cut -c1-64', [], { stdin: data });
  assert.is(r.stdout.trim(), createHash('sha256').update(data).digest('hex'));
  await conn.sh('cd /tmp; exit 3');
  assert.is((await conn.sh('pwd')).stdout, '/\n');
});

test('an environment variable name that is not a name is refused (it would be shell code)', async () => {
  const e = await rejected(conn.sh('true', [], { env: { 'A=1; touch /tmp/rplay-env-pwned; B': 'x' } }));
  assert.match(e.message, /environment variable name .* is not a valid name/);
  assert.not.ok(existsSync('/tmp/rplay-env-pwned'));
  assert.is((await conn.sh('echo "$X"', [], { env: { X: "it's $HOME" } })).stdout, "it's $HOME\n");
});

test('become: whoami prints the become user; a user name with shell metacharacters is refused by sudo as a name', async () => {
  assert.is((await conn.sh('whoami', [], { become: true, becomeUser: 'nobody' })).stdout, 'nobody\n');
  rmSync('/tmp/pwned', { force: true });
  const e = await rejected(conn.sh('whoami', [], { become: true, becomeUser: 'a;touch /tmp/pwned' }));
  assert.match(e.message, /become failed on localhost: .*a;touch \/tmp\/pwned/);
  assert.not.ok(existsSync('/tmp/pwned'));
});

test.run();
