import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { thrown } from '../../support/thrown.js';
import { Secret } from '../../../runner/secret.js';
import { ExpressionError, Scope, UndefinedVariableError, evaluateExpression, evaluateWhen } from '../../../runner/vars/index.js';

const vars = Scope.of({
  port: 6379,
  name: 'Redis',
  enabled: true,
  off: false,
  nothing: null,
  empty: '',
  flag_text: 'yes',
  nodes: ['a', 'b', 'c'],
  conf: { bind: '127.0.1.1', tls: { port: 6380 } },
  res: { changed: true, failed: false, rc: 0, stdout: 'PONG\nok', stdout_lines: ['PONG', 'ok'] },
  skipped_res: { changed: false, skipped: true },
  failed_res: { changed: false, failed: true, msg: 'boom' },
  users: [
    { name: 'app', admin: false },
    { name: 'ops', admin: true },
  ],
});

const ev = (expr: string): unknown => evaluateExpression(expr, vars);

test('literals: numbers, strings, booleans in both spellings, none, lists, dicts, tuples', () => {
  assert.is(ev('42'), 42);
  assert.is(ev('1.5'), 1.5);
  assert.is(ev("'it''s'".replace("''", "\\'")), "it's");
  assert.is(ev('"x"'), 'x');
  assert.is(ev('true'), true);
  assert.is(ev('True'), true);
  assert.is(ev('False'), false);
  assert.is(ev('none'), null);
  assert.is(ev('None'), null);
  assert.is(ev('null'), null);
  assert.equal(ev('[1, "a", [true]]'), [1, 'a', [true]]);
  assert.equal(ev("{'a': 1, 'b': [port]}"), { a: 1, b: [6379] });
  assert.equal(ev("('a', 'b')"), ['a', 'b']);
});

test('names, attributes, items and negative indices', () => {
  assert.is(ev('port'), 6379);
  assert.is(ev('conf.bind'), '127.0.1.1');
  assert.is(ev("conf['tls'].port"), 6380);
  assert.is(ev('nodes[0]'), 'a');
  assert.is(ev('nodes[-1]'), 'c');
  assert.is(ev('res.stdout_lines[1]'), 'ok');
  assert.is(ev('name[0]'), 'R');
});

test('comparison and arithmetic', () => {
  assert.is(ev('port == 6379'), true);
  assert.is(ev("name != 'redis'"), true);
  assert.is(ev('port > 6000 and port <= 6379'), true);
  assert.is(ev("'abc' < 'abd'"), true);
  assert.is(ev('1 + 2 * 3'), 7);
  assert.is(ev('(1 + 2) * 3'), 9);
  assert.is(ev('7 / 2'), 3.5);
  assert.is(ev('7 // 2'), 3);
  assert.is(ev('-7 % 3'), 2);
  assert.is(ev('2 ** 10'), 1024);
  assert.is(ev("'a' + 'b'"), 'ab');
  assert.equal(ev('nodes + ["d"]'), ['a', 'b', 'c', 'd']);
  assert.is(ev("name ~ ':' ~ port"), 'Redis:6379');
  assert.equal(ev('[1, [2]] == [1, [2]]'), true);
  assert.match(thrown(() => ev("port + 'x'"), ExpressionError).message, /cannot apply \+ to number and string/);
  assert.match(thrown(() => ev("port < 'x'"), ExpressionError).message, /cannot compare number < string/);
});

test('and/or return operands as Python does; not binds looser than comparisons', () => {
  assert.is(ev("empty or 'fallback'"), 'fallback');
  assert.is(ev('port and name'), 'Redis');
  assert.is(ev('not off'), true);
  assert.is(ev('not port == 1'), true); // not (port == 1)
  assert.is(ev('not enabled and off'), false); // (not enabled) and off
  assert.is(ev('not off or off'), true);
  assert.is(ev("not flag_text | bool"), false); // not (flag_text | bool)
  assert.is(ev('(not port) == false'), true);
});

test('in and not in over lists, strings and mappings', () => {
  assert.is(ev("'b' in nodes"), true);
  assert.is(ev("'z' not in nodes"), true);
  assert.is(ev("'PONG' in res.stdout"), true);
  assert.is(ev("'tls' in conf"), true);
  assert.is(ev("'port' in conf"), false);
  assert.is(ev("name in ('Redis', 'Valkey')"), true);
});

test('is defined / is not defined / is undefined, including attribute paths', () => {
  assert.is(ev('port is defined'), true);
  assert.is(ev('missing is defined'), false);
  assert.is(ev('missing is not defined'), true);
  assert.is(ev('missing is undefined'), true);
  assert.is(ev('conf.nope is defined'), false);
  assert.is(ev('missing.deeper is defined'), false);
  assert.is(ev('nodes[7] is defined'), false);
  assert.is(ev('nothing is defined'), true);
  assert.is(ev('nothing is none'), true);
  assert.is(ev('not missing is defined'), true);
});

