// A Redis backup folder on the controller: SHA256SUMS written and read (the `sha256sum -c` format),
// verification of a backup as files on disk (tampered, missing, extra, absent; a wrong key, a
// flipped byte or an edited backup.json behind rewritten sums; a symlink; host values that would
// lead a restore astray), the encrypted files holding no plaintext, which files a
// restore puts back (AOF as saved, or the RDB as the AOF's base), and nodes.conf moved to new
// addresses for a cluster restored on other machines.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { movesKey } from '../../../modules/redis-readdress.js';
import { markerLine, restoreLayout } from '../../../modules/redis-restore.js';
import { backupKey, checkBackupKey, EncryptedWriter, fileAad, newEncryption } from '../../../modules/redis/backup-crypto.js';
import { BackupError, checkMeta, formatSums, parseSums, verifyBackup, type BackupMeta } from '../../../modules/redis/backup-manifest.js';
import { backupsToPrune, nodeBackups } from '../../../modules/redis/backup-retention.js';
import { addressMoves, readdressNodesConf } from '../../../modules/redis/nodes-conf.js';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

const meta: BackupMeta = {
  label: 't1', host: 'node-2', address: '10.0.2.7', port: 6379, saved_at: '2024-06-30T02:00:00.000Z', redis_version: '7.0.15', role: 'master', node_id: 'a'.repeat(40),
  dir: '/var/lib/redis/6379', dbfilename: 'dump.rdb', appendonly: true, appenddirname: 'appendonlydir', appendfilename: 'appendonly.aof', keys: 3,
  encryption: newEncryption(),
};
const KEY = 'unit-test-backup-key-0123456789abcdef';

/** SHA256SUMS for the files of dir as they are now (what someone covering a change would write). */
function resum(dir: string, paths: string[]): void {
  writeFileSync(join(dir, 'SHA256SUMS'), formatSums(paths.map((path) => ({ path, sha256: createHash('sha256').update(readFileSync(join(dir, path))).digest('hex') }))));
}

/** A backup folder as redis_backup writes it: the data files encrypted, backup.json in clear. */
async function writeBackup(files: Record<string, string>, m: BackupMeta = meta): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'rplay-backup-unit-'));
  const metaText = JSON.stringify(m);
  const key = backupKey(KEY, m.encryption);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    const w = await EncryptedWriter.create(join(dir, path), key, fileAad(metaText, path));
    await w.write(Buffer.from(text));
    await w.end();
  }
  writeFileSync(join(dir, 'backup.json'), metaText);
  resum(dir, [...Object.keys(files), 'backup.json']);
  return dir;
}

const FILES = {
  'dump.rdb': 'REDIS0010 rdb bytes',
  'appendonlydir/appendonly.aof.1.base.rdb': 'REDIS0010 base',
  'appendonlydir/appendonly.aof.1.incr.aof': '*3\r\n$3\r\nSET\r\n',
  'appendonlydir/appendonly.aof.manifest': 'file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n',
};

test('SHA256SUMS is sorted, in sha256sum\'s own format, and reads back', () => {
  const text = formatSums([{ path: 'z', sha256: sha('z') }, { path: 'appendonlydir/a', sha256: sha('a') }]);
  assert.is(text, `${sha('a')}  appendonlydir/a\n${sha('z')}  z\n`);
  assert.equal(parseSums(text), [{ sha256: sha('a'), path: 'appendonlydir/a' }, { sha256: sha('z'), path: 'z' }]);
  assert.equal(parseSums(`${sha('x')} *x\n`), [{ sha256: sha('x'), path: 'x' }]);
});

test('SHA256SUMS naming a path outside the folder, or garbled, is refused', () => {
  assert.throws(() => parseSums(`${sha('x')}  ../etc/passwd\n`), /names a path outside the backup: \.\.\/etc\/passwd/);
  assert.throws(() => parseSums(`${sha('x')}  /etc/passwd\n`), /outside the backup/);
  assert.throws(() => parseSums('deadbeef  x\n'), /line 1 is not "<sha256>  <file>"/);
  assert.throws(() => parseSums('\n'), /lists no file/);
});

