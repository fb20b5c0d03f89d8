import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copy } from '../../../modules/copy.js';
import { NotYetThere } from '../../../runner/types.js';
import type { DestOp } from '../../../modules/files/file-content.js';
import { apply, changedThenNot, checkPlan } from '../../support/converge.js';
import { descriptions, failsWith, moduleHost, type ModuleHost } from './module-host.js';

const t = suite<{ h: ModuleHost; project: string }>('copy on a lab host');
t.before(async (c) => {
  c.h = await moduleHost();
  c.project = mkdtempSync(join(tmpdir(), 'rplay-copy-'));
  mkdirSync(join(c.project, 'files'));
  // Every byte value, to show binary content travels intact.
  writeFileSync(join(c.project, 'files', 'blob.bin'), Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
});
t.after(async (c) => {
  rmSync(c.project, { recursive: true, force: true });
  await c.h?.close();
});

const PW = `p&ss<w>"rd'`;

t('content: created with mode and owner, bytes verbatim, then ok', async ({ h }) => {
  const args = { dest: '/etc/redis/users.acl', content: `user app on >${PW}\n`, mode: '0640', owner: 'ubuntu', group: 'root' };
  const { planned: first } = await changedThenNot(copy, h.ctx(), args);
  assert.equal(first.changes.map(({ op: _, ...c }) => c), [
    {
      description: 'create /etc/redis/users.acl (mode 0640, owner ubuntu, group root)',
      diff: { path: '/etc/redis/users.acl', before: '', after: `user app on >${PW}\n` },
    },
  ]);
  assert.is((await h.check('stat -c "%a %U %G" /etc/redis/users.acl; cat /etc/redis/users.acl')).stdout, `640 ubuntu root\nuser app on >${PW}\n`);
});

t('mode changed by hand: one change, no diff, content untouched', async ({ h }) => {
  await h.check('chmod 0644 /etc/redis/users.acl');
  const { planned: first } = await changedThenNot(copy, h.ctx(), { dest: '/etc/redis/users.acl', content: `user app on >${PW}\n`, mode: '0640' });
  assert.equal(first.changes, [{ description: 'mode 0644 → 0640 on /etc/redis/users.acl', op: { kind: 'attrs', path: '/etc/redis/users.acl', mode: '0640' } }]);
  assert.is((await h.check('stat -c %a /etc/redis/users.acl')).stdout, '640\n');
});

t('content edited by hand: diff shows the edit; backup keeps the old bytes; attributes kept', async ({ h }) => {
  await h.check(`printf 'user app on >tampered\\n' > /etc/redis/users.acl`);
  const { planned: first, result: applied } = await changedThenNot(copy, h.ctx(), { dest: '/etc/redis/users.acl', content: `user app on >${PW}\n`, backup: true });
  assert.equal(first.changes.map(({ op: _, ...c }) => c), [
    {
      description: 'content of /etc/redis/users.acl differs',
      diff: { path: '/etc/redis/users.acl', before: 'user app on >tampered\n', after: `user app on >${PW}\n` },
    },
  ]);
  const backup = String(applied && applied.result?.backup_file);
  assert.match(backup, /^\/etc\/redis\/users\.acl\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$/);
  assert.is((await h.check('cat "$1"', [backup])).stdout, 'user app on >tampered\n');
  assert.is((await h.check('stat -c "%a %U" /etc/redis/users.acl; cat /etc/redis/users.acl')).stdout, `640 ubuntu\nuser app on >${PW}\n`);
});

t('src from the project files/ folder: binary bytes intact, a trailing-slash dest takes the name', async ({ h, project }) => {
  const { planned: first } = await changedThenNot(copy, h.ctx({ projectDir: project }), { src: 'blob.bin', dest: '/srv/' });
  assert.equal(descriptions(first), ['create /srv/blob.bin']);
  assert.is((await h.check('wc -c < /srv/blob.bin; sha256sum < /srv/blob.bin | cut -d" " -f1')).stdout, `256\n${'40aff2e9d2d8922e47afd4648e6967497158785fbd1da870e7110266bf944880'}\n`);
  await h.check(`printf 'x' | dd of=/srv/blob.bin bs=1 seek=10 conv=notrunc 2>/dev/null`);
  const drift = await checkPlan(copy, h.ctx({ projectDir: project }), { src: 'blob.bin', dest: '/srv/' });
  assert.equal(descriptions(drift), ['content of /srv/blob.bin differs (binary or large: no diff)']);
  assert.equal(drift.changes[0].diff, undefined);
});

t('a controller file changed between plan and apply is refused: the host keeps what it had', async ({ h, project }) => {
  const ctx = h.ctx({ projectDir: project });
  writeFileSync(join(project, 'files', 'app.conf'), 'port 1\n');
  await apply(copy, ctx, { src: 'app.conf', dest: '/srv/app.conf' });
  writeFileSync(join(project, 'files', 'app.conf'), 'port 2\n');
  const planned = await checkPlan(copy, ctx, { src: 'app.conf', dest: '/srv/app.conf' });
  assert.equal(descriptions(planned), ['content of /srv/app.conf differs']);
  // Same size, other bytes: only the hash tells them apart.
  writeFileSync(join(project, 'files', 'app.conf'), 'port 3\n');
  const ops = planned.changes.map((c) => c.op) as DestOp[];
  await failsWith(
    Promise.resolve(copy.apply!(ctx, ops)),
    /^writing \/srv\/app\.conf on node-1 failed: the bytes that arrived are not the planned ones \(sha256 differs: did the source change since it was planned\?\)$/,
  );
  assert.is((await h.check('cat /srv/app.conf')).stdout, 'port 1\n');
  rmSync(join(project, 'files', 'app.conf'));
  await h.check('rm /srv/app.conf');
});

t('a missing src names the file looked for; a missing parent folder or owner is "not there yet", named, and leaves nothing', async ({ h, project }) => {
  await failsWith(checkPlan(copy, h.ctx({ projectDir: project }), { src: 'nope.txt', dest: '/srv/x' }), /^copy: cannot read src .*\/files\/nope\.txt: ENOENT$/);
  const folder = await failsWith(checkPlan(copy, h.ctx(), { dest: '/srv/no/such/dir/f', content: 'x' }), /^the folder \/srv\/no\/such\/dir of \/srv\/no\/such\/dir\/f does not exist$/);
  assert.instance(folder, NotYetThere);
  assert.is((folder as NotYetThere).missing, 'folder /srv/no/such/dir');
  const owner = await failsWith(checkPlan(copy, h.ctx(), { dest: '/srv/y', content: 'x', owner: 'rplay-nosuchuser' }), /^owner rplay-nosuchuser of \/srv\/y is not a user on this host$/);
  assert.is((owner as NotYetThere).missing, 'user rplay-nosuchuser');
  await failsWith(checkPlan(copy, h.ctx(), { dest: '/srv/y', content: 'x', group: 'rplay-nosuchgroup' }), /^group rplay-nosuchgroup of \/srv\/y is not a group on this host$/);
  // Numeric ids need no user: chown takes them as they are.
  assert.equal((await checkPlan(copy, h.ctx(), { dest: '/srv/y', content: 'x', owner: '4321' })).changes.length, 1);
  assert.is((await h.check('ls -A /srv')).stdout, 'blob.bin\n');
});

t.run();
