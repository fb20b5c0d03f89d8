import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ModuleError } from '../../../runner/types.js';
import { copy } from '../../../modules/copy.js';
import type { DestState, WantedFile } from '../../../modules/files/file-content.js';
import type { PresentPath } from '../../../modules/files/file-attrs.js';

const file = (mode: string, owner = 'root'): PresentPath => ({ type: 'file', mode, owner, group: owner, uid: 0, gid: 0 });
const want = (content: string, extra: Partial<WantedFile> = {}): WantedFile => ({ dest: '/etc/app.conf', content: Buffer.from(content), ...extra });
const plan = (w: WantedFile, dest: DestState) => copy.plan({ dest: w.dest, content: w.content.toString() }, { want: w, dest });

test('same content, mode differs: one change "mode 0644 → 0600", no diff', () => {
  const p = plan(want('a\n', { mode: '0600' }), { state: file('0644'), sameContent: true });
  assert.equal(p.changes, [{ description: 'mode 0644 → 0600 on /etc/app.conf' }]);
});

test('different content: a change with the diff before/after', () => {
  const p = plan(want('port 2\n'), { state: file('0644'), sameContent: false, before: 'port 1\n' });
  assert.equal(p.changes, [
    { description: 'content of /etc/app.conf differs', diff: { path: '/etc/app.conf', before: 'port 1\n', after: 'port 2\n' } },
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
    { description: 'create /etc/app.conf (mode 0640, owner redis)', diff: { path: '/etc/app.conf', before: '', after: 'hello\n' } },
  ]);
});

test('binary content or a large old file: the change says so and carries no diff', () => {
  const bin = plan(want('\u0000\u0001'), { state: file('0644'), sameContent: false, before: 'text' });
  assert.equal(bin.changes, [{ description: 'content of /etc/app.conf differs (binary or large: no diff)' }]);
  const large = plan(want('x'), { state: file('0644'), sameContent: false, undiffable: true });
  assert.equal(large.changes, [{ description: 'content of /etc/app.conf differs (binary or large: no diff)' }]);
});

test('a symlink at dest is replaced; a directory there is an error', () => {
  const link: PresentPath = { ...file('0777'), type: 'link', linkTarget: '/elsewhere' };
  assert.is(plan(want('x'), { state: link, sameContent: false }).changes[0].description, 'replace symlink /etc/app.conf (→ /elsewhere) with a file');
  const dir: PresentPath = { ...file('0755'), type: 'directory' };
  assert.throws(() => plan(want('x'), { state: dir, sameContent: false }), (e: unknown) => e instanceof ModuleError && /is a directory/.test(e.message));
});

test.run();