test('task result tests: changed, failed, succeeded, skipped', () => {
  assert.is(ev('res is changed'), true);
  assert.is(ev('res is failed'), false);
  assert.is(ev('res is succeeded'), true);
  assert.is(ev('res is success'), true);
  assert.is(ev('skipped_res is skipped'), true);
  assert.is(ev('skipped_res is not changed'), true);
  assert.is(ev('failed_res is failed'), true);
  assert.is(ev('failed_res is succeeded'), false);
});

test('other tests: match, search, version, number, string', () => {
  assert.is(ev("res.stdout is match('PONG')"), true);
  assert.is(ev("res.stdout is match('ok')"), false);
  assert.is(ev("res.stdout is search('ok')"), true);
  assert.is(ev("'7.0.15' is version('7.0.9', '>=')"), true);
  assert.is(ev("'7.0.15' is version('7.2', 'lt')"), true);
  assert.is(ev('port is number'), true);
  assert.is(ev('port is string'), false);
});

test('an undefined name is an error naming it (attribute paths too)', () => {
  assert.is(thrown(() => ev('redis_port'), UndefinedVariableError).variable, 'redis_port');
  assert.is(thrown(() => ev('redis_port == 1'), UndefinedVariableError).message, "undefined variable 'redis_port'");
  assert.is(thrown(() => ev('res.stderr'), UndefinedVariableError).variable, 'res.stderr');
  assert.is(thrown(() => ev("conf['nope']"), UndefinedVariableError).variable, "conf['nope']");
  assert.is(thrown(() => ev('missing | lower'), UndefinedVariableError).variable, 'missing');
  assert.is(thrown(() => ev('missing is changed'), UndefinedVariableError).variable, 'missing');
});

test('default / d: only undefined values (or falsy ones with true as second argument)', () => {
  assert.is(ev("missing | default('x')"), 'x');
  // The fallback is evaluated only when it is used.
  assert.is(ev('port | default(missing.deep)'), 6379);
  assert.is(ev("missing | d(5)"), 5);
  assert.is(ev("port | default(1)"), 6379);
  assert.is(ev("empty | default('x')"), '');
  assert.is(ev("empty | default('x', true)"), 'x');
  assert.is(ev('nothing | default(1)'), null);
  assert.is(ev("conf.nope | default('n')"), 'n');
  assert.is(ev('missing | default'), '');
  assert.equal(ev('missing | default({})'), {});
  assert.equal(ev('missing | default([])'), []);
});

test('filters: bool, int, string, lower, upper, trim, length, join, first, last', () => {
  assert.is(ev('flag_text | bool'), true);
  assert.is(ev("'no' | bool"), false);
  assert.is(ev("'off' | bool"), false);
  assert.is(ev("'True' | bool"), true);
  assert.is(ev('1 | bool'), true);
  assert.is(ev("'42' | int"), 42);
  assert.is(ev("'0640' | int"), 640);
  assert.is(ev("'ff' | int(0, 16)"), 255);
  assert.is(ev("'x' | int"), 0);
  assert.is(ev('3.9 | int'), 3);
  assert.is(ev("'2.5' | float"), 2.5);
  assert.is(ev('port | string'), '6379');
  assert.is(ev('name | lower'), 'redis');
  assert.is(ev('name | upper'), 'REDIS');
  assert.is(ev("'  x \\n' | trim"), 'x');
  assert.is(ev('nodes | length'), 3);
  assert.is(ev('name | length'), 5);
  assert.is(ev('conf | length'), 2);
  assert.is(ev("nodes | join(',')"), 'a,b,c');
  assert.is(ev('nodes | join'), 'abc');
  assert.is(ev('nodes | first'), 'a');
  assert.is(ev('nodes | last'), 'c');
  assert.is(ev('name | first'), 'R');
  assert.is(ev('name | lower | upper | length'), 5);
});

test('filters: to_json, from_json, b64encode, b64decode, regex_replace, replace, split', () => {
  assert.is(ev('conf | to_json'), '{"bind":"127.0.1.1","tls":{"port":6380}}');
  assert.equal(ev("'{\"a\": [1]}' | from_json"), { a: [1] });
  assert.is(ev("'user:pässword' | b64encode"), Buffer.from('user:pässword').toString('base64'));
  assert.is(ev("'dXNlcjpwdw==' | b64decode"), 'user:pw');
  assert.is(ev("'redis-7.0.15' | regex_replace('^redis-(\\\\d+)\\\\..*$', 'v\\\\1')"), 'v7');
  assert.is(ev("'a.b.c' | regex_replace('\\\\.', '/')"), 'a/b/c');
  assert.is(ev("'aXbX' | replace('X', '-')"), 'a-b-');
  assert.equal(ev("'a,b' | split(',')"), ['a', 'b']);
});

