// Playbook regexes (filters, tests, host patterns) on RE2 with Python's syntax, and string literals
// read as Jinja reads them. Expressions are written with String.raw: the text is what a YAML file holds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { thrown } from '../../support/thrown.js';
import { Secret } from '../../../runner/secret.js';
import { ExpressionError, Scope, evaluateExpression } from '../../../runner/vars/index.js';

const HOSTILE = 'a'.repeat(40) + '!'; // `(a+)+$` backtracks 2^40 times on this with a backtracking engine
const WORDS = 'an input that never ends in a way!'; // 34 characters; `^(\w+\s?)*$` explodes on it
const vars = Scope.of({ hostile: HOSTILE, words: WORDS, ver: 'mysql  Ver 8.0.35 for Linux', out: 'k1=v1\nk2=v2\n' });
const ev = (expr: string): unknown => evaluateExpression(expr, vars);

const CATASTROPHIC: Array<[string, string]> = [
  ['hostile', '(a+)+$'],
  ['words', String.raw`^(\w+\s?)*$`],
  ['hostile', '(a|aa)+$'],
  ['hostile', '^(a|a?)+$'],
];

test('catastrophic patterns on non-matching host text complete through every filter and test', () => {
  const started = Date.now();
  for (const [name, re] of CATASTROPHIC) {
    const q = `'${re}'`;
    assert.is(ev(`${name} is match(${q})`), false, `match ${re}`);
    assert.is(ev(`${name} is search(${q})`), false, `search ${re}`);
    assert.is(ev(`${name} is regex(${q})`), false, `regex ${re}`);
    assert.is(ev(`${name} | regex_search(${q})`), null, `regex_search ${re}`);
    assert.equal(ev(`${name} | regex_findall(${q})`), [], `regex_findall ${re}`);
    assert.is(ev(`${name} | regex_replace(${q}, 'x')`), name === 'hostile' ? HOSTILE : WORDS, `regex_replace ${re}`);
  }
  // A correctness bound, not a speed target: a backtracking engine needs minutes for one of these.
  const ms = Date.now() - started;
  assert.ok(ms < 5000, `took ${ms} ms`);
});

test('the same catastrophic pattern over a long host output stays linear (1 MiB in well under the bound)', () => {
  const big = Scope.of({ big: 'a'.repeat(1 << 20) + '!' });
  const started = Date.now();
  assert.is(evaluateExpression("big is search('(a+)+$')", big), false);
  assert.ok(Date.now() - started < 5000);
});

test('look-arounds and back-references are refused, saying why and what to write instead', () => {
  for (const re of ['foo(?=bar)', 'foo(?!bar)', '(?<=x)foo', '(?<!x)foo']) {
    const e = thrown(() => ev(`ver | regex_search('${re}')`), ExpressionError);
    assert.match(e.message, `regular expression '${re}' uses a look-`);
    assert.match(e.message, 'which RE2 cannot run');
    assert.match(e.message, 'linear in the input');
    assert.match(e.message, 'instead, match the surrounding text');
  }
  for (const expr of [String.raw`ver is search('(a)\1')`, String.raw`ver | regex_replace('(?P<x>a)(?P=x)', '')`]) {
    const e = thrown(() => ev(expr), ExpressionError);
    assert.match(e.message, /uses a (named )?back-reference/);
    assert.match(e.message, 'instead, capture the parts with groups');
  }
  // Escaped, the same characters are literals and run.
  assert.is(ev(String.raw`'(?=x)' is search('\(\?=x\)')`), true);
  assert.is(ev(String.raw`'a\1' | regex_replace('\\\\1', '!')`), 'a!');
  assert.is(ev(String.raw`'a(?=b' is search('[(?=]b')`), true);
});

