import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { file, type FileOp } from '../../../modules/file.js';
import { apply, changedThenNot, checkPlan } from '../../support/converge.js';
import { descriptions, failsWith, moduleHost, type ModuleHost } from './module-host.js';

const t = suite<{ h: ModuleHost }>('file on a lab host');
t.before(async (c) => {
  c.h = await moduleHost();
});
t.after(async (c) => {
  await c.h?.close();
});

t('directory: created with mode and owner, then ok', async ({ h }) => {
  const { planned: first } = await changedThenNot(file, h.ctx(), { path: '/srv/app/data', state: 'directory', mode: '0750', owner: 'ubuntu', group: 'ubuntu' });
  assert.equal(descriptions(first), ['create directory /srv/app/data (mode 0750, owner ubuntu, group ubuntu)']);
  assert.is((await h.check('stat -c "%F %a %U %G" /srv/app/data')).stdout, 'directory 750 ubuntu ubuntu\n');
});

t('drift: chmod by hand is one change, put back', async ({ h }) => {
  await h.check('chmod 0777 /srv/app/data');
  const { planned: first } = await changedThenNot(file, h.ctx(), { path: '/srv/app/data', state: 'directory', mode: '0750' });
  assert.equal(descriptions(first), ['mode 0777 → 0750 on /srv/app/data']);
  assert.is((await h.check('stat -c %a /srv/app/data')).stdout, '750\n');
});

t('touch: creates an empty file once; a re-run leaves its mtime alone', async ({ h }) => {
  await changedThenNot(file, h.ctx(), { path: '/srv/app/flag', state: 'touch', mode: '0600' });
  const before = (await h.check('stat -c "%s %a %Y" /srv/app/flag')).stdout;
  assert.match(before, /^0 600 \d+\n$/);
  assert.equal((await checkPlan(file, h.ctx(), { path: '/srv/app/flag', state: 'touch', mode: '0600' })).changes, []);
  assert.is((await h.check('stat -c "%s %a %Y" /srv/app/flag')).stdout, before);
});

t('file: fixes attributes of an existing file; a missing one is an error', async ({ h }) => {
  const { planned: first } = await changedThenNot(file, h.ctx(), { path: '/srv/app/flag', owner: 'ubuntu', mode: '0644' });
  assert.equal(descriptions(first), ['mode 0600 → 0644 on /srv/app/flag', 'owner root → ubuntu on /srv/app/flag']);
  assert.is((await h.check('stat -c "%a %U %G" /srv/app/flag')).stdout, '644 ubuntu root\n');
  await failsWith(checkPlan(file, h.ctx(), { path: '/srv/nope' }), /^\/srv\/nope does not exist/);
});

t('link: created, retargeted, then ok', async ({ h }) => {
  await changedThenNot(file, h.ctx(), { path: '/srv/current', state: 'link', src: '/srv/app' });
  assert.is((await h.check('readlink /srv/current')).stdout, '/srv/app\n');
  const { planned: first } = await changedThenNot(file, h.ctx(), { path: '/srv/current', state: 'link', src: '/srv/app/data' });
  assert.equal(descriptions(first), ['link /srv/current → /srv/app/data (was → /srv/app)']);
  assert.is((await h.check('readlink /srv/current')).stdout, '/srv/app/data\n');
});

t('absent: removes a tree, then ok', async ({ h }) => {
  await changedThenNot(file, h.ctx(), { path: '/srv/app', state: 'absent' });
  assert.is((await h.check('[ -e /srv/app ] && echo there || echo gone')).stdout, 'gone\n');
});

t('without become, a root-owned place is a clear failure', async ({ h }) => {
  await failsWith(apply(file, h.ctx({ become: false }), { path: '/etc/redis/x', state: 'directory' }), /^file \/etc\/redis\/x: creating the directory failed: mkdir: cannot create directory .*Permission denied/);
  assert.is((await h.check('[ -e /etc/redis/x ] && echo there || echo absent')).stdout, 'absent\n');
});

t('setuid: an owner change (chown clears the bit) keeps the wanted mode, and converges', async ({ h }) => {
  await h.check('install -d /srv/bin && printf "#!/bin/sh\\n" > /srv/bin/tool && chmod 04755 /srv/bin/tool');
  const { planned } = await changedThenNot(file, h.ctx(), { path: '/srv/bin/tool', owner: 'ubuntu', mode: '04755' });
  assert.equal(descriptions(planned), ['owner root → ubuntu on /srv/bin/tool']);
  assert.is((await h.check('stat -c "%a %U" /srv/bin/tool')).stdout, '4755 ubuntu\n');
});

t('apply runs the planned ops, not a new decision: a path that changed in between is not "fixed" by guessing', async ({ h }) => {
  // Planned while absent (mkdir); a file appears before apply: mkdir -p refuses, nothing is replaced.
  const args = { path: '/srv/race', state: 'directory' as const };
  const planned = await checkPlan(file, h.ctx(), args);
  assert.equal(planned.changes.map((c) => c.op), [{ kind: 'mkdir', path: '/srv/race' }]);
  await h.check('echo keep > /srv/race');
  await failsWith(Promise.resolve(file.apply!(h.ctx(), planned.changes.map((c) => c.op!) as FileOp[])), /^file \/srv\/race: creating the directory failed: mkdir: .*File exists/);
  assert.is((await h.check('cat /srv/race')).stdout, 'keep\n');
});

t.run();
