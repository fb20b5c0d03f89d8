// redis_backup and redis_restore against a hostile host: a fake connection that answers the staging
// script with traversal paths, absolute paths, nested or huge names, lying sizes and sums, a forged
// staging folder, oversized or non-base64 blocks; a Redis whose CONFIG GET names `..` paths; symlinks
// planted in the backup folder on the controller; a restore host naming a forged staging folder or
// answering wrong sums. Each must fail the host's task with a clear
// message and leave the controller's files byte for byte as they were. A backup the fake host
// serves honestly is stored encrypted (no RDB magic, no value), 0700/0600 throughout, and reads back.
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { describeInstance, redisBackup, storeBackup } from '../../../modules/redis-backup.js';
import { redisRestore } from '../../../modules/redis-restore.js';
import type { Connection, ExecResult } from '../../../runner/connection/connection.js';
import { withBecome } from '../../../runner/connection/become.js';
import { backupKey, decryptChunks, fileAad, newEncryption } from '../../../modules/redis/backup-crypto.js';
import { verifyBackup, type BackupMeta } from '../../../modules/redis/backup-manifest.js';
import { CHUNK } from '../../../modules/redis/file-transfer.js';
import { ModuleError, type ModuleContext } from '../../../runner/types.js';
import { snapshot } from '../../support/host-snapshot.js';
import { apply } from '../../support/converge.js';

const test = suite('redis_backup and redis_restore with a hostile host');
const KEY = 'hostile-host-test-key-0123456789abcdef';
const STAGE = '/tmp/rplay-backup.Ab3dE6gH9j';
const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const RDB = Buffer.concat([Buffer.from('REDIS0011'), Buffer.from('patient:12345 secret-diagnosis '.repeat(100))]);
const AOF = Buffer.from('*3\r\n$3\r\nSET\r\n$13\r\npatient:12345\r\n$16\r\nsecret-diagnosis\r\n');
const MANIFEST = Buffer.from('file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n');

const meta = (): BackupMeta => ({
  label: 't1', host: 'node-1', address: '127.0.0.1', port: 6379, saved_at: '2026-12-03T00:00:00.000Z', redis_version: '7.0.15', role: 'master', node_id: null,
  dir: '/var/lib/redis/6379', dbfilename: 'dump.rdb', appendonly: true, appenddirname: 'appendonlydir', appendfilename: 'appendonly.aof', keys: 1,
  encryption: newEncryption(),
});

interface Host {
  /** The staging script's stdout. */
  listing: string;
  /** What `dd` serves per staged path (the base64 answer can be overridden). */
  files: Record<string, Buffer>;
  block?: (path: string, block: number) => string;
}

/** A connection whose every answer comes from `host`; it records each script it was sent. */
function fakeConn(host: Host, calls: string[][] = []): Connection {
  const ok = (stdout: string): ExecResult => ({ rc: 0, stdout, stderr: '' });
  return {
    host: 'node-1',
    async sh(script: string, args: readonly string[] = []) {
      calls.push([script.split('\n')[0] ?? '', ...args]);
      if (script.includes('mktemp -d /tmp/rplay-backup.')) return ok(host.listing);
      if (script.startsWith('dd if=')) {
        const path = (args[0] ?? '').slice(STAGE.length + 1);
        const block = Number(args[1]);
        if (host.block) return ok(host.block(path, block));
        return ok((host.files[path] ?? Buffer.alloc(0)).subarray(block * CHUNK, (block + 1) * CHUNK).toString('base64'));
      }
      return ok('');
    },
    run: async () => ok(''),
    writeFile: async () => {},
    readFile: async () => {
      throw new Error('redis_backup/redis_restore read a file whole');
    },
    forwardOut: async () => {
      throw new Error('no Redis here');
    },
    close: async () => {},
  } as Connection;
}

const ctxFor = (conn: Connection, projectDir: string): ModuleContext =>
  ({ host: 'node-1', conn: withBecome(conn, { become: true, becomeUser: 'root' }), vars: {}, projectDir, evaluate: () => undefined }) as unknown as ModuleContext;

