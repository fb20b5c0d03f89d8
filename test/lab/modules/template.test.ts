import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { template } from '../../../modules/template.js';
import { Secret } from '../../../runner/secret.js';
import { changedThenNot, checkPlan } from '../../support/converge.js';
import { failsWith, moduleHost, type ModuleHost } from './module-host.js';

const t = suite<{ h: ModuleHost; project: string }>('template on a lab host');
t.before(async (c) => {
  c.h = await moduleHost();
  c.project = mkdtempSync(join(tmpdir(), 'rplay-template-'));
  mkdirSync(join(c.project, 'templates'));
  writeFileSync(
    join(c.project, 'templates', 'redis.conf'),
    'bind {{ bind }}\nport {{ port }}\nrequirepass {{ pass }}\n{{#replicas}}replica {{ . }}\n{{/replicas}}',
  );
  writeFileSync(join(c.project, 'templates', 'broken.conf'), 'bind {{ bind }}\n\nport {{ prot }}\n');
  writeFileSync(
    join(c.project, 'templates', 'redis.conf.j2'),
    [
      '{# rendered by rplay #}',
      '{% set primary = replicas | first %}',
      'bind {{ bind }}',
      'port {{ port }}',
      'requirepass {{ pass }}',
      '{% if port == 6379 %}',
      'protected-mode yes',
      '{% else %}',
      'protected-mode no',
      '{% endif %}',
      '{% for r in replicas %}',
      'replica{{ loop.index }} {{ r }}{{ " (primary)" if r == primary }}{{ "," if not loop.last }}',
      '{% endfor %}',
      'x {% raw %}{{ kept }}{% endraw %} y',
      '',
    ].join('\n'),
  );
  writeFileSync(join(c.project, 'templates', 'undefined.j2'), 'bind {{ bind }}\n{% for r in replicas %}\n  replica {{ r.host }}\n{% endfor %}\n');
  writeFileSync(join(c.project, 'templates', 'macro.j2'), 'bind {{ bind }}\n{% macro line(x) %}{{ x }}{% endmacro %}\n');
  writeFileSync(join(c.project, 'templates', 'jinja.conf'), 'bind {{ bind }}\n{% if tls %}\ntls-port 6380\n{% endif %}\n');
  writeFileSync(join(c.project, 'templates', 'plain.conf.mustache'), 'bind {{ bind }}\n{{#replicas}}r {{ . }}\n{{/replicas}}{% kept %}\n');
});
t.after(async (c) => {
  rmSync(c.project, { recursive: true, force: true });
  await c.h?.close();
});

const PW = `s3&<cr>"t'`;
const vars = (port: number) => ({ bind: '10.0.0.1', port, pass: new Secret(PW), replicas: ['a', 'b'] });

t('rendered on the controller with the host vars (escaping off, secrets revealed), written, then ok', async ({ h, project }) => {
  const args = { src: 'redis.conf', dest: '/etc/redis/redis.conf', mode: '0640', owner: 'ubuntu' };
  const { planned: first } = await changedThenNot(template, h.ctx({ vars: vars(6379), projectDir: project }), args);
  const text = `bind 10.0.0.1\nport 6379\nrequirepass ${PW}\nreplica a\nreplica b\n`;
  assert.equal(first.changes.map(({ op: _, ...c }) => c), [{ description: 'create /etc/redis/redis.conf (mode 0640, owner ubuntu)', diff: { path: '/etc/redis/redis.conf', before: '', after: text } }]);
  assert.is((await h.check('stat -c "%a %U" /etc/redis/redis.conf; cat /etc/redis/redis.conf')).stdout, `640 ubuntu\n${text}`);
});

t('a changed variable is a diff of the rendered text', async ({ h, project }) => {
  const args = { src: 'redis.conf', dest: '/etc/redis/redis.conf', mode: '0640' };
  const { planned: first } = await changedThenNot(template, h.ctx({ vars: vars(7000), projectDir: project }), args);
  assert.is(first.changes.length, 1);
  const d = first.changes[0].diff;
  assert.ok(d?.before.includes('port 6379\n') && d.after.includes('port 7000\n'));
  assert.is((await h.check('grep ^port /etc/redis/redis.conf')).stdout, 'port 7000\n');
});

t('an undefined variable fails with the template file, line and name; nothing is written', async ({ h, project }) => {
  await failsWith(
    checkPlan(template, h.ctx({ vars: vars(1), projectDir: project }), { src: 'broken.conf', dest: '/etc/redis/broken.conf' }),
    /^templates\/broken\.conf:3: undefined variable 'prot'$/,
  );
  assert.is((await h.check('ls /etc/redis')).stdout, 'redis.conf\n');
});

t('a .j2 with set, if, for, loop.*, raw and a secret renders byte for byte to the host file', async ({ h, project }) => {
  const args = { src: 'redis.conf.j2', dest: '/etc/redis/jinja.conf', mode: '0600' };
  const { planned: first } = await changedThenNot(template, h.ctx({ vars: vars(6379), projectDir: project }), args);
  const text = `bind 10.0.0.1\nport 6379\nrequirepass ${PW}\nprotected-mode yes\nreplica1 a (primary),\nreplica2 b\nx {{ kept }} y\n`;
  assert.equal(first.changes.map(({ op: _, ...c }) => c), [{ description: 'create /etc/redis/jinja.conf (mode 0600)', diff: { path: '/etc/redis/jinja.conf', before: '', after: text } }]);
  assert.is((await h.check('stat -c %a /etc/redis/jinja.conf; base64 -w0 /etc/redis/jinja.conf')).stdout, `600\n${Buffer.from(text).toString('base64')}`);
});

t('.j2 refusals: an undefined name (file:line:col), a macro, {% in a .conf: the host is never written', async ({ h, project }) => {
  const ctx = h.ctx({ vars: vars(1), projectDir: project });
  await failsWith(checkPlan(template, ctx, { src: 'undefined.j2', dest: '/etc/redis/u.conf' }), /^templates\/undefined\.j2:3:11: undefined variable 'r\.host'$/);
  await failsWith(checkPlan(template, ctx, { src: 'macro.j2', dest: '/etc/redis/m.conf' }), /^templates\/macro\.j2:2:1: \{% macro %\} is not supported in rplay templates/);
  await failsWith(checkPlan(template, ctx, { src: 'jinja.conf', dest: '/etc/redis/j.conf' }), /^templates\/jinja\.conf:2:1: Jinja syntax \(\{%\) in a file rendered as Mustache: name it \.j2/);
  assert.is((await h.check('ls /etc/redis')).stdout, 'jinja.conf\nredis.conf\n');
});

t('a .mustache file renders as Mustache, {% kept as text', async ({ h, project }) => {
  const args = { src: 'plain.conf.mustache', dest: '/etc/redis/plain.conf' };
  await changedThenNot(template, h.ctx({ vars: vars(1), projectDir: project }), args);
  assert.is((await h.check('cat /etc/redis/plain.conf')).stdout, 'bind 10.0.0.1\nr a\nr b\n{% kept %}\n');
});

t.run();
