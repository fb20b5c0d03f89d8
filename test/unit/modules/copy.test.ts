import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { ModuleError } from '../../../runner/types.js';
import { copy } from '../../../modules/copy.js';
import { sha256, type DestState, type WantedFile, type WriteOp } from '../../../modules/files/file-content.js';
import type { PresentPath } from '../../../modules/files/file-attrs.js';
import { overTheWire } from '../../support/converge.js';

const file = (mode: string, owner = 'root'): PresentPath => ({ type: 'file', mode, owner, group: owner, uid: 0, gid: 0 });
const want = (content: string, extra: Partial<WantedFile> = {}): WantedFile => ({ dest: '/etc/app.conf', content: Buffer.from(content), ...extra });
const plan = (w: WantedFile, dest: DestState) => copy.plan({ dest: w.dest, content: w.content.toString() }, { want: w, dest });

test('same content, mode differs: one change "mode 0644 → 0600", no diff', () => {
  const p = plan(want('a\n', { mode: '0600' }), { state: file('0644'), sameContent: true });
  assert.equal(p.changes, [{ description: 'mode 0644 → 0600 on /etc/app.conf', op: { kind: 'attrs', path: '/etc/app.conf', mode: '0600' } }]);
});

test('different content: a change with the diff before/after', () => {
  const p = plan(want('port 2\n'), { state: file('0644'), sameContent: false, before: 'port 1\n' });
  const bytes = Buffer.from('port 2\n');
  assert.equal(p.changes, [
    {
      description: 'content of /etc/app.conf differs',
      diff: { path: '/etc/app.conf', before: 'port 1\n', after: 'port 2\n' },
      op: { kind: 'write', path: '/etc/app.conf', data: bytes, sha256: sha256(bytes) },
    },
  ]);
});

test('content and owner both differ: two changes', () => {
  const p = plan(want('x', { owner: 'redis' }), { state: file('0644'), sameContent: false, before: 'y' });
  assert.equal(p.changes.map((c) => c.description), ['content of /etc/app.conf differs', 'owner root → redis on /etc/app.conf']);
});

test('everything as wanted: no change, a short reason', () => {
  const p = plan(want('x', { mode: '0644', owner: 'root' }), { state: file('0644'), sameContent: true });
  assert.equal(p.changes, []);
  assert.is(p.msg, '/etc/app.conf as wanted');
});

test('a new file: one "create" change naming the attributes, diff from empty', () => {
  const p = plan(want('hello\n', { mode: '0640', owner: 'redis' }), { state: { type: 'absent' }, sameContent: false });
  assert.equal(p.changes, [
    {
      description: 'create /etc/app.conf (mode 0640, owner redis)',
      diff: { path: '/etc/app.conf', before: '', after: 'hello\n' },
      op: { kind: 'write', path: '/etc/app.conf', data: Buffer.from('hello\n'), sha256: sha256(Buffer.from('hello\n')), mode: '0640', owner: 'redis' },
    },
  ]);
});

test('binary content or a large old file: the change says so and carries no diff', () => {
  const bin = plan(want('\u0000\u0001'), { state: file('0644'), sameContent: false, before: 'text' });
  assert.equal(bin.changes.map((c) => [c.description, c.diff]), [['content of /etc/app.conf differs (binary or large: no diff)', undefined]]);
  const large = plan(want('x'), { state: file('0644'), sameContent: false, undiffable: true });
  assert.equal(large.changes.map((c) => [c.description, c.diff]), [['content of /etc/app.conf differs (binary or large: no diff)', undefined]]);
});

test('a symlink at dest is replaced; a directory there is an error', () => {
  const link: PresentPath = { ...file('0777'), type: 'link', linkTarget: '/elsewhere' };
  assert.is(plan(want('x'), { state: link, sameContent: false }).changes[0].description, 'replace symlink /etc/app.conf (→ /elsewhere) with a file');
  const dir: PresentPath = { ...file('0755'), type: 'directory' };
  assert.throws(() => plan(want('x'), { state: dir, sameContent: false }), (e: unknown) => e instanceof ModuleError && /is a directory/.test(e.message));
});

test('content and owner differ: the write carries the bytes and attributes, then the chown re-sets the wanted mode', () => {
  const p = plan(want('new\n', { owner: 'redis', mode: '04750' }), { state: file('4750'), sameContent: false, before: 'old\n' });
  assert.equal(
    p.changes.map((c) => c.op),
    [
      { kind: 'write', path: '/etc/app.conf', data: Buffer.from('new\n'), sha256: sha256(Buffer.from('new\n')), mode: '04750', owner: 'redis' },
      { kind: 'attrs', path: '/etc/app.conf', owner: 'redis', mode: '04750' },
    ],
  );
  assert.equal(p.result, { dest: '/etc/app.conf', checksum: sha256(Buffer.from('new\n')) });
});

test('backup: asked for, the write of an existing file says so; a new file has nothing to back up', () => {
  const over = plan(want('b', { backup: true }), { state: file('0644'), sameContent: false, before: 'a' });
  assert.is((over.changes[0].op as { backup?: boolean }).backup, true);
  const created = plan(want('b', { backup: true }), { state: { type: 'absent' }, sameContent: false });
  assert.is('backup' in (created.changes[0].op as object), false);
});

test('a controller file (copy src:) is named in the op by path, size and sha256, its bytes not held', () => {
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const digest = createHash('sha256').update(bytes).digest('hex');
  const w: WantedFile = { dest: '/srv/blob.bin', content: bytes, from: '/project/files/blob.bin' };
  const p = copy.plan({ dest: '/srv/', src: 'blob.bin' }, { want: w, dest: { state: { type: 'absent' }, sameContent: false } });
  const op = { kind: 'write', path: '/srv/blob.bin', data: { path: '/project/files/blob.bin', size: 256, sha256: digest }, sha256: digest };
  assert.equal(p.changes.map((c) => c.op), [op]);
  // Serialised and back, the op is the same data and names no bytes.
  assert.equal(overTheWire(p.changes.map((c) => c.op!)), [op]);
});

test('inline bytes survive encoding exactly (every byte value)', () => {
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i));
  const p = copy.plan({ dest: '/x', content: '' }, { want: { dest: '/x', content: bytes }, dest: { state: { type: 'absent' }, sameContent: false } });
  const [op] = overTheWire(p.changes.map((c) => c.op!)) as WriteOp[];
  assert.ok(Buffer.isBuffer(op.data) && op.data.equals(bytes));
});

test.run();
