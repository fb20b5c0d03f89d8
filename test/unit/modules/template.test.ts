import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sha256 } from '../../../modules/files/file-content.js';
import { template } from '../../../modules/template.js';
import { Secret } from '../../../runner/secret.js';
import { ModuleError, type ModuleContext, type Vars } from '../../../runner/types.js';
import { Scope, evaluateExpression } from '../../../runner/vars/index.js';

const project = mkdtempSync(join(tmpdir(), 'rplay-template-unit-'));
mkdirSync(join(project, 'templates'));
writeFileSync(join(project, 'templates', 'users.acl'), 'user default off\nuser {{ user }} on >{{ pass }} ~* +@all\n');

// A host where nothing exists yet at dest: the gather script answers "nothing missing, absent".
const ctx = (vars: Record<string, unknown>, calls: string[] = []) =>
  ({
    host: 'h',
    projectDir: project,
    vars,
    evaluate: (expr: string, locals?: Vars) => evaluateExpression(expr, Scope.of(vars).with(locals ?? {}, true)),
    conn: { sh: async (script: string) => (calls.push(script), { rc: 0, stdout: 'need 0 0 0\nabsent\n', stderr: '' }) },
  }) as unknown as ModuleContext;

test('rendered with the host vars, Secrets revealed and not escaped: the plan creates dest with that text', async () => {
  const args = { src: 'users.acl', dest: '/etc/redis/users.acl', mode: '0640' };
  const plan = template.plan(args, await template.gather(ctx({ user: 'app', pass: new Secret('a&b<c>"d\'e') }), args));
  const text = 'user default off\nuser app on >a&b<c>"d\'e ~* +@all\n';
  // The op holds the rendered bytes themselves (the host gets the real secret), their sha256 and the mode.
  assert.equal(plan.changes, [
    {
      description: 'create /etc/redis/users.acl (mode 0640)',
      diff: { path: '/etc/redis/users.acl', before: '', after: text },
      op: { kind: 'write', path: '/etc/redis/users.acl', data: Buffer.from(text), sha256: sha256(Buffer.from(text)), mode: '0640' },
    },
  ]);
});

test('an undefined variable fails with the template path, line and name, before the host is asked anything', async () => {
  const calls: string[] = [];
  try {
    await template.gather(ctx({ user: 'app' }, calls), { src: 'users.acl', dest: '/x' });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ModuleError);
    assert.is((e as Error).message, "templates/users.acl:2: undefined variable 'pass'");
  }
  assert.equal(calls, []);
});

test('a missing template file names the path looked at', async () => {
  try {
    await template.gather(ctx({}), { src: 'nope.conf', dest: '/x' });
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).message, `template: cannot read ${join(project, 'templates', 'nope.conf')}: ENOENT`);
  }
});

/** The text template renders from `text` in a file called `name`, or the error it fails with. */
async function rendered(name: string, text: string, vars: Record<string, unknown> = {}): Promise<string> {
  writeFileSync(join(project, 'templates', name), text);
  const args = { src: name, dest: '/x' };
  try {
    return template.plan(args, await template.gather(ctx(vars), args)).changes[0]!.diff!.after;
  } catch (e) {
    assert.instance(e, ModuleError);
    return `error: ${(e as Error).message}`;
  }
}

test('a file with {% that is not named .j2 is refused with file:line:col, whatever its extension', async () => {
  const text = 'port {{ port }}\n  {% if tls %}tls yes{% endif %}\n';
  for (const name of ['redis.conf', 'redis.conf.tpl', 'noext']) {
    assert.is(await rendered(name, text, { port: 1, tls: true }), `error: templates/${name}:2:3: Jinja syntax ({%) in a file rendered as Mustache: name it .j2 to render it as Jinja (or .mustache if the {% is meant as text)`);
  }
});

test('.mustache files are Mustache as before: sections, strict names, {% kept as text', async () => {
  assert.is(await rendered('a.conf.mustache', '{{#tls}}tls {{port}}{{/tls}} {% x %}\n', { tls: true, port: 6380 }), 'tls 6380 {% x %}\n');
  assert.is(await rendered('b.conf.mustache', 'x\n{{ nope }}', {}), "error: templates/b.conf.mustache:2: undefined variable 'nope'");
});

test('.j2: {{ }} is the expression engine (filters, secrets real), comments removed, undefined names fail at line:col', async () => {
  const vars = { name: 'redis', pass: new Secret('s3&<cr>t'), ports: [1, 2] };
  assert.is(await rendered('a.conf.j2', "{# who #}\nname {{ name | upper }} {{ ports | join(',') }}\npass {{ pass }}\n", vars), 'name REDIS 1,2\npass s3&<cr>t\n');
  assert.is(await rendered('b.j2', 'a\nport  {{ prot }}\n', vars), "error: templates/b.j2:2:7: undefined variable 'prot'");
});

test('.j2, .jinja, .jinja2: if, for and set render; a macro is refused with file:line:col', async () => {
  const text = '{% set sep = "," %}\n{% for n in nodes if n != "b" %}\n{{ n }}{{ sep if not loop.last }}\n{% endfor %}\n{% if tls %}tls on{% else %}tls off{% endif %}\n';
  for (const name of ['a.j2', 'a.jinja', 'a.JINJA2']) {
    assert.is(await rendered(name, text, { nodes: ['a', 'b', 'c'], tls: false }), 'a,\nc\ntls off'); // trim_blocks eats the newline after {% endif %}, as in Jinja
  }
  assert.is(await rendered('m.j2', 'x\n{% macro m() %}y{% endmacro %}\n', {}), 'error: templates/m.j2:2:1: {% macro %} is not supported in rplay templates (supported: if/elif/else, for/else, set, raw)');
});

test.after(() => rmSync(project, { recursive: true, force: true }));

test.run();
