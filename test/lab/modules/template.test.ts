import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { template } from '../../../modules/template.js';
import { Secret } from '../../../runner/secret.js';
import { converge, failsWith, moduleHost, planOn, type ModuleHost } from './module-host.js';

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
});
t.after(async (c) => {
  rmSync(c.project, { recursive: true, force: true });
  await c.h?.close();
});

const PW = `s3&<cr>"t'`;
const vars = (port: number) => ({ bind: '10.0.0.1', port, pass: new Secret(PW), replicas: ['a', 'b'] });

t('rendered on the controller with the host vars (escaping off, secrets revealed), written, then ok', async ({ h, project }) => {
  const args = { src: 'redis.conf', dest: '/etc/redis/redis.conf', mode: '0640', owner: 'ubuntu' };
  const { first } = await converge(template, h.ctx({ vars: vars(6379), projectDir: project }), args);
  const text = `bind 10.0.0.1\nport 6379\nrequirepass ${PW}\nreplica a\nreplica b\n`;
  assert.equal(first.changes, [{ description: 'create /etc/redis/redis.conf (mode 0640, owner ubuntu)', diff: { path: '/etc/redis/redis.conf', before: '', after: text } }]);
  assert.is((await h.check('stat -c "%a %U" /etc/redis/redis.conf; cat /etc/redis/redis.conf')).stdout, `640 ubuntu\n${text}`);
});

t('a changed variable is a diff of the rendered text', async ({ h, project }) => {
  const args = { src: 'redis.conf', dest: '/etc/redis/redis.conf', mode: '0640' };
  const { first } = await converge(template, h.ctx({ vars: vars(7000), projectDir: project }), args);
  assert.is(first.changes.length, 1);
  const d = first.changes[0].diff;
  assert.ok(d?.before.includes('port 6379\n') && d.after.includes('port 7000\n'));
  assert.is((await h.check('grep ^port /etc/redis/redis.conf')).stdout, 'port 7000\n');
});

t('an undefined variable fails with the template file, line and name; nothing is written', async ({ h, project }) => {
  await failsWith(
    planOn(template, h.ctx({ vars: vars(1), projectDir: project }), { src: 'broken.conf', dest: '/etc/redis/broken.conf' }),
    /^templates\/broken\.conf:3: undefined variable 'prot'$/,
  );
  assert.is((await h.check('ls /etc/redis')).stdout, 'redis.conf\n');
});

t.run();
