import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderAclFile } from '../../../modules/redis/acl-file.js';
import { renderDiff } from '../../../runner/reporters/render-diff.js';
import { aclPasswordHash } from '../../../modules/redis/acl-file.js';
import { MASK, Secret } from '../../../runner/secret.js';

test('a unified diff with before:/after: headers and 3 lines of context', () => {
  const before = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].join('\n') + '\n';
  const after = before.replace('e\n', 'E\n');
  assert.is(
    renderDiff([{ path: '/etc/redis/redis.conf', before, after }]),
    [
      '--- before: /etc/redis/redis.conf',
      '+++ after: /etc/redis/redis.conf',
      '@@ -2,7 +2,7 @@',
      ' b',
      ' c',
      ' d',
      '-e',
      '+E',
      ' f',
      ' g',
      ' h',
      '',
    ].join('\n'),
  );
});

test('a missing newline at the end is marked, not lost', () => {
  const out = renderDiff([{ path: '/f', before: 'x\n', after: 'x' }]);
  assert.is(out, '--- before: /f\n+++ after: /f\n@@ -1,1 +1,1 @@\n-x\n+x\n\\ No newline at end of file\n');
});

test('a new file diffs from nothing; several files follow each other; unchanged files are left out', () => {
  const out = renderDiff([
    { path: '/new', before: '', after: 'hello\n' },
    { path: '/same', before: 'same\n', after: 'same\n' },
    { path: '/other', before: 'a\n', after: 'b\n' },
  ]);
  assert.is(
    out,
    '--- before: /new\n+++ after: /new\n@@ -0,0 +1,1 @@\n+hello\n' +
      '--- before: /other\n+++ after: /other\n@@ -1,1 +1,1 @@\n-a\n+b\n',
  );
});

test('binary-looking content is summarised with sizes', () => {
  const bin = 'ELF\0\x01\x02' + 'x'.repeat(10);
  assert.is(
    renderDiff([{ path: '/usr/bin/tool', before: bin, after: bin + 'y' }]),
    '--- before: /usr/bin/tool\n+++ after: /usr/bin/tool\nbinary content differs (16 → 17 bytes)\n',
  );
  const garbled = '\ufffd\ufffd\x07\x08'.repeat(5);
  assert.match(renderDiff([{ path: '/b', before: 'text\n', after: garbled }]), 'binary content differs');
});

test('a rotated password is masked on both sides: the old one by the shape of the line that holds the new one', () => {
  const now = new Secret('Kp2-rotated-new-password-x9').reveal();
  const old = 'Old-password-nobody-registered';
  const conf = (pw: string): string => `port 6379\nmasterauth ${pw}\nrequirepass ${pw}\nlogfile /var/log/redis.log\n`;
  const out = renderDiff([{ path: '/etc/redis/redis.conf', before: conf(old) + 'maxmemory 1gb\n', after: conf(now) }]);
  assert.not.ok(out.includes(old) || out.includes(now), out);
  assert.match(out, `-masterauth ${MASK}\n-requirepass ${MASK}\n+masterauth ${MASK}\n+requirepass ${MASK}\n`);
  // Lines of another shape are shown as they are.
  assert.match(out, ' port 6379\n');
  assert.match(out, '-maxmemory 1gb\n');
  // A removed line that starts with "-- " is a removed line, not a header.
  const sql = renderDiff([{ path: '/f.sql', before: `-- password ${old}\n`, after: `-- password ${now}\n` }]);
  assert.match(sql, `--- password ${MASK}\n+-- password ${MASK}\n`);
});

test('a file that is only a secret: the old value at its place is masked, other lines are not', () => {
  const now = new Secret('Zr7-whole-line-secret-value').reveal();
  const out = renderDiff([{ path: '/etc/app/token', before: 'Old-whole-line-token-value\n', after: `${now}\n` }]);
  assert.is(out, `--- before: /etc/app/token\n+++ after: /etc/app/token\n@@ -1,1 +1,1 @@\n-${MASK}\n+${MASK}\n`);
  const elsewhere = renderDiff([{ path: '/f', before: 'header\nkeep me\n', after: `header\n${now}\n` }]);
  assert.match(elsewhere, `-${MASK}\n`);
  assert.match(elsewhere, ' header\n');
});

test('ACL password hashes are secrets: old and new hashes masked, user names and rules shown', () => {
  const oldPw = 'Acl-old-password-0123456789';
  const newPw = new Secret('Acl-new-password-9876543210').reveal();
  const file = (pw: string): string => renderAclFile([{ name: 'app_user', password: pw, rules: '~session:* +get' }, { name: 'default', enabled: false }]);
  const before = file(oldPw);
  const out = renderDiff([{ path: '/etc/redis/users.acl', before, after: file(newPw) }]);
  assert.not.ok(out.includes(aclPasswordHash(newPw)), out);
  assert.not.ok(out.includes(before.split('#')[1]!.split(' ')[0]!), out);
  assert.match(out, `-user app_user on #${MASK} ~session:* +get\n+user app_user on #${MASK} ~session:* +get\n user default off\n`);
});

test.run();