test('an invalid pattern is an error naming it, unless the pattern is a secret: then neither it nor the replacement is quoted', () => {
  assert.match(thrown(() => ev("ver is search('(unclosed')"), ExpressionError).message, "invalid regular expression '(unclosed'");
  const pw = 'Zq9(?=Kx\\qW[';
  const secret = Scope.of({ pw: new Secret(pw), text: 'x' });
  for (const expr of ['text is search(pw)', 'text is match(pw)', 'text | regex_search(pw)', 'text | regex_findall(pw)', "text | regex_replace(pw, 'y')", "'x' | regex_replace('x', pw)"]) {
    let message = '';
    try {
      evaluateExpression(expr, secret);
    } catch (e) {
      message = (e as Error).message;
    }
    assert.ok(message, `${expr} must fail`);
    assert.not.match(message, /Zq9|Kx/, `${expr}: ${message}`);
  }
  assert.match(thrown(() => evaluateExpression('text is search(pw)', secret), ExpressionError).message, "regular expression ******** uses a look-ahead");
});

test('Python syntax: named groups, \\A and \\Z, ignorecase and multiline', () => {
  assert.is(ev(String.raw`ver | regex_search('(?P<major>\d+)\.(?P<minor>\d+)', '\\g<minor>') | first`), '0');
  assert.equal(ev(String.raw`ver | regex_search('(?P<major>\d+)\.(?P<minor>\d+)', '\\g<major>', '\\2')`), ['8', '0']);
  assert.is(ev(String.raw`ver is search('\Amysql')`), true);
  assert.is(ev(String.raw`ver is search('\AVer')`), false);
  assert.is(ev(String.raw`ver is search('Linux\Z')`), true);
  assert.is(ev(String.raw`out is search('v1\Z')`), false);
  assert.is(ev("ver is search('MYSQL')"), false);
  assert.is(ev("ver is search('MYSQL', ignorecase=true)"), true);
  assert.is(ev("ver is match('MYSQL', true)"), true);
  assert.is(ev("ver | regex_search('VER', ignorecase=true)"), 'Ver');
  assert.equal(ev("out | regex_findall('^k\\d=(.*)$', multiline=true)"), ['v1', 'v2']);
  assert.equal(ev("out | regex_findall('^k\\d=(.*)$')"), []);
  // Ansible's positional flags: regex_replace(re, repl, ignorecase, multiline), regex_findall(re, multiline, ignorecase).
  assert.is(ev("'Aa' | regex_replace('a', 'x', true)"), 'xx');
  assert.is(ev("'a\\na' | regex_replace('^a', 'x', false, true)"), 'x\nx');
  assert.equal(ev("out | regex_findall('^K\\d', true, true)"), ['k1', 'k2']);
  assert.equal(ev("out | regex_findall('^K\\d', true)"), []);
});

test('match anchors at the start, search and regex anywhere', () => {
  assert.is(ev("ver is match('Ver')"), false);
  assert.is(ev("ver is match('mysql')"), true);
  assert.is(ev("ver is search('Ver')"), true);
  assert.is(ev("ver is regex('Ver')"), true);
  assert.is(ev("ver is not match('Ver')"), true);
});

test("regex_search('\\d+\\.\\d+') on 8.0.35 is 8.0, as the playbook wrote it", () => {
  assert.is(evaluateExpression(String.raw`v | regex_search('\d+\.\d+')`, Scope.of({ v: '8.0.35' })), '8.0');
  assert.is(ev(String.raw`ver | regex_search('nomatch\d')`), null);
});

