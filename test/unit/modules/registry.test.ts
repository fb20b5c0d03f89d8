import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Ajv } from 'ajv';
import { registry } from '../../../modules/registry.js';
import type { Module } from '../../../runner/types.js';

// Ajv's default strictness: unknown keywords and ill-formed schemas throw.
const ajv = new Ajv({ allErrors: true });
const all = async (): Promise<Module[]> => Promise.all([...registry.names].map((n) => registry.load(n)));
const schemas = new Map<string, object>();
const valid = (module: string, args: unknown): boolean => ajv.validate(schemas.get(module)!, args) as boolean;

test.before(async () => {
  for (const m of await all()) schemas.set(m.name, m.schema);
});

test('every core module is registered under its task name', async () => {
  for (const name of ['command', 'shell', 'file', 'copy', 'template', 'apt', 'service', 'set_fact', 'debug', 'assert', 'wait_for', 'ping', 'setup']) {
    assert.is((await registry.load(name)).name, name, name);
  }
});

test('a name the registry does not have is refused, not loaded as something else', async () => {
  for (const attempt of [() => registry.load('toString'), () => registry.signature('constructor')]) {
    const e = await attempt().then(() => undefined, (err: Error) => err);
    assert.match(e?.message ?? 'resolved', /no module '(toString|constructor)'/);
  }
});

test('every schema compiles (unknown keywords would throw)', () => {
  for (const s of schemas.values()) ajv.compile(s);
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
