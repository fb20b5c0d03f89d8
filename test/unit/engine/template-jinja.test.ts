// A `.j2` template through the CLI on the local connection: the engine's real variables (groups,
// hostvars, facts set earlier) reach the template's loops, and a refusal leaves no file behind.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rplay, rplayJson, tasksWith } from '../../support/rplay-cli.js';

const test = suite('.j2 templates through the engine');
const inv = 'test/fixtures/local-inventory.yml';

function project(template: string, name = 'app.conf.j2'): string {
  const dir = mkdtempSync(join(tmpdir(), 'rplay-j2-'));
  mkdirSync(join(dir, 'templates'));
  writeFileSync(join(dir, 'templates', name), template);
  writeFileSync(
    join(dir, 'play.yml'),
    [
      '- hosts: localhost',
      '  gather_facts: false',
      '  vars:',
      '    ports: [7000, 7001]',
      '    enabled: "no"',
      '  tasks:',
      '    - set_fact: { role_name: primary }',
      `    - template: { src: ${name}, dest: "${dir}/out.conf", mode: "0640" }`,
      '',
    ].join('\n'),
  );
  return dir;
}

const run = (dir: string, ...extra: string[]) => rplayJson([join(dir, 'play.yml'), '-i', inv, ...extra], { env: { RPLAY_STATE_DIR: join(dir, 'state') } });

test('if/for/set over the engine variables render byte for byte; --check writes nothing; a re-run is ok', async () => {
  const dir = project(
    [
      '{% set first = ports | first %}',
      '{% for h in groups["all"] %}',
      'host {{ h }} via {{ hostvars[h].ansible_connection }} role {{ role_name }}',
      '{% endfor %}',
      '{% for p in ports %}',
      'port{{ loop.index }} {{ p }}{{ " first" if p == first }}',
      '{% endfor %}',
      '{% if enabled | bool %}',
      'feature on',
      '{% else %}',
      'feature off',
      '{% endif %}',
      "literal {{ '{{ role_name }}' }} {{ '{%' }}",
      '',
    ].join('\n'),
  );
  const checked = await run(dir, '--check');
  assert.is(checked.code, 0, checked.stdout + checked.stderr);
  assert.not.ok(existsSync(join(dir, 'out.conf')));
  const r = await run(dir);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.is(readFileSync(join(dir, 'out.conf'), 'utf8'), 'host localhost via local role primary\nport1 7000 first\nport2 7001\nfeature off\nliteral {{ role_name }} {%\n');
  assert.is(statSync(join(dir, 'out.conf')).mode & 0o777, 0o640);
  const again = await run(dir);
  assert.equal(tasksWith(again.json, 'localhost', 'changed'), []);
});

test('an undefined name fails the task with the template file:line:col, and no file is written', async () => {
  const dir = project('ok\n{% for p in ports %}\n  listen {{ p.host }}\n{% endfor %}\n');
  const r = await run(dir);
  assert.is.not(r.code, 0);
  const msg = r.json.plays[0]!.tasks.find((t) => t.module === 'template')!.results.localhost!.msg ?? '';
  assert.match(msg, "templates/app.conf.j2:3:10: undefined variable 'p.host'");
  assert.not.ok(existsSync(join(dir, 'out.conf')));
});

test('{% in a .conf is refused, a macro in a .j2 is refused, before any host: exit 1, no file written', async () => {
  for (const [name, text, message] of [
    ['app.conf', 'a\n{% if x %}b{% endif %}\n', 'templates/app.conf:2:1: Jinja syntax ({%) in a file rendered as Mustache: name it .j2'],
    ['app.j2', '{% macro m() %}b{% endmacro %}\n', 'templates/app.j2:1:1: {% macro %} is not supported in rplay templates'],
  ] as const) {
    const dir = project(text, name);
    const r = await rplay([join(dir, 'play.yml'), '-i', inv], { env: { RPLAY_STATE_DIR: join(dir, 'state') } });
    assert.is(r.code, 1);
    assert.match(r.stderr, message);
    assert.not.ok(existsSync(join(dir, 'out.conf')));
  }
});

test.run();