test('regex_replace: \\1, \\g<name>, \\g<0>, count, escapes in the replacement, unmatched groups empty', () => {
  assert.is(ev(String.raw`ver | regex_replace('(?P<maj>\d+)\.(?P<min>\d+)\.\d+', '\\g<maj>.\\g<min>')`), 'mysql  Ver 8.0 for Linux');
  assert.is(ev(String.raw`'8.0.35' | regex_replace('(\d+)\.(\d+)', '\\2-\\1')`), '0-8.35');
  assert.is(ev(String.raw`'8.0.35' | regex_replace('\d+', '<\\g<0>>')`), '<8>.<0>.<35>');
  assert.is(ev(String.raw`'a.b.c' | regex_replace('\.', '/', count=1)`), 'a/b.c');
  assert.is(ev(String.raw`'a b' | regex_replace(' ', '\\n')`), 'a\nb');
  assert.is(ev(String.raw`'ab' | regex_replace('(x)?b', '[\\1]')`), 'a[]');
  assert.is(ev(String.raw`'cost' | regex_replace('cost', '$1 \\.')`), String.raw`$1 \.`);
  assert.is(ev("'abc' | regex_replace('x*', '-')"), '-a-b-c-');
  assert.match(thrown(() => ev(String.raw`'ab' | regex_replace('(a)', '\\2')`), ExpressionError).message, "has no group 2 (it has 1)");
  assert.match(thrown(() => ev(String.raw`'ab' | regex_replace('(?P<x>a)', '\\g<y>')`), ExpressionError).message, "has no group 'y' (it has 1)");
  assert.match(thrown(() => ev(String.raw`'ab' | regex_replace('a', '\\q')`), ExpressionError).message, "unknown escape '\\q' in the replacement");
});

test('regex_findall: whole matches, one group, several groups, empty matches', () => {
  assert.equal(ev(String.raw`'8.0.35' | regex_findall('\d+')`), ['8', '0', '35']);
  assert.equal(ev(String.raw`out | regex_findall('k(\d)=')`), ['1', '2']);
  assert.equal(ev(String.raw`out | regex_findall('(k\d)=(v\d)')`), [['k1', 'v1'], ['k2', 'v2']]);
  assert.equal(ev("'ab' | regex_findall('x*')"), ['', '', '']);
});

test("string literals: \\n \\t \\\\ \\' \\\" are escapes, unknown escapes keep their backslash", () => {
  assert.is(ev(String.raw`'a\nb'`), 'a\nb');
  assert.is(ev(String.raw`'a\tb'`), 'a\tb');
  assert.is(ev(String.raw`'a\\b'`), 'a\\b');
  assert.is(ev(String.raw`'it\'s'`), "it's");
  assert.is(ev(String.raw`"say \"hi\""`), 'say "hi"');
  assert.is(ev(String.raw`'\d+\.\d+'`), String.raw`\d+\.\d+`);
  assert.is(ev(String.raw`'\b\1\w'`), String.raw`\b\1\w`);
  assert.is(ev(String.raw`'\x41\u00e9\U0001F600'`), 'Aé😀');
  assert.is(ev(String.raw`('\d' ~ "\d") | length`), 4);
  assert.is(ev(String.raw`'a\\'.upper()`), 'A\\');
  assert.match(thrown(() => ev(String.raw`'\x4g'`), ExpressionError).message, 'needs 2 hex digits');
  assert.match(thrown(() => ev(String.raw`'open`), ExpressionError).message, 'unclosed quote');
});

test('strip, lstrip, rstrip on long whitespace runs are linear (no regex over host text)', () => {
  const padded = Scope.of({ s: ' '.repeat(200_000) + 'x' + ' '.repeat(200_000) + '\n' });
  const started = Date.now();
  assert.is(evaluateExpression('s.strip()', padded), 'x');
  assert.is(evaluateExpression('s.rstrip() | length', padded), 200_001);
  assert.is(evaluateExpression('s.lstrip() | length', padded), 200_002);
  assert.is(evaluateExpression("'--a--'.strip('-')", padded), 'a');
  assert.is(evaluateExpression("'--a--'.lstrip('-')", padded), 'a--');
  assert.is(evaluateExpression("'--a--'.rstrip('-')", padded), '--a');
  assert.is(evaluateExpression("'a]^-a'.strip('a]')", padded), '^-');
  assert.ok(Date.now() - started < 5000);
});

test.run();
