import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { thrown } from '../../support/thrown.js';
import { MASK, Secret, redact } from '../../../runner/secret.js';
import { ExpressionError, Scope, UNDEFINED, UndefinedVariableError, interpolate, lazyMapping, renderString } from '../../../runner/vars/index.js';

test('a string that is exactly one {{ expr }} keeps the native type', () => {
  const s = Scope.of({ port: 6379, on: true, list: [1, 2], map: { a: 1 }, nothing: null });
  assert.is(renderString('{{ port }}', s), 6379);
  assert.is(renderString('{{port}}', s), 6379);
  assert.is(renderString('{{ on }}', s), true);
  assert.equal(renderString('{{ list }}', s), [1, 2]);
  assert.equal(renderString('{{ map }}', s), { a: 1 });
  assert.is(renderString('{{ nothing }}', s), null);
  assert.is(renderString('{{ port + 1 }}', s), 6380);
});

test('in a larger string values are rendered as text', () => {
  const s = Scope.of({ port: 6379, on: true, list: [1, 'a'], map: { a: 1 }, nothing: null });
  assert.is(renderString('port {{ port }}', s), 'port 6379');
  assert.is(renderString(' {{ port }}', s), ' 6379');
  assert.is(renderString('{{ port }}{{ port }}', s), '63796379');
  assert.is(renderString('{{ on }}/{{ list }}/{{ map }}/{{ nothing }}.', s), 'true/[1,"a"]/{"a":1}/.');
  assert.is(renderString("{{ {'a': {'b': 1}} | to_json }}!", s), '{"a":{"b":1}}!');
  assert.is(renderString("{{ '}}' }}", s), '}}');
  assert.is(renderString('no templates { here }', s), 'no templates { here }');
});

test('interpolate walks lists and mappings, keeps untouched subtrees', () => {
  const s = Scope.of({ dir: '/etc/redis', mode: '0640' });
  const plain = { owner: 'redis' };
  const out = interpolate({ path: '{{ dir }}/redis.conf', mode: '{{ mode }}', lines: ['a', '{{ dir }}'], plain }, s) as Record<string, unknown>;
  assert.equal(out, { path: '/etc/redis/redis.conf', mode: '0640', lines: ['a', '/etc/redis'], plain });
  assert.is(out.plain, plain);
  const untouched = { a: [1, 'x'] };
  assert.is(interpolate(untouched, s), untouched);
});

test('variables referencing variables resolve lazily, in any order of definition', () => {
  const s = Scope.of({
    url: '{{ scheme }}://{{ host }}:{{ port }}',
    scheme: 'rediss',
    host: '{{ prefix }}-1',
    prefix: 'node',
    port: '{{ base_port + 1 }}',
    base_port: 6378,
    nested: { urls: ['{{ url }}'] },
  });
  assert.is(s.get('url'), 'rediss://node-1:6379');
  assert.is(s.get('port'), 6379);
  assert.equal(s.get('nested'), { urls: ['rediss://node-1:6379'] });
});

test('a cycle is an error that names it', () => {
  const s = Scope.of({ a: '{{ b }}-x', b: '{{ c }}', c: '{{ a }}', d: '{{ d }}' });
  assert.is(thrown(() => s.get('a'), ExpressionError).message, 'variable cycle: a → b → c → a');
  assert.is(thrown(() => s.get('d'), ExpressionError).message, 'variable cycle: d → d');
});

test('an undefined name inside another variable names both', () => {
  const s = Scope.of({ conf: '{{ dir }}/redis.conf', dir: '{{ base }}/redis' });
  const e = thrown(() => renderString('{{ conf }}', s), UndefinedVariableError);
  assert.is(e.variable, 'base');
  assert.is(e.message, "undefined variable 'base' (needed by conf → dir)");
  assert.is(thrown(() => renderString('x {{ nope }}', s), UndefinedVariableError).message, "undefined variable 'nope'");
});

test('higher layers win; a literal layer is data, never templated', () => {
  const s = new Scope([{ vars: { port: 1, who: 'group' } }, { vars: { port: 2 } }]).with({ out: { stdout: 'hi {{ port }}' } }, true);
  assert.is(s.get('port'), 2);
  assert.is(s.get('who'), 'group');
  assert.equal(s.get('out'), { stdout: 'hi {{ port }}' });
  assert.is(s.has('out'), true);
  assert.is(s.has('nope'), false);
});

test('a variable defined on a lower layer sees names from higher layers (loop item)', () => {
  const s = Scope.of({ path: '/srv/{{ item }}' }).with({ item: 'a' }, true);
  assert.is(s.get('path'), '/srv/a');
  assert.is(s.with({ item: 'b' }, true).get('path'), '/srv/b');
});

test('secrets stay Secrets as whole values, and text that holds one is a Secret of its real text', () => {
  const pw = new Secret('s3cr3t-&<pw>');
  const s = Scope.of({ pw, alias: '{{ pw }}', line: 'requirepass {{ pw }}' });
  assert.is(s.get('pw'), pw);
  assert.is(s.get('alias'), pw);
  const line = s.get('line');
  assert.instance(line, Secret);
  assert.is((line as Secret).reveal(), 'requirepass s3cr3t-&<pw>');
  assert.is(redact((line as Secret).reveal()), `requirepass ${MASK}`);
  const b64 = renderString('{{ pw | b64encode }}', s);
  assert.instance(b64, Secret);
  assert.is(redact(`x ${(b64 as Secret).reveal()}`), `x ${MASK}`);
  assert.is(renderString("{{ pw == 's3cr3t-&<pw>' }}", s), true);
});

test('another host\'s Scope can be reached through a mapping (hostvars)', () => {
  const other = Scope.of({ addr: '127.0.1.{{ n }}', n: 2 });
  const s = Scope.of({ hostvars: { 'node-2': other } });
  assert.is(renderString("{{ hostvars['node-2'].addr }}", s), '127.0.1.2');
  assert.is(renderString("{{ hostvars['node-2'].nope is defined }}", s), false);
  assert.is(renderString("{{ 'addr' in hostvars['node-2'] }}", s), true);
});

test('a lazy mapping computes entries on use (hostvars for many hosts)', () => {
  const built: string[] = [];
  const hostvars = lazyMapping((name) => {
    if (!name.startsWith('node-')) return UNDEFINED;
    built.push(name);
    return Scope.of({ addr: `127.0.1.${name.slice(5)}` });
  });
  const s = Scope.of({ hostvars });
  assert.is(renderString("{{ hostvars['node-7'].addr }}", s), '127.0.1.7');
  assert.is(renderString("{{ 'web-1' in hostvars }}", s), false);
  assert.is(renderString("{{ hostvars['web-1'] | default('none') }}", s), 'none');
  assert.equal(built, ['node-7']);
});

test('template syntax errors: unterminated, {% %}', () => {
  const s = Scope.of({});
  assert.match(thrown(() => renderString('x {{ y', s), ExpressionError).message, /unterminated \{\{/);
  assert.match(thrown(() => renderString('{% if x %}y{% endif %}', s), ExpressionError).message, /not supported/);
});

test.run();
