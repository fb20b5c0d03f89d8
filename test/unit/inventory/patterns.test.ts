import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadInventory, type Inventory } from '../../../runner/inventory/inventory.js';
import { matchHosts } from '../../../runner/inventory/patterns.js';
import { removeTrees, writeTree } from './tree.js';

test.after(removeTrees);

let inv: Inventory;

test.before(async () => {
  const dir = writeTree({
    'hosts.yml': `
all:
  hosts:
    bastion:
  children:
    redis:
      hosts:
        node-1:
        node-2:
        node-3:
      children:
        primary:
          hosts:
            node-3:
            node-1:
    web:
      hosts:
        web-1:
        node-2:
`,
  });
  inv = await loadInventory([join(dir, 'hosts.yml')]);
});

const cases: [string, string[]][] = [
  ['all', ['bastion', 'node-1', 'node-2', 'node-3', 'web-1']],
  ['*', ['bastion', 'node-1', 'node-2', 'node-3', 'web-1']],
  ['redis', ['node-1', 'node-2', 'node-3']],
  ['node-2', ['node-2']],
  ['ungrouped', ['bastion']],
  // Inventory order, not the order the pattern names them.
  ['primary', ['node-1', 'node-3']],
  ['web:primary', ['node-1', 'node-2', 'node-3', 'web-1']],
  ['web,primary', ['node-1', 'node-2', 'node-3', 'web-1']],
  ['redis:&web', ['node-2']],
  ['redis:!primary', ['node-2']],
  ['redis:!primary:&web', ['node-2']],
  // Exclusions apply last wherever they are written.
  ['!primary:redis', ['node-2']],
  ['!redis', ['bastion', 'web-1']],
  ['node-*', ['node-1', 'node-2', 'node-3']],
  ['*-1', ['node-1', 'web-1']],
  ['prim*', ['node-1', 'node-3']],
  ['node-?:!node-2', ['node-1', 'node-3']],
  ['~^web', ['node-2', 'web-1']],
  ['localhost', ['localhost']],
  ['nothing', []],
  ['nothing:&redis', []],
  ['', []],
];

for (const [pattern, want] of cases) {
  test(`pattern '${pattern}'`, () => {
    assert.equal(matchHosts(inv, pattern), want);
  });
}

test('the implicit localhost is not in all, *, or a glob', () => {
  assert.not.ok(matchHosts(inv, 'all').includes('localhost'));
  assert.not.ok(matchHosts(inv, 'local*').includes('localhost'));
  assert.equal(matchHosts(inv, 'all:localhost').at(-1), 'localhost');
});

test('--limit narrows the play pattern with the same syntax', () => {
  assert.equal(matchHosts(inv, 'redis', 'node-1:node-3:web-1'), ['node-1', 'node-3']);
  assert.equal(matchHosts(inv, 'all', '!redis'), ['bastion', 'web-1']);
  assert.equal(matchHosts(inv, 'redis', 'web'), ['node-2']);
});

test('a bad ~regex is an error naming the pattern', () => {
  assert.throws(() => matchHosts(inv, '~(web'), /host pattern '~\(web' is not a valid regular expression/);
});

test('a ~regex is Python syntax on RE2: named groups and \\Z run, a look-ahead is refused saying why', () => {
  assert.equal(matchHosts(inv, '~^node-(?P<n>[12])\\Z'), ['node-1', 'node-2']);
  assert.throws(() => matchHosts(inv, '~node-(?!3)'), /host pattern '~node-\(\?!3\)' .*uses a look-ahead.*which RE2 cannot run/);
});

test.run();
