// `.j2` rendering: statements, loop variables, scoping and whitespace control checked byte for byte
// against what Jinja (with Ansible's trim_blocks) writes; every refusal names file:line:col.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Secret } from '../../../runner/secret.js';
import { Scope, evaluateExpression } from '../../../runner/vars/index.js';
import { renderJinja } from '../../../runner/vars/render-jinja.js';
import { TemplateError } from '../../../runner/vars/render-template.js';

const vars = Scope.of({
  nodes: ['n1', 'n2', 'n3'],
  tls: false,
  port: 6379,
  conf: { maxmemory: '1gb', appendonly: 'yes' },
  users: [
    { name: 'app', enabled: true },
    { name: 'ops', enabled: false },
    { name: 'bkp', enabled: true },
  ],
  pass: new Secret('s3&<cr>"t'),
  greeting: 'hi {{ who }}',
  who: 'you',
});

const render = (text: string): string => renderJinja('t.j2', text, (expr, locals) => evaluateExpression(expr, vars.with(locals, true)));

function failure(text: string): string {
  try {
    render(text);
  } catch (e) {
    assert.instance(e, TemplateError);
    return (e as Error).message;
  }
  throw new Error('expected an error, got none');
}

test('if/elif/else picks one branch; trim_blocks eats the newline after each block tag', () => {
  const t = '{% if tls %}\ntls-port {{ port }}\n{% elif port == 6379 %}\nport {{ port }}\n{% else %}\nport 0\n{% endif %}\nend\n';
  assert.is(render(t), 'port 6379\nend\n');
  assert.is(render('{% if not tls %}\nplain\n{% endif %}\n'), 'plain\n');
  assert.is(render('{% if tls %}x{% endif %}'), '');
  assert.is(render("{% if conf.appendonly == 'yes' and port > 1 %}aof{% else %}rdb{% endif %}"), 'aof');
});

test('for: loop.index, index0, first, last, length, revindex; an inline tag also eats its newline', () => {
  const t = '{% for n in nodes %}\n{{ loop.index }}/{{ loop.length }} {{ loop.index0 }} {{ n }}{% if loop.first %} first{% endif %}{% if loop.last %} last{% endif %} r{{ loop.revindex }}\n{% endfor %}';
  assert.is(render(t), '1/3 0 n1 first r3\n2/3 1 n2 r2\n3/3 2 n3 last r1\n');
});

test('for … if filters before counting; else renders when nothing is left; mappings loop over keys, .items() over pairs', () => {
  assert.is(render('{% for u in users if u.enabled %}{{ u.name }}{{ "," if not loop.last }}{% endfor %}'), 'app,bkp');
  assert.is(render('{% for u in users if u.enabled %}{{ loop.length }}{% endfor %}'), '22');
  assert.is(render('{% for u in users if u.name == "x" %}{{ u.name }}{% else %}nobody{% endfor %}'), 'nobody');
  assert.is(render('{% for k in conf %}{{ k }};{% endfor %}'), 'maxmemory;appendonly;');
  assert.is(render('{% for k, v in conf.items() %}\n{{ k }} {{ v }}\n{% endfor %}'), 'maxmemory 1gb\nappendonly yes\n');
  assert.is(render('{% for a in nodes %}{% for b in [1, 2] %}{{ a }}.{{ b }}@{{ loop.index }} {% endfor %}{% endfor %}'), 'n1.1@1 n1.2@2 n2.1@1 n2.2@2 n3.1@1 n3.2@2 ');
});

test('set assigns for the rest of the template; a set inside a loop stays inside it; names shadow host vars', () => {
  assert.is(render('{% set p = port + 1 %}\n{% set port = 1 %}\n{{ p }} {{ port }}\n'), '6380 1\n');
  assert.is(render("{% set x = 'out' %}{% for n in nodes %}{% set x = n %}{{ x }}{% endfor %} {{ x }}"), 'n1n2n3 out');
  assert.match(failure('{% for n in nodes %}{% set y = n %}{% endfor %}\n{{ y }}'), "t.j2:2:1: undefined variable 'y'");
});

test('raw keeps {{ }} and {% %} as text; comments vanish', () => {
  // trim_blocks leaves the newline after {% raw %} in the raw text (as Jinja does), and eats the one after {% endraw %}.
  assert.is(render('{% raw %}\n{{ not_a_var }} {% if %}\n{% endraw %}\nafter'), '\n{{ not_a_var }} {% if %}\nafter');
  assert.is(render('{% raw -%}\n  {{ x }}  {%- endraw %}\nafter'), '{{ x }}after');
  assert.is(render('{# a comment with {{ x }} #}\nline {# inline #}x\n'), 'line x\n');
});

