import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Ajv } from 'ajv';
import { registry } from '../../../modules/registry.js';

// Ajv's default strictness: unknown keywords and ill-formed schemas throw.
const ajv = new Ajv({ allErrors: true });
const valid = (module: string, args: unknown): boolean => {
  const m = registry.get(module);
  if (!m) throw new Error(`no module ${module}`);
  return ajv.validate(m.schema, args) as boolean;
};

test('every core module is registered under its task name', () => {
  for (const name of ['command', 'shell', 'file', 'copy', 'template', 'apt', 'service', 'set_fact', 'debug', 'assert', 'wait_for', 'ping', 'setup']) {
    assert.is(registry.get(name)?.name, name, name);
  }
});

test('every schema compiles (unknown keywords would throw)', () => {
  for (const m of registry.values()) ajv.compile(m.schema);
});

test('modes: four octal digits with the leading 0 (as the loader writes YAML 0640); nothing else', () => {
  assert.ok(valid('file', { path: '/x', mode: '0640' }));
  assert.ok(valid('file', { path: '/x', mode: '04755' }));
  for (const bad of ['640', '0648', 'u+rw', '0640 ', '00000640']) assert.not.ok(valid('file', { path: '/x', mode: bad }), bad);
  assert.not.ok(valid('copy', { dest: '/x', content: '', mode: 416 }));
});

test('argument combinations are checked before any host is touched', () => {
  assert.not.ok(valid('file', { path: '/l', state: 'link' }), 'link without src');
  assert.ok(valid('file', { path: '/l', state: 'link', src: '/t' }));
  assert.not.ok(valid('copy', { dest: '/x' }), 'copy without content or src');
  assert.not.ok(valid('copy', { dest: '/x', content: 'a', src: 'b' }), 'copy with both');
  assert.not.ok(valid('command', { cmd: 'a', argv: ['a'] }), 'command with cmd and argv');
  assert.not.ok(valid('command', {}), 'command with neither');
  assert.not.ok(valid('service', { name: 'redis' }), 'service with neither state nor enabled');
  assert.not.ok(valid('service', { name: 'redis', state: 'running' }));
  assert.not.ok(valid('apt', { name: 'Bad Name' }));
  assert.not.ok(valid('apt', { state: 'present' }), 'apt with neither name nor update_cache');
  assert.not.ok(valid('wait_for', { port: 70000 }));
  assert.not.ok(valid('set_fact', { 'not a name': 1 }));
  assert.not.ok(valid('template', { src: 'a', dest: 'b', owner: 'x', extra: 1 }), 'unknown key');
});

test.run();
