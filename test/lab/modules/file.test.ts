import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { file } from '../../../modules/file.js';
import { converge, descriptions, failsWith, moduleHost, planOn, type ModuleHost } from './module-host.js';

const t = suite<{ h: ModuleHost }>('file on a lab host');
t.before(async (c) => {
  c.h = await moduleHost();
});
t.after(async (c) => {
  await c.h?.close();
});

t('directory: created with mode and owner, then ok', async ({ h }) => {
  const { first } = await converge(file, h.ctx(), { path: '/srv/app/data', state: 'directory', mode: '0750', owner: 'ubuntu', group: 'ubuntu' });
  assert.equal(descriptions(first), ['create directory /srv/app/data (mode 0750, owner ubuntu, group ubuntu)']);
  assert.is((await h.check('stat -c "%F %a %U %G" /srv/app/data')).stdout, 'directory 750 ubuntu ubuntu\n');
});

t('drift: chmod by hand is one change, put back', async ({ h }) => {
  await h.check('chmod 0777 /srv/app/data');
  const { first } = await converge(file, h.ctx(), { path: '/srv/app/data', state: 'directory', mode: '0750' });
  assert.equal(descriptions(first), ['mode 0777 → 0750 on /srv/app/data']);
  assert.is((await h.check('stat -c %a /srv/app/data')).stdout, '750\n');
});

t('touch: creates an empty file once; a re-run leaves its mtime alone', async ({ h }) => {
  await converge(file, h.ctx(), { path: '/srv/app/flag', state: 'touch', mode: '0600' });
  const before = (await h.check('stat -c "%s %a %Y" /srv/app/flag')).stdout;
  assert.match(before, /^0 600 \d+\n$/);
  assert.equal((await planOn(file, h.ctx(), { path: '/srv/app/flag', state: 'touch', mode: '0600' })).changes, []);
  assert.is((await h.check('stat -c "%s %a %Y" /srv/app/flag')).stdout, before);
});

t('file: fixes attributes of an existing file; a missing one is an error', async ({ h }) => {
  const { first } = await converge(file, h.ctx(), { path: '/srv/app/flag', owner: 'ubuntu', mode: '0644' });
  assert.equal(descriptions(first), ['mode 0600 → 0644 on /srv/app/flag', 'owner root → ubuntu on /srv/app/flag']);
  assert.is((await h.check('stat -c "%a %U %G" /srv/app/flag')).stdout, '644 ubuntu root\n');
  await failsWith(planOn(file, h.ctx(), { path: '/srv/nope' }), /^\/srv\/nope does not exist/);
});

t('link: created, retargeted, then ok', async ({ h }) => {
  await converge(file, h.ctx(), { path: '/srv/current', state: 'link', src: '/srv/app' });
  assert.is((await h.check('readlink /srv/current')).stdout, '/srv/app\n');
  const { first } = await converge(file, h.ctx(), { path: '/srv/current', state: 'link', src: '/srv/app/data' });
  assert.equal(descriptions(first), ['link /srv/current → /srv/app/data (was → /srv/app)']);
  assert.is((await h.check('readlink /srv/current')).stdout, '/srv/app/data\n');
});

t('absent: removes a tree, then ok', async ({ h }) => {
  await converge(file, h.ctx(), { path: '/srv/app', state: 'absent' });
  assert.is((await h.check('[ -e /srv/app ] && echo there || echo gone')).stdout, 'gone\n');
});

t('without become, a root-owned place is a clear failure', async ({ h }) => {
  const ctx = h.ctx({ become: false });
  const args = { path: '/etc/redis/x', state: 'directory' as const };
  const actual = await file.gather(ctx, args);
  await failsWith(Promise.resolve(file.legacyApply?.(ctx, args, file.plan(args, actual), actual)), /^file \/etc\/redis\/x \(state directory\) failed: mkdir: cannot create directory .*Permission denied/);
  assert.is((await h.check('[ -e /etc/redis/x ] && echo there || echo absent')).stdout, 'absent\n');
});

t.run();
