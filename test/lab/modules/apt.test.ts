import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { apt } from '../../../modules/apt.js';
import { apply, changedThenNot, checkPlan } from '../../support/converge.js';
import { descriptions, failsWith, moduleHost, type ModuleHost } from './module-host.js';

// Lab hosts share the machine's dpkg database and lock: `hello` installed here is installed on the
// machine, and another test's apt run is a real lock holder. The tiny Debian package `hello` is used.
const t = suite<{ h: ModuleHost }>('apt on a lab host');

async function hello(h: ModuleHost): Promise<string> {
  return (await h.check('dpkg-query -W -f=\'${Status}\' hello 2>/dev/null | grep -q " installed$" && hello || echo "not installed"')).stdout;
}

/**
 * Hold the dpkg frontend lock for `seconds`, as unattended-upgrades would. The holder outlives the
 * command: SIGHUP is ignored before it is forked (the session hangs up what a command leaves behind).
 */
async function holdLock(h: ModuleHost, seconds: number): Promise<void> {
  await h.check(
    `trap '' HUP; python3 -c "import fcntl,time; f=open('/var/lib/dpkg/lock-frontend','w'); fcntl.lockf(f, fcntl.LOCK_EX); open('/tmp/locked','w').close(); time.sleep(${seconds})" > /dev/null 2>&1 &
     i=0; while [ ! -e /tmp/locked ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; rm -f /tmp/locked`,
  );
}

t.before(async (c) => {
  c.h = await moduleHost();
  // Start from "not installed", whatever an earlier run left.
  const r = await c.h.check('DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=120 remove hello >/dev/null 2>&1; echo $?');
  assert.is(r.stdout, '0\n');
});
t.after(async (c) => {
  if (c.h) await c.h.check('DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=120 remove hello >/dev/null 2>&1');
  await c.h?.close();
});

t('present with a cache refresh: installs, then ok', async ({ h }) => {
  const args = { name: 'hello', state: 'present' as const, update_cache: true, cache_valid_time: 86400 };
  const { planned: first, result } = await changedThenNot(apt, h.ctx(), args);
  assert.ok(descriptions(first).includes('install hello'), descriptions(first).join('; '));
  assert.equal(result?.result?.packages, ['hello']);
  assert.is((await checkPlan(apt, h.ctx(), args)).msg, 'hello installed');
  assert.is(await hello(h), 'Hello, world!\n');
});

t('absent while another process holds the dpkg lock: waits for it, then removes', async ({ h }) => {
  await holdLock(h, 4);
  const t0 = Date.now();
  const { planned: first } = await changedThenNot(apt, h.ctx(), { name: ['hello'], state: 'absent', lock_timeout: 60 });
  const waited = (Date.now() - t0) / 1000;
  assert.equal(descriptions(first), ['remove hello']);
  assert.ok(waited >= 2.5, `apt finished after ${waited} s, before the lock was released`);
  assert.is(await hello(h), 'not installed\n');
});

t('a lock held beyond lock_timeout: a clear error, nothing installed', async ({ h }) => {
  await holdLock(h, 3);
  await failsWith(
    apply(apt, h.ctx(), { name: 'hello', lock_timeout: 1 }),
    /^apt install hello failed: \/var\/lib\/dpkg\/lock-frontend is held by \S+ \(pid \d+\) and was not released within lock_timeout 1 s/,
  );
  assert.is(await hello(h), 'not installed\n');
});

t('latest: installs the candidate version, then ok', async ({ h }) => {
  await changedThenNot(apt, h.ctx(), { name: 'hello', state: 'latest', lock_timeout: 60 });
  assert.is((await checkPlan(apt, h.ctx(), { name: 'hello', state: 'latest' })).msg, 'hello at the newest version');
  const v = (await h.check("dpkg-query -W -f='${Version}' hello; echo; LC_ALL=C apt-cache policy hello | sed -n 's/^ *Candidate: //p'")).stdout.split('\n');
  assert.is(v[0], v[1]);
  assert.equal((await checkPlan(apt, h.ctx(), { name: 'hello' })).changes, []);
});

t.run();