const line = (path: string, data: Buffer, size = data.length, sum = sha(data)): string => `${size} ${sum} ${path}`;
const honest = (): Host => ({
  listing: [STAGE, line('appendonlydir/appendonly.aof.1.base.rdb', RDB), line('appendonlydir/appendonly.aof.1.incr.aof', AOF), line('appendonlydir/appendonly.aof.manifest', MANIFEST), line('dump.rdb', RDB)].join('\n') + '\n',
  files: { 'dump.rdb': RDB, 'appendonlydir/appendonly.aof.1.base.rdb': RDB, 'appendonlydir/appendonly.aof.1.incr.aof': AOF, 'appendonlydir/appendonly.aof.manifest': MANIFEST },
});

let sandbox: string;
let backups: string;
test.before.each(() => {
  // sandbox/project/backups is the folder the user named; sandbox/tmp, sandbox/etc are where `..` leads.
  sandbox = mkdtempSync(join(tmpdir(), 'rplay-hostile-'));
  backups = join(sandbox, 'project', 'backups');
  for (const d of ['project/backups/t0/node-1', 'tmp', 'etc/cron.d']) mkdirSync(join(sandbox, d), { recursive: true });
  writeFileSync(join(sandbox, 'project', 'backups', 't0', 'node-1', 'note'), 'kept');
});
test.after.each(() => rmSync(sandbox, { recursive: true, force: true }));

async function refused(p: Promise<unknown>, message: RegExp, what: string): Promise<ModuleError> {
  const e = await p.then(() => assert.unreachable(`${what}: accepted`), (x: unknown) => x);
  assert.instance(e, ModuleError, `${what}: ${String(e)}`);
  assert.match((e as Error).message, message, what);
  assert.not.ok((e as Error).message.includes(KEY), `${what}: the key in the message`);
  return e as ModuleError;
}