test('a backup as written verifies, and sha256sum -c agrees', async () => {
  const dir = await writeBackup(FILES);
  try {
    const b = await verifyBackup(dir, KEY);
    assert.is(b.meta.port, 6379);
    assert.is(b.files.length, 5);
    assert.is(b.sizes['dump.rdb'], FILES['dump.rdb'].length + 36);
    for (const [path, text] of Object.entries(FILES)) {
      const stored = readFileSync(join(dir, path));
      assert.not.ok(stored.includes('REDIS'), `${path} holds no RDB magic`);
      assert.not.ok(stored.includes(text.slice(0, 12)), `${path} holds no plaintext`);
    }
    assert.match(execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: dir, encoding: 'utf8' }), /appendonlydir\/appendonly\.aof\.manifest: OK/);
    assert.is(markerLine('t1', b), `t1 ${b.id}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a changed, missing or extra file, or no SHA256SUMS: each said plainly', async () => {
  const cases: [string, (dir: string) => void, RegExp][] = [
    ['changed', (d) => writeFileSync(join(d, 'dump.rdb'), 'REDIS0010 rdb bytez'), /checksum mismatch for dump\.rdb \(SHA256SUMS says [0-9a-f]{12}…, the file is [0-9a-f]{12}…\)/],
    ['missing', (d) => rmSync(join(d, 'appendonlydir/appendonly.aof.1.incr.aof')), /is missing appendonlydir\/appendonly\.aof\.1\.incr\.aof, which SHA256SUMS lists/],
    ['extra', (d) => writeFileSync(join(d, 'appendonlydir/extra.aof'), 'x'), /has file\(s\) SHA256SUMS does not list: appendonlydir\/extra\.aof/],
    ['absent', (d) => rmSync(join(d, 'SHA256SUMS')), /^no backup at .* \(no SHA256SUMS\)$/],
    ['flipped, sums rewritten', (d) => {
      const p = join(d, 'appendonlydir/appendonly.aof.manifest');
      const b = readFileSync(p);
      b[30] ^= 1;
      writeFileSync(p, b);
      resum(d, [...Object.keys(FILES), 'backup.json']);
    }, /appendonlydir\/appendonly\.aof\.manifest fails its authentication tag: wrong vault_backup_key, or the file or backup.json was changed/],
    ['backup.json edited, sums rewritten', (d) => {
      writeFileSync(join(d, 'backup.json'), JSON.stringify({ ...meta, dir: '/etc' }));
      resum(d, [...Object.keys(FILES), 'backup.json']);
    }, /fails its authentication tag/],
    ['a symlink in place of a file', (d) => {
      rmSync(join(d, 'dump.rdb'));
      symlinkSync('/etc/passwd', join(d, 'dump.rdb'));
    }, /dump\.rdb is a symlink: a backup holds only files, refused/],
    ['SHA256SUMS a symlink', (d) => {
      rmSync(join(d, 'SHA256SUMS'));
      symlinkSync('/etc/hostname', join(d, 'SHA256SUMS'));
    }, /SHA256SUMS: it is a symlink/],
    ['not encrypted', (d) => {
      writeFileSync(join(d, 'backup.json'), JSON.stringify({ ...meta, encryption: undefined }));
      resum(d, [...Object.keys(FILES), 'backup.json']);
    }, /not encrypted \(made by an rplay before backups were encrypted\)/],
  ];
  for (const [what, damage, message] of cases) {
    const dir = await writeBackup(FILES);
    try {
      damage(dir);
      await verifyBackup(dir, KEY).then(
        () => assert.unreachable(`${what}: verified`),
        (e: Error) => {
          assert.instance(e, BackupError, what);
          assert.match(e.message, message, what);
        },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('another key does not open a backup, and the message never holds a key', async () => {
  const dir = await writeBackup(FILES);
  const other = 'another-backup-key-that-is-long-enough-0000';
  try {
    const e = (await verifyBackup(dir, other).then(() => assert.unreachable('verified'), (x: Error) => x)) as Error;
    assert.instance(e, BackupError);
    assert.match(e.message, /: (dump\.rdb|appendonlydir\/\S+) fails its authentication tag: wrong vault_backup_key/);
    assert.not.ok(e.message.includes(other) || e.message.includes(KEY));
    assert.not.ok(e.message.includes(backupKey(other, meta.encryption).toString('hex')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing or short vault_backup_key is refused naming the variable, not the value', () => {
  assert.throws(() => checkBackupKey(undefined), /no backup key: set vault_backup_key in the vault \(32\+ characters/);
  assert.throws(() => checkBackupKey(''), /no backup key: set vault_backup_key/);
  try {
    checkBackupKey('short-secret-value');
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).message, 'vault_backup_key is 18 characters; backups need 32 or more');
  }
  assert.is(checkBackupKey(KEY), KEY);
});

test('backup.json values a hostile host could have given are refused before a restore acts on them', () => {
  const cases: [Partial<BackupMeta>, RegExp][] = [
    [{ dir: '../../etc' }, /dir "\.\.\/\.\.\/etc" is not an absolute path of plain names/],
    [{ dir: '/var/lib/../../etc' }, /dir .* is not an absolute path/],
    [{ dir: '/var/lib/redis/' }, /dir .* is not an absolute path/],
    [{ dir: '/' }, /dir "\/" is not an absolute path/],
    [{ dir: '/var/lib\nredis' }, /dir "\/var\/lib\\nredis"/],
    [{ dbfilename: '../../../../etc/cron.d/x' }, /dbfilename .* is not one plain file name/],
    [{ dbfilename: '/etc/cron.d/x' }, /dbfilename .* is not one plain file name/],
    [{ dbfilename: 'a/b' }, /dbfilename "a\/b"/],
    [{ appenddirname: '..' }, /appenddirname "\.\." is not one plain file name/],
    [{ appenddirname: '.' }, /appenddirname "\."/],
    [{ appendfilename: '' }, /appendfilename "" is not one plain file name/],
    [{ dbfilename: 'x'.repeat(10_000) }, /dbfilename "x{80}…" is not one plain file name/],
    [{ dbfilename: 'a\0b' }, /dbfilename "a\\u0000b"/],
    [{ appenddirname: 'dump.rdb' }, /dbfilename and appenddirname are both "dump\.rdb"/],
    [{ port: 70000 }, /port "70000" is not a port/],
    [{ keys: -1 }, /keys "-1" is not a count/],
    [{ node_id: 'x' }, /node_id "x"/],
  ];
  for (const [change, message] of cases) assert.throws(() => checkMeta({ ...meta, ...change }, 'backup.json'), message, JSON.stringify(change).slice(0, 60));
  assert.equal(checkMeta(meta, 'backup.json'), meta);
});

test('a restore puts the AOF folder back as saved, or the RDB as the AOF\'s base', async () => {
  const dir = await writeBackup(FILES);
  try {
    const b = await verifyBackup(dir, KEY);
    const aof = restoreLayout(b, undefined);
    assert.is(aof.mode, 'aof');
    assert.equal(aof.copies.map(([s, d]) => `${s} → ${d}`), [
      'dump.rdb → dump.rdb',
      'appendonlydir/appendonly.aof.1.base.rdb → appendonlydir/appendonly.aof.1.base.rdb',
      'appendonlydir/appendonly.aof.1.incr.aof → appendonlydir/appendonly.aof.1.incr.aof',
      'appendonlydir/appendonly.aof.manifest → appendonlydir/appendonly.aof.manifest',
    ]);
    assert.is(aof.manifest, null);
    const rdb = restoreLayout(b, 'rdb');
    assert.equal(rdb.copies, [['dump.rdb', 'dump.rdb'], ['dump.rdb', 'appendonlydir/appendonly.aof.1.base.rdb']]);
    assert.equal(rdb.manifest, { path: 'appendonlydir/appendonly.aof.manifest', text: 'file appendonly.aof.1.base.rdb seq 1 type b\n' });
    assert.equal(restoreLayout({ ...b, meta: { ...b.meta, appendonly: false } }, 'rdb'), { mode: 'rdb', copies: [['dump.rdb', 'dump.rdb']], manifest: null });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const rdbOnly = await writeBackup({ 'dump.rdb': 'REDIS0010' });
  try {
    const b = await verifyBackup(rdbOnly, KEY);
    assert.is(restoreLayout(b, undefined).mode, 'rdb');
    assert.throws(() => restoreLayout(b, 'aof'), /the backup has no AOF folder \(appendonlydir\/ with a manifest\): restore from the RDB/);
  } finally {
    rmSync(rdbOnly, { recursive: true, force: true });
  }
});

const NODES_CONF = `${'a'.repeat(40)} 10.0.1.5:6379@16379,,tls-port=0,shard-id=x myself,master - 0 0 1 connected 0-5460
${'b'.repeat(40)} 10.0.2.6:6379@16379,,tls-port=0,shard-id=y master - 0 1719000000000 2 connected 5461-10922
${'c'.repeat(40)} 10.0.1.50:6380@16380,,tls-port=0,shard-id=x slave ${'a'.repeat(40)} 0 1719000000000 1 connected
vars currentEpoch 3 lastVoteEpoch 0
`;

test('nodes.conf moves to the new addresses: node ids, ports, flags and slots stay', () => {
  const moves = addressMoves([
    { host: 'n1', from: '10.0.1.5', to: '10.1.1.9' },
    { host: 'n2', from: '10.0.2.6', to: '10.0.1.5' },
    { host: 'n3', from: '10.0.1.50', to: '10.0.1.50' },
    { host: 'n4', from: '', to: '10.1.3.3' },
  ]);
  assert.equal([...moves], [['10.0.1.5', '10.1.1.9'], ['10.0.2.6', '10.0.1.5']]);
  const out = readdressNodesConf(NODES_CONF, moves);
  // Moves apply at once: 10.0.2.6 → 10.0.1.5 is not moved again to 10.1.1.9.
  assert.is(out, NODES_CONF.replace('10.0.1.5:6379', '10.1.1.9:6379').replace('10.0.2.6:6379', '10.0.1.5:6379'));
  // Applied twice, an address that is both new and old would move again: redis_readdress keeps a
  // marker of the moves it applied for that reason.
  assert.is.not(readdressNodesConf(out, moves), out);
  assert.is(movesKey(moves), movesKey(new Map([...moves].reverse())));
});

test('two nodes moving to one address, or one to two, is refused', () => {
  assert.throws(() => addressMoves([{ host: 'a', from: '1.1.1.1', to: '2.2.2.2' }, { host: 'b', from: '3.3.3.3', to: '2.2.2.2' }]), /both 1\.1\.1\.1 and 3\.3\.3\.3 would move to 2\.2\.2\.2/);
  assert.throws(() => addressMoves([{ host: 'a', from: '1.1.1.1', to: '2.2.2.2' }, { host: 'b', from: '1.1.1.1', to: '4.4.4.4' }]), /1\.1\.1\.1 would move to both/);
});

test('retention keeps a node\'s newest backups, the one being made counted, and only rplay backups', async () => {
  const root = mkdtempSync(join(tmpdir(), 'rplay-retention-'));
  try {
    const make = (label: string, savedAt: string, host = 'node-2', sums = true): void => {
      const dir = join(root, label, host, '6379');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'backup.json'), JSON.stringify({ ...meta, label, saved_at: savedAt }));
      if (sums) writeFileSync(join(dir, 'SHA256SUMS'), '');
    };
    make('d1', '2024-06-01T00:00:00Z');
    make('d2', '2024-06-02T00:00:00Z');
    make('d3', '2024-06-03T00:00:00Z');
    make('d3', '2024-06-03T00:00:00Z', 'node-1');
    make('half', '2024-05-01T00:00:00Z', 'node-2', false);
    mkdirSync(join(root, 'notes', 'node-2'), { recursive: true });
    const found = await nodeBackups(root, 'node-2');
    assert.equal(found.map((b) => b.label).sort(), ['d1', 'd2', 'd3']);
    assert.equal(backupsToPrune(found, 2, 'd4').map((b) => b.label), ['d2', 'd1']);
    assert.equal(backupsToPrune(found, 2, 'd3').map((b) => b.label), ['d1']);
    assert.equal(backupsToPrune(found, 30, 'd4'), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