test('filters over lists: map, select, selectattr, unique, sort, combine, dict2items', () => {
  assert.equal(ev("users | map(attribute='name') | list"), ['app', 'ops']);
  assert.equal(ev("users | selectattr('admin') | map(attribute='name') | list"), ['ops']);
  assert.equal(ev("users | rejectattr('admin') | map(attribute='name') | list"), ['app']);
  assert.equal(ev("users | selectattr('name', 'equalto', 'app') | length"), 1);
  assert.equal(ev("nodes | map('upper') | list"), ['A', 'B', 'C']);
  assert.equal(ev('[3, 1, 3, 2] | unique | sort'), [3, 1, 2].sort());
  assert.equal(ev('[3, 1, 2] | sort(reverse=true)'), [3, 2, 1]);
  assert.equal(ev("conf | combine({'bind': '0.0.0.0'})"), { bind: '0.0.0.0', tls: { port: 6380 } });
  assert.equal(ev("{'a': 1} | dict2items"), [{ key: 'a', value: 1 }]);
  assert.equal(ev("['a', 'b'] | map('extract', {'a': 1, 'b': 2}) | list"), [1, 2]);
});

test('Python string and dict methods', () => {
  assert.is(ev("res.stdout.startswith('PONG')"), true);
  assert.is(ev("name.endswith(('is', 'dis'))"), true);
  assert.equal(ev('res.stdout.splitlines()'), ['PONG', 'ok']);
  assert.equal(ev("'a b  c'.split()"), ['a', 'b', 'c']);
  assert.is(ev("' x '.strip()"), 'x');
  assert.equal(ev('conf.keys()'), ['bind', 'tls']);
  assert.is(ev("conf.get('nope', 1)"), 1);
  assert.is(ev("','.join(nodes)"), 'a,b,c');
});

test('conditional expression: a if c else b', () => {
  assert.is(ev("'on' if enabled else 'off'"), 'on');
  assert.is(ev("'on' if off else 'maybe' if enabled else 'off'"), 'maybe');
});

test('no way out to JavaScript: prototypes, constructors and calls are not reachable', () => {
  assert.is(ev('conf.constructor is defined'), false);
  assert.is(ev('conf.__proto__ is defined'), false);
  assert.match(thrown(() => ev("name.constructor('return 1')"), ExpressionError).message, /has no method constructor/);
  assert.match(thrown(() => ev('lookup("env", "HOME")'), ExpressionError).message, /unknown function lookup/);
  assert.match(thrown(() => ev('port | nosuchfilter'), ExpressionError).message, /unknown filter 'nosuchfilter'/);
  assert.match(thrown(() => ev('port is nosuchtest'), ExpressionError).message, /unknown test 'nosuchtest'/);
});

test('syntax errors are ExpressionErrors quoting the expression', () => {
  assert.match(thrown(() => ev('port ==='), ExpressionError).message, /^cannot parse expression 'port ==='/);
  assert.match(thrown(() => ev('a b'), ExpressionError).message, /one expression expected/);
  assert.match(thrown(() => ev('x = 1'), ExpressionError).message, /compare with ==/);
  assert.match(thrown(() => ev('enabled ? 1 : 2'), ExpressionError).message, /a if c else b/);
});

test('evaluateWhen: a string, a list (all must hold), booleans, and {{ }} around one expression', () => {
  assert.is(evaluateWhen('port == 6379', vars), true);
  assert.is(evaluateWhen(['enabled', 'port > 1'], vars), true);
  assert.is(evaluateWhen(['enabled', 'off'], vars), false);
  // Stops at the first false condition: the second would be an error.
  assert.is(evaluateWhen(['missing is defined', 'missing.x == 1'], vars), false);
  assert.is(evaluateWhen(false, vars), false);
  assert.is(evaluateWhen('{{ enabled }}', vars), true);
  assert.is(evaluateWhen('empty', vars), false);
  assert.is(evaluateWhen('nodes', vars), true);
  thrown(() => evaluateWhen('x {{ enabled }}', vars), ExpressionError);
});

test('conditions: a secret holding a boolean word counts as that word; any other secret string fails without showing it', () => {
  const scope = Scope.of({ on: new Secret(' Yes '), off: new Secret('no'), pw: new Secret('Hunter2-x') });
  assert.is(evaluateWhen('on', scope), true);
  assert.is(evaluateWhen('off', scope), false);
  assert.is(evaluateWhen('not off', scope), true);
  const e = thrown(() => evaluateWhen('pw', scope), ExpressionError);
  assert.match(e.message, "condition 'pw' tests a secret string, which is neither true");
  assert.not.match(e.message, 'Hunter2');
  // Outside conditions, strings keep Python's truthiness: `{{ 'false' and 1 }}` is 1, as in Jinja.
  assert.is(evaluateExpression("'false' and 1", scope), 1);
});

test.run();
