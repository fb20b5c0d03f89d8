import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { command } from '../../../modules/command.js';
import { shell } from '../../../modules/shell.js';
import { apply, changedThenNot, checkPlan } from '../../support/converge.js';
import { descriptions, failsWith, moduleHost, type ModuleHost } from './module-host.js';

const t = suite<{ h: ModuleHost }>('command and shell on a lab host');
t.before(async (c) => {
  c.h = await moduleHost();
});
t.after(async (c) => {
  await c.h?.close();
});

t('command with creates: runs once (no shell: $HOME and > are literal words), then not again', async ({ h }) => {
  const args = { cmd: `sh -c 'printf "%s|" "$@" > /srv/out' x "a b" '$HOME' '>'`, creates: '/srv/out' };
  const { planned: first, result: applied } = await changedThenNot(command, h.ctx(), args);
  assert.equal(descriptions(first), [`run: sh -c 'printf "%s|" "$@" > /srv/out' x 'a b' '$HOME' '>'`]);
  assert.is(applied?.result?.rc, 0);
  assert.is((await h.check('cat /srv/out')).stdout, 'a b|$HOME|>|');
  assert.is((await checkPlan(command, h.ctx(), args)).msg, 'not run: /srv/out exists');
});

t('command: argv, chdir, stdin; result has rc, stdout, stdout_lines', async ({ h }) => {
  const args = { argv: ['sh', '-c', 'pwd; cat; echo err >&2'], chdir: '/srv', stdin: 'line1\nline2\n' };
  const r = await apply(command, h.ctx(), args);
  assert.equal(r.result?.result, {
    cmd: "sh -c 'pwd; cat; echo err >&2'",
    rc: 0,
    stdout: '/srv\nline1\nline2',
    stderr: 'err',
    stdout_lines: ['/srv', 'line1', 'line2'],
    stderr_lines: ['err'],
  });
});

t('a nonzero exit is a failure with the stderr tail; become: false runs as the login user', async ({ h }) => {
  const args = { cmd: `sh -c 'id -un; echo "no such thing" >&2; exit 3'` };
  const e = await failsWith(apply(command, h.ctx({ become: false }), args), /: exit code 3\nno such thing$/);
  assert.is((e as unknown as { result: { stdout: string } }).result.stdout, 'ubuntu');
});

t('shell with removes: pipes and variables work; runs while the input exists, then not', async ({ h }) => {
  await h.check('echo 3 > /srv/in');
  const args = { cmd: 'n=$(cat /srv/in); echo "$((n * 2))" | tee /srv/doubled && rm /srv/in', removes: '/srv/in' };
  const { result: applied } = await changedThenNot(shell, h.ctx(), args);
  assert.is(applied?.result?.stdout, '6');
  assert.is((await checkPlan(shell, h.ctx(), args)).msg, 'not run: /srv/in does not exist');
  assert.is((await h.check('cat /srv/doubled')).stdout, '6\n');
});

t('shell: chdir and a failing script', async ({ h }) => {
  const args = { cmd: 'pwd; false', chdir: '/etc/redis' };
  await failsWith(apply(shell, h.ctx(), args), /^pwd; false: exit code 1\n\/etc\/redis$/);
});

t.run();
