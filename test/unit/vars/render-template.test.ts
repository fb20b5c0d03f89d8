import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkTemplate, renderTemplate } from '../../../runner/vars/render-template.js';

function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error, got none');
}

test('HTML escaping is off: & < > " \' land verbatim in {{ }} and {{{ }}}', () => {
  const pw = `p&ss<w>"rd'`;
  assert.is(renderTemplate('t', 'requirepass {{ pw }}\nx {{{pw}}} {{& pw}}', { pw }), `requirepass ${pw}\nx ${pw} ${pw}`);
});

test('numbers, booleans, dotted names and sections over lists render as Mustache does', () => {
  const out = renderTemplate('t', 'port {{redis.port}} tls {{tls}}\n{{#nodes}}node {{name}}:{{redis.port}}\n{{/nodes}}', {
    redis: { port: 6379 },
    tls: true,
    nodes: [{ name: 'a' }, { name: 'b' }],
  });
  assert.is(out, 'port 6379 tls true\nnode a:6379\nnode b:6379\n');
});

test('an undefined name fails with file, line and name', () => {
  const msg = failure(() => renderTemplate('templates/redis.conf', 'bind {{ addr }}\nport {{ port }}\n', { addr: '1.2.3.4' }));
  assert.is(msg, "templates/redis.conf:2: undefined variable 'port'");
});

test('an undefined dotted name fails', () => {
  const msg = failure(() => renderTemplate('f', '{{a.b.c}}', { a: { b: {} } }));
  assert.is(msg, "f:1: undefined variable 'a.b.c'");
});

test('sections and inverted sections over a missing name fail', () => {
  assert.is(failure(() => renderTemplate('f', 'x\n\n{{#tls}}on{{/tls}}', {})), "f:3: undefined variable 'tls'");
  assert.is(failure(() => renderTemplate('f', '{{^tls}}off{{/tls}}', {})), "f:1: undefined variable 'tls'");
});

test('a name defined only by the section item resolves inside the section, not outside', () => {
  const view = { users: [{ user: 'app', pass: 'x' }] };
  assert.is(renderTemplate('f', '{{#users}}user {{user}} {{pass}}\n{{/users}}', view), 'user app x\n');
  assert.is(failure(() => renderTemplate('f', '{{#users}}{{user}}{{/users}}\n{{user}}', view)), "f:2: undefined variable 'user'");
});

test('a missing name inside one list item fails, naming the line inside the section', () => {
  const msg = failure(() => renderTemplate('f', '{{#users}}\nuser {{user}} {{pass}}\n{{/users}}', { users: [{ user: 'a', pass: 'p' }, { user: 'b' }] }));
  assert.is(msg, "f:2: undefined variable 'pass'");
});

test('the body of a section that does not render is not checked', () => {
  assert.is(renderTemplate('f', '{{#tls}}tls-port {{tls_port}}{{/tls}}done', { tls: false }), 'done');
  assert.is(renderTemplate('f', '{{^plain}}{{nothing}}{{/plain}}ok', { plain: true }), 'ok');
});

test('null and mappings as values are errors, not empty or [object Object]', () => {
  assert.is(failure(() => renderTemplate('f', '{{x}}', { x: null })), "f:1: variable is null, would render nothing: 'x'");
  assert.is(failure(() => renderTemplate('f', '{{x}}', { x: { a: 1 } })), "f:1: variable is a mapping, not a value: 'x'");
});

test('partials are refused and parse errors name the file and line', () => {
  assert.is(failure(() => renderTemplate('f', 'a\n{{> other}}', {})), "f:2: partials are not supported, found partial 'other'");
  assert.match(failure(() => renderTemplate('tpl.conf', 'a\nb {{#x}} c', { x: true })), /^tpl\.conf:2: Unclosed section "x"/);
});


test('checkTemplate: an unclosed section is named at the line that opens it, before any variable is known', () => {
  const text = 'port {{ port }}\n{{#nodes}}\nnode {{ name }}\n{{#tls}}\ntls yes\n{{/tls}}\n';
  assert.is(failure(() => checkTemplate('templates/c.conf', text)), 'templates/c.conf:2: Unclosed section "nodes"');
  // Nested: the inner one is unclosed, the outer closes too early.
  assert.is(failure(() => checkTemplate('t', 'a\n{{#outer}}\n{{#inner}}\n{{/outer}}\n')), 't:4: Unclosed section "inner"');
});

test('checkTemplate: unclosed tags, partials anywhere and stray closes fail with file and line; a good template passes', () => {
  assert.is(failure(() => checkTemplate('t', 'x\ny {{ port\n')), 't:3: Unclosed tag');
  assert.is(failure(() => checkTemplate('t', '{{#a}}\n{{#b}}\n{{> inc}}\n{{/b}}{{/a}}')), "t:3: partials are not supported, found partial 'inc'");
  assert.is(failure(() => checkTemplate('t', 'a\n{{/a}}\n')), 't:2: Unopened section "a"');
  assert.not.throws(() => checkTemplate('t', 'port {{ port }}\n{{#nodes}}{{ name }}{{/nodes}}{{^x}}none{{/x}}\n'));
});

test.run();