test('whitespace control: {%- -%} {{- -}} {#- -#} strip, +%} keeps the newline, lstrip_blocks stays off', () => {
  assert.is(render('a  {%- if true -%}  b  {%- endif %}  c'), 'ab  c');
  assert.is(render('x = [\n  {{- port -}}\n]'), 'x = [6379]');
  assert.is(render('a {#- c -#} b'), 'ab');
  assert.is(render('{% if true +%}\nkeep\n{% endif %}'), '\nkeep\n');
  assert.is(render('    {% if true %}\nindented tag\n    {% endif %}\n'), '    indented tag\n    ');
  assert.is(render('line\r\n{% if true %}\r\nx\r\n{% endif %}\r\n'), 'line\nx\n'); // newlines are \n, as Jinja writes them
});

test('values as toText renders them: lists and mappings as JSON, none as empty, secrets as their real text', () => {
  assert.is(render('{{ nodes }} {{ conf }} [{{ none }}] {{ pass }} {{ 1.5 }} {{ true }}'), `["n1","n2","n3"] {"maxmemory":"1gb","appendonly":"yes"} [] s3&<cr>"t 1.5 true`);
  assert.is(render('{{ greeting }}'), 'hi you');
  assert.is(render('{{ "}}" }} {% if "%}" %}ok{% endif %}'), '}} ok');
});

test('undefined names and bad expressions fail at file:line:col, in any position', () => {
  assert.is(failure('a\nport {{ prot }}\n'), "t.j2:2:6: undefined variable 'prot'");
  assert.is(failure('\n\n  {% if missing %}x{% endif %}'), "t.j2:3:3: undefined variable 'missing'");
  assert.is(failure('{% for n in nodes %}\n{{ n.nope }}\n{% endfor %}'), "t.j2:2:1: undefined variable 'n.nope'");
  assert.is(failure('{% for u in users if u.nope %}{% endfor %}'), "t.j2:1:1: undefined variable 'u.nope'");
  assert.match(failure('x\n{{ port | nofilter }}'), "t.j2:2:1: unknown filter 'nofilter'");
  // Syntax is checked before anything renders: a late error stops an early one from hiding it.
  assert.match(failure('{{ missing }}\n{% if a == %}{% endif %}'), /^t\.j2:2:1: cannot parse expression 'a =='/);
  assert.is(failure('{% for x in port %}{% endfor %}'), "t.j2:1:1: cannot loop over number 'port'");
  assert.is(failure('{% for a, b in nodes %}{% endfor %}'), 't.j2:1:1: cannot unpack string into a, b');
  assert.is(failure('{{ }}'), 't.j2:1:1: empty expression');
});

test('statements outside the supported set are refused by name at file:line:col, never passed through', () => {
  for (const word of ['macro m()', 'call m()', 'include "x.j2"', 'import "x.j2" as x', 'from "x" import y', 'extends "base.j2"', 'filter upper', 'block body', 'with x = 1', 'autoescape true', 'do x']) {
    const name = word.split(' ')[0];
    assert.is(failure(`ok\n  {% ${word} %}`), `t.j2:2:3: {% ${name} %} is not supported in rplay templates (supported: if/elif/else, for/else, set, raw)`);
  }
  assert.is(failure('{% set x %}block{% endset %}'), 't.j2:1:1: {% set x %}: write {% set name = expression %} (block set is not supported)');
  assert.is(failure('{% for x in nodes recursive %}{% endfor %}'), 't.j2:1:1: {% for … recursive %} is not supported in rplay templates (supported: if/elif/else, for/else, set, raw)');
});

test('broken structure is refused at file:line:col', () => {
  assert.is(failure('x\n{% if true %}\nno end'), 't.j2:2:1: {% if %} is never closed: add {% endif %}');
  assert.is(failure('{% for n in nodes %}{% if true %}{% endfor %}'), 't.j2:1:34: {% endfor %} without an open {% for %}');
  assert.is(failure('{% if true %}{% else %}{% elif x %}{% endif %}'), 't.j2:1:24: {% elif %} after {% else %}: {% else %} must come last');
  assert.is(failure('{% endif %}'), 't.j2:1:1: {% endif %} without an open {% if %}');
  assert.is(failure('{% else %}'), 't.j2:1:1: {% else %} without an open {% if %} or {% for %}');
  assert.is(failure('{% for in nodes %}{% endfor %}'), 't.j2:1:1: {% for in nodes %}: write {% for name in expression %} or {% for key, value in expression %}');
  assert.is(failure('{% raw %}never closed'), 't.j2:1:1: {% raw %} is never closed: add {% endraw %}');
  assert.is(failure('a {{ port'), 't.j2:1:3: {{ is never closed with }}');
  assert.is(failure('a\n {# open'), 't.j2:2:2: {# is never closed with #}');
  assert.is(failure('{% if true %}{% endif now %}'), 't.j2:1:14: {% endif now %}: {% endif %} takes nothing after it');
});

test.run();