test('a listing naming a path outside the backup, a nested, empty or huge name, or lying sizes: refused, nothing written', async () => {
  const good = honest();
  const evil = Buffer.from('* * * * * root touch /tmp/pwned\n');
  const withLine = (l: string, files: Record<string, Buffer> = {}): Host => ({ listing: `${STAGE}\n${l}\n${line('dump.rdb', RDB)}\n`, files: { ...good.files, ...files } });
  const long = 'x'.repeat(10_000);
  const cases: [string, Host, RegExp][] = [
    ['../../../../tmp/x', withLine(line('../../../../tmp/x', evil), { '../../../../tmp/x': evil }), /the host listed "\.\.\/\.\.\/\.\.\/\.\.\/tmp\/x", which is neither dump\.rdb nor a plain file name in appendonlydir\/: refused, nothing written/],
    ['appendonlydir/../../x', withLine(line('appendonlydir/../../x', evil)), /the host listed "appendonlydir\/\.\.\/\.\.\/x"/],
    ['/etc/cron.d/x', withLine(line('/etc/cron.d/x', evil)), /the host listed "\/etc\/cron\.d\/x"/],
    ['a/b', withLine(line('a/b', evil)), /the host listed "a\/b"/],
    ['appendonlydir/a/b', withLine(line('appendonlydir/a/b', evil)), /the host listed "appendonlydir\/a\/b"/],
    ['..', withLine(line('..', evil)), /the host listed "\.\."/],
    ['appendonlydir/..', withLine(line('appendonlydir/..', evil)), /the host listed "appendonlydir\/\.\."/],
    ['a 10,000-character name', withLine(line(`appendonlydir/${long}`, evil)), /the host's listing has a line of 10082 characters \(at most 2048\): refused/],
    ['a 300-character name', withLine(line(`appendonlydir/${'y'.repeat(300)}`, evil)), /the host listed "appendonlydir\/y+…", which is neither/],
    ['a name with a backslash', withLine(line('appendonlydir/a\\b', evil)), /the host listed "appendonlydir\/a\\\\b"/],
    ['the same file twice', { listing: `${STAGE}\n${line('dump.rdb', RDB)}\n${line('dump.rdb', RDB)}\n`, files: good.files }, /the host listed "dump\.rdb" twice/],
    ['no RDB', { listing: `${STAGE}\n${line('appendonlydir/appendonly.aof.manifest', MANIFEST)}\n`, files: good.files }, /the host's copy has no dump\.rdb/],
    ['a size beyond any RDB', withLine(line('appendonlydir/big', evil, 99_999_999_999_999)), /the host says appendonlydir\/big has 99999999999999 bytes \(at most \d+\): refused/],
    ['a size too long to be a number', withLine(`${'9'.repeat(40)} ${sha(evil)} appendonlydir/big`), /unexpected listing line/],
    ['a forged staging folder', { ...good, listing: good.listing.replace(STAGE, '/var/lib/redis/../../etc') }, /the host named its staging folder "\/var\/lib\/redis\/\.\.\/\.\.\/etc", not \/tmp\/rplay-backup\.XXXXXXXXXX: refused/],
    ['more bytes than listed', { ...good, listing: `${STAGE}\n${line('dump.rdb', RDB, 10)}\n` }, /dump\.rdb on node-1: more than the 10 bytes the host listed/],
    ['fewer bytes than listed', { ...good, listing: `${STAGE}\n${line('dump.rdb', RDB, RDB.length + 5)}\n` }, /got \d+ of \d+ bytes/],
    ['data not matching its checksum', { ...good, listing: `${STAGE}\n${line('dump.rdb', RDB, RDB.length, sha('other'))}\n` }, /dump\.rdb of 6379 arrived with sha256 [0-9a-f]{64}, not the host's [0-9a-f]{64}: nothing written/],
    ['an oversized block', { ...good, block: () => Buffer.alloc(CHUNK + 10).toString('base64') }, /block 0 is not at most 1048576 bytes of base64/],
    ['a block that is not base64', { ...good, block: () => '$(rm -rf /)' }, /block 0 is not at most 1048576 bytes of base64/],
  ];
  const before = snapshot(sandbox);
  for (const [what, host, message] of cases) {
    const calls: string[][] = [];
    await refused(storeBackup(ctxFor(fakeConn(host, calls), join(sandbox, 'project')), backups, meta(), host.listing, KEY), message, what);
    assert.equal(snapshot(sandbox), before, `${what}: the controller's files changed`);
    for (const p of ['/tmp/x', '/etc/cron.d/x', join(sandbox, 'tmp', 'x'), join(sandbox, 'etc', 'cron.d', 'x')]) assert.not.ok(existsSync(p), `${what}: ${p} written`);
    // Only the one staging folder mktemp makes is ever cleaned up on the host.
    const cleanups = calls.filter((c) => (c[0] ?? '').startsWith('case $1'));
    assert.equal(cleanups.map((c) => c[1]), what === 'a forged staging folder' ? [] : [STAGE], what);
  }
});

test('a Redis whose CONFIG GET names a path outside its data, or a nested file name: refused before any save', async () => {
  const answers = (config: Record<string, string>) => ({
    async call(...args: unknown[]): Promise<unknown> {
      if (args[0] === 'CONFIG') return [args[2], config[args[2] as string] ?? ''];
      if (args[0] === 'INFO') return 'redis_version:7.0.15\r\n';
      if (args[0] === 'ROLE') return ['master'];
      if (args[0] === 'DBSIZE') return 3;
      throw new Error('no cluster');
    },
  });
  const base = { dir: '/var/lib/redis/6379', dbfilename: 'dump.rdb', appendonly: 'yes', appenddirname: 'appendonlydir', appendfilename: 'appendonly.aof' };
  const want = { address: '127.0.0.1', port: 6379, dir: join(backups, 't1', 'node-1', '6379') };
  const cases: [Record<string, string>, RegExp][] = [
    [{ dir: '../../../../etc' }, /dir "\.\.\/\.\.\/\.\.\/\.\.\/etc" is not an absolute path of plain names: refused, nothing written/],
    [{ dir: '/var/lib/redis/../../../etc' }, /dir .* is not an absolute path/],
    [{ dbfilename: '../../../../etc/cron.d/x' }, /dbfilename "\.\.\/\.\.\/\.\.\/\.\.\/etc\/cron\.d\/x" is not one plain file name/],
    [{ appenddirname: '..' }, /appenddirname "\.\." is not one plain file name/],
    [{ appendfilename: 'a/b' }, /appendfilename "a\/b"/],
    [{ dbfilename: 'x'.repeat(10_000) }, /dbfilename "x{80}…"/],
  ];
  for (const [change, message] of cases) await refused(describeInstance(answers({ ...base, ...change }), 'node-1', want, 't1'), message, JSON.stringify(change).slice(0, 60));
  const ok = await describeInstance(answers(base), 'node-1', want, 't1');
  assert.is(ok.dir, '/var/lib/redis/6379');
});

test('a symlink planted in the backup folder is never followed', async () => {
  const elsewhere = join(sandbox, 'elsewhere');
  mkdirSync(join(elsewhere, 'node-1', '6379'), { recursive: true });
  const before = snapshot(elsewhere);
  const plants: [string, string][] = [
    [join(backups, 't1'), elsewhere],
    [join(backups, 't1', 'node-1'), join(elsewhere, 'node-1')],
  ];
  for (const [link, target] of plants) {
    rmSync(join(backups, 't1'), { recursive: true, force: true });
    mkdirSync(join(link, '..'), { recursive: true });
    symlinkSync(target, link);
    const host = honest();
    const ctx = ctxFor(fakeConn(host), join(sandbox, 'project'));
    await refused(storeBackup(ctx, backups, meta(), host.listing, KEY), /is a symlink: refused, a backup folder is never reached through one/, link);
    await refused(
      redisBackup.gather(ctx, { instances: [{ address: '127.0.0.1', port: 6379 }], label: 't1', dest: backups, encryption_key: KEY, login_user: 'a', login_password: 'b', tls: { ca: 'a', cert: 'b', key: 'c' } }),
      /is a symlink: refused/,
      `${link}: gather`,
    );
    assert.equal(snapshot(elsewhere), before, link);
    assert.ok(lstatSync(link).isSymbolicLink());
  }
});

test('a backup is stored encrypted, 0700/0600 throughout, and decrypts to the host\'s bytes', async () => {
  const host = honest();
  const m = meta();
  const files = await storeBackup(ctxFor(fakeConn(host), join(sandbox, 'project')), backups, m, host.listing, KEY);
  assert.is(files, 4);
  const dir = join(backups, 't1', 'node-1', '6379');
  const tree = snapshot(join(backups, 't1'));
  for (const entry of tree) {
    const [, kind, mode] = entry.split(' ');
    assert.is(mode, kind === 'dir' ? '700' : '600', entry);
  }
  assert.is(tree.length, 9, tree.join('\n'));
  assert.is((lstatSync(join(backups, 't1')).mode & 0o777).toString(8), '700');
  for (const [path, plain] of Object.entries(host.files)) {
    const stored = readFileSync(join(dir, path));
    assert.not.ok(stored.includes('REDIS'), `${path}: RDB magic`);
    assert.not.ok(stored.includes('patient:12345') || stored.includes('secret-diagnosis'), `${path}: a key or value in clear`);
    const back: Buffer[] = [];
    for await (const c of decryptChunks(join(dir, path), backupKey(KEY, m.encryption), fileAad(readFileSync(join(dir, 'backup.json'), 'utf8'), path))) back.push(c);
    assert.ok(Buffer.concat(back).equals(plain), path);
  }
  assert.not.ok(readdirSync(join(backups, 't1', 'node-1')).some((n) => n.includes('partial')));
  const b = await verifyBackup(dir, KEY);
  assert.equal(b.meta, m);
});

test('restore with a wrong, short or missing key is refused before the host is asked anything', async () => {
  const host = honest();
  await storeBackup(ctxFor(fakeConn(host), join(sandbox, 'project')), backups, meta(), host.listing, KEY);
  const args = (key: string) => ({ instances: [{ port: 6379 }], label: 't1', src: backups, encryption_key: key });
  const cases: [string, RegExp][] = [
    ['another-key-that-is-quite-long-enough-00000', /refusing to restore node-1:6379: backup .*\/t1\/node-1\/6379: (dump\.rdb|appendonlydir\/\S+) fails its authentication tag: wrong vault_backup_key/],
    ['short', /vault_backup_key is 5 characters; backups need 32 or more; nothing was changed/],
    ['', /no backup key: set vault_backup_key in the vault/],
  ];
  for (const [key, message] of cases) {
    const calls: string[][] = [];
    await refused(redisRestore.gather(ctxFor(fakeConn(host, calls), join(sandbox, 'project')), args(key)), message, key);
    assert.equal(calls, [], `${key}: the host was contacted`);
  }
});

/** A host for redis_restore: a stopped instance; its staging folder and its sha256sum answers given. */
function restoreHost(stage: string, sums: (paths: readonly string[]) => string, calls: string[][]): Connection {
  const ok = (stdout: string): ExecResult => ({ rc: 0, stdout, stderr: '' });
  return {
    host: 'node-1',
    async sh(script: string, args: readonly string[] = []) {
      calls.push([script.split('\n')[0] ?? '', ...args]);
      if (script.includes('unit_state')) return ok('systemd\n6379 inactive \n');
      if (script.includes('mktemp -d /tmp/rplay-restore.')) return ok(`${stage}\n`);
      if (script.startsWith('sha256sum')) return ok(sums(args));
      return ok('');
    },
    run: async () => ok(''),
    writeFile: async () => {},
    readFile: async () => {
      throw new Error('redis_backup/redis_restore read a file whole');
    },
    forwardOut: async () => {
      throw new Error('no Redis here');
    },
    close: async () => {},
  } as Connection;
}

test('restore: a forged staging folder or a host whose copy does not match is refused before anything is swapped', async () => {
  const host = honest();
  await storeBackup(ctxFor(fakeConn(host), join(sandbox, 'project')), backups, meta(), host.listing, KEY);
  const args = { instances: [{ port: 6379 }], label: 't1', src: backups, encryption_key: KEY };
  const plainSums = (paths: readonly string[]): string => paths.map((p) => `${sha(host.files[p.replace(/^\/tmp\/rplay-restore\.[A-Za-z0-9]{10}\//, '')] ?? Buffer.alloc(0))}  ${p}`).join('\n');
  const cases: [string, string, (paths: readonly string[]) => string, RegExp][] = [
    ['a forged staging folder', '/var/lib/redis/6379/../../../etc', plainSums, /the host named its staging folder "\/var\/lib\/redis\/6379\/\.\.\/\.\.\/\.\.\/etc", not \/tmp\/rplay-restore\.XXXXXXXXXX: refused/],
    ['a staging folder that is a path list', '/tmp/rplay-restore.Ab3dE6gH9j /etc', plainSums, /the host named its staging folder/],
    ['a copy whose sum differs', '/tmp/rplay-restore.Ab3dE6gH9j', (paths) => paths.map((p) => `${sha('other')}  ${p}`).join('\n'), /has sha256 [0-9a-f]{64}, the backup's plaintext has [0-9a-f]{64}: transfer damaged, nothing was replaced/],
  ];
  for (const [what, stage, sums, message] of cases) {
    const calls: string[][] = [];
    const ctx = ctxFor(restoreHost(stage, sums, calls), join(sandbox, 'project'));
    await refused(apply(redisRestore, ctx, args), message, what);
    const sent = calls.map((c) => c[0] ?? '');
    assert.not.ok(calls.some((c) => c.some((a) => a.startsWith('replaced-'))), `${what}: the swap ran`);
    assert.not.ok(sent.some((c) => c.startsWith('systemctl') || c.includes('for a in')), `${what}: an instance was started`);
    if (what !== 'a copy whose sum differs') assert.not.ok(sent.some((c) => c.startsWith('cat >>') || c.startsWith(': >')), `${what}: a file was written to the forged folder`);
    else assert.equal(calls.filter((c) => (c[0] ?? '').startsWith('case $1')).map((c) => c[1]), [stage], 'the staging folder is removed');
  }
});

test.run();
