import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { file } from '../../../modules/file.js';
import type { PathState, PresentPath } from '../../../modules/files/file-attrs.js';
import { ModuleError } from '../../../runner/types.js';

const at = (type: PresentPath['type'], mode = '0755', extra: Partial<PresentPath> = {}): PresentPath => ({
  type,
  mode,
  owner: 'root',
  group: 'root',
  uid: 0,
  gid: 0,
  ...extra,
});
const absent: PathState = { type: 'absent' };
const descriptions = (args: Parameters<typeof file.plan>[0], actual: PathState) => file.plan(args, actual).changes.map((c) => c.description);
const fails = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof ModuleError && re.test(e.message));

test('directory: created when absent, attributes fixed when present, ok when as wanted', () => {
  assert.equal(descriptions({ path: '/d', state: 'directory', mode: '0750', owner: 'redis' }, absent), [
    'create directory /d (mode 0750, owner redis)',
  ]);
  assert.equal(descriptions({ path: '/d', state: 'directory', mode: '0750' }, at('directory')), ['mode 0755 → 0750 on /d']);
  const ok = file.plan({ path: '/d', state: 'directory', mode: '0755' }, at('directory'));
  assert.equal(ok.changes, []);
  assert.is(ok.msg, 'directory /d as wanted');
  fails(() => file.plan({ path: '/d', state: 'directory' }, at('file')), /\/d is a file, not a directory/);
});

test('absent: removes whatever is there, ok when nothing is', () => {
  assert.equal(descriptions({ path: '/x', state: 'absent' }, at('directory')), ['remove /x (a directory)']);
  assert.equal(descriptions({ path: '/x', state: 'absent' }, at('link', '0777', { linkTarget: '/t' })), ['remove /x (a symlink to /t)']);
  assert.is(file.plan({ path: '/x', state: 'absent' }, absent).msg, '/x already absent');
});

test('file (the default state): only attributes; a missing file is an error', () => {
  assert.equal(descriptions({ path: '/f', group: 'adm' }, at('file', '0644')), ['group root → adm on /f']);
  fails(() => file.plan({ path: '/f' }, absent), /\/f does not exist \(state: touch creates an empty file\)/);
  fails(() => file.plan({ path: '/f', state: 'file' }, at('directory')), /is a directory, not a file/);
});

test('touch: creates when absent; an existing file keeps its timestamps (changed=0 on re-runs)', () => {
  assert.equal(descriptions({ path: '/t', state: 'touch', mode: '0600' }, absent), ['create empty file /t (mode 0600)']);
  assert.equal(descriptions({ path: '/t', state: 'touch', mode: '0600' }, at('file', '0600')), []);
  assert.equal(descriptions({ path: '/t', state: 'touch', mode: '0600' }, at('file', '0644')), ['mode 0644 → 0600 on /t']);
});

test('link: created, retargeted, or ok; a real file in the way is an error', () => {
  assert.equal(descriptions({ path: '/l', state: 'link', src: '/a' }, absent), ['link /l → /a']);
  assert.equal(descriptions({ path: '/l', state: 'link', src: '/a' }, at('link', '0777', { linkTarget: '/b' })), ['link /l → /a (was → /b)']);
  assert.equal(descriptions({ path: '/l', state: 'link', src: '/a', mode: '0600' }, at('link', '0777', { linkTarget: '/a' })), []);
  fails(() => file.plan({ path: '/l', state: 'link', src: '/a' }, at('file')), /refusing to replace it with a symlink/);
});

const ops = (args: Parameters<typeof file.plan>[0], actual: PathState) => file.plan(args, actual).changes.map((c) => c.op);

test('the ops: what apply runs, from the plan alone', () => {
  assert.equal(ops({ path: '/d', state: 'directory', mode: '0750', owner: 'redis' }, absent), [{ kind: 'mkdir', path: '/d', mode: '0750', owner: 'redis' }]);
  assert.equal(ops({ path: '/x', state: 'absent' }, at('directory')), [{ kind: 'remove', path: '/x' }]);
  assert.equal(ops({ path: '/t', state: 'touch', group: 'adm' }, absent), [{ kind: 'touch', path: '/t', group: 'adm' }]);
  assert.equal(ops({ path: '/d', state: 'directory', mode: '0750', owner: 'redis' }, at('directory')), [
    { kind: 'attrs', path: '/d', mode: '0750' },
    { kind: 'attrs', path: '/d', owner: 'redis', mode: '0750' },
  ]);
  // A new link (made as root) is chowned with the link's wanted owner; an existing one keeps its own.
  assert.equal(ops({ path: '/l', state: 'link', src: '/a', owner: 'redis' }, absent), [{ kind: 'link', path: '/l', target: '/a', owner: 'redis' }]);
  assert.equal(ops({ path: '/l', state: 'link', src: '/a', owner: 'redis' }, at('link', '0777', { linkTarget: '/b', owner: 'redis' })), [
    { kind: 'link', path: '/l', target: '/a', owner: 'redis' },
  ]);
  assert.equal(ops({ path: '/l', state: 'link', src: '/a', group: 'adm' }, at('link', '0777', { linkTarget: '/a' })), [{ kind: 'attrs', path: '/l', group: 'adm', link: true }]);
  assert.equal(file.plan({ path: '/x', state: 'absent' }, absent).result, { path: '/x', state: 'absent' });
});

test.run();
