import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderDiff } from '../../../runner/reporters/render-diff.js';

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

test.run();
