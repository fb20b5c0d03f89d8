import { writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { thrown } from '../../support/thrown.js';
import { InputError, loadYamlFile, parseYaml, positionAtPath, positionOf } from '../../../runner/yaml/load.js';

const errorOf = (fn: () => unknown): InputError => thrown(fn, InputError);

const doc = `# a playbook
- name: Web
  hosts: web
  tasks:
    - name: one
      file:
        path: /etc/x
        mode: 0640
`;

test('positions of mappings, keys and list items are file:line:col, 1-based', () => {
  const data = parseYaml(doc, 'playbooks/x.yml') as Array<{ tasks: Array<{ file: object }> }>;
  assert.equal(positionOf(data), { file: 'playbooks/x.yml', line: 2, col: 1 });
  assert.equal(positionOf(data, 0), { file: 'playbooks/x.yml', line: 2, col: 3 });
  assert.equal(positionOf(data[0]!, 'tasks'), { file: 'playbooks/x.yml', line: 4, col: 3 });
  const task = data[0]!.tasks[0]!;
  assert.equal(positionOf(task, 'file'), { file: 'playbooks/x.yml', line: 6, col: 7 });
  assert.equal(positionOf(task.file, 'mode'), { file: 'playbooks/x.yml', line: 8, col: 9 });
  assert.equal(positionAtPath(data, [0, 'tasks', 0, 'file', 'path']), { file: 'playbooks/x.yml', line: 7, col: 9 });
});

test('positions are hidden: JSON, keys and equality see plain data', () => {
  const data = parseYaml('a: {b: [1, 2]}\n', 'f.yml');
  assert.equal(data, { a: { b: [1, 2] } });
  assert.is(JSON.stringify(data), '{"a":{"b":[1,2]}}');
  assert.equal(Object.keys(data as object), ['a']);
  assert.is(positionOf({ a: 1 }), undefined);
});

test('mode: 0640 is the octal mode "0640", other octal modes keep their digits', () => {
  assert.equal(parseYaml('mode: 0640\n', 'f.yml'), { mode: '0640' });
  assert.equal(parseYaml('- mode: 0755\n- mode: 04755\n- mode: 0\n', 'f.yml'), [{ mode: '0755' }, { mode: '04755' }, { mode: '0000' }]);
  assert.equal(parseYaml("mode: '0640'\n", 'f.yml'), { mode: '0640' });
  assert.equal(parseYaml('mode: u+rw\n', 'f.yml'), { mode: 'u+rw' });
  // Only `mode` keys: elsewhere 0640 is the YAML 1.1 number it is.
  assert.equal(parseYaml('n: 010\n', 'f.yml'), { n: 8 });
});

test('mode: 640 is an error at file:line:col, since it may mean either base', () => {
  const e = errorOf(() => parseYaml('file:\n  path: /x\n  mode: 640\n', 'playbooks/x.yml'));
  assert.is(e.message, "playbooks/x.yml:3:9: mode: 640 is ambiguous — write 0640 (octal) or '0640'");
  assert.equal(e.pos, { file: 'playbooks/x.yml', line: 3, col: 9 });
  assert.is(errorOf(() => parseYaml('mode: 0999\n', 'f.yml')).message, 'f.yml:1:7: mode: 0999 is not an octal number — write it with digits 0-7, e.g. 0640');
});

test('YAML 1.1 booleans as Ansible (PyYAML) reads them; y/n and keys stay text', () => {
  assert.equal(parseYaml('a: yes\nb: no\nc: on\nd: off\ne: True\nf: NO\ng: y\nh: n\n', 'f.yml'), {
    a: true, b: false, c: true, d: false, e: true, f: false, g: 'y', h: 'n',
  });
  assert.equal(Object.keys(parseYaml('on: 1\nyes: 2\n', 'f.yml') as object), ['on', 'yes']);
});

test('no sexagesimal numbers or dates: 22:22 and 2024-01-02 stay text', () => {
  assert.equal(parseYaml('a: 22:22\nb: 2024-01-02\nc: 1.5\nd: 0x1F\n', 'f.yml'), { a: '22:22', b: '2024-01-02', c: 1.5, d: 31 });
});

test('anchors, aliases and merge keys', () => {
  const data = parseYaml('base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\nsame: *b\n', 'f.yml');
  assert.equal(data, { base: { x: 1, y: 2 }, use: { x: 1, y: 3 }, same: { x: 1, y: 2 } });
});

test('duplicate keys and syntax errors name file:line:col', () => {
  assert.is(errorOf(() => parseYaml('a: 1\nb: 2\na: 3\n', 'v.yml')).message, "v.yml:3:1: duplicate key 'a'");
  const e = errorOf(() => parseYaml('a: [1, 2\nb: 3\n', 'v.yml'));
  assert.match(e.message, /^v\.yml:2:\d+: invalid YAML: /);
  assert.is(errorOf(() => parseYaml('- a\n- *nope\n', 'v.yml')).message.startsWith('v.yml:2:'), true);
});

test('loadYamlFile reads a file; a missing one is an InputError naming it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rplay-yaml-'));
  await writeFile(join(dir, 'a.yml'), 'x: yes\n');
  assert.equal(await loadYamlFile(join(dir, 'a.yml')), { x: true });
  try {
    await loadYamlFile(join(dir, 'missing.yml'));
    assert.unreachable();
  } catch (e) {
    assert.instance(e, InputError);
    assert.is((e as Error).message, `${join(dir, 'missing.yml')}: cannot read: ENOENT`);
  }
});

test('a key named __proto__ is an ordinary key, never a prototype', () => {
  const data = parseYaml('__proto__: {polluted: 1}\n', 'f.yml') as Record<string, unknown>;
  assert.equal(Object.keys(data), ['__proto__']);
  assert.is(Object.getPrototypeOf(data), Object.prototype);
  assert.is((data as { polluted?: unknown }).polluted, undefined);
});

test('an empty document is null', () => {
  assert.is(parseYaml('', 'f.yml'), null);
  assert.is(parseYaml('# only a comment\n', 'f.yml'), null);
});

test.run();
