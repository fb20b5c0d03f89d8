import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { apt, lockError, parseAptGather, type AptState } from '../../../modules/apt.js';

const GATHERED = `--installed--
redis-server install ok installed 5:7.0.15-1~deb12u1
oldpkg deinstall ok config-files 1.0
--policy--
redis-server:
  Installed: 5:7.0.15-1~deb12u1
  Candidate: 5:7.0.15-1~deb12u2
  Version table:
hello:
  Installed: (none)
  Candidate: 2.10-3
--cache--
1700003600
1700000000
`;

const state = (over: Partial<AptState> = {}): AptState => ({ installed: {}, candidate: {}, now: 1_700_003_600, cacheTime: 1_700_000_000, ...over });
const descs = (args: Parameters<typeof apt.plan>[0], s: AptState) => apt.plan(args, s).changes.map((c) => c.description);

test('parseAptGather: installed versions (config-files is not installed), candidates, cache times', () => {
  assert.equal(parseAptGather(GATHERED), {
    installed: { 'redis-server': '5:7.0.15-1~deb12u1' },
    candidate: { 'redis-server': '5:7.0.15-1~deb12u2', hello: '2.10-3' },
    now: 1_700_003_600,
    cacheTime: 1_700_000_000,
  });
});

test('present: installs only what is missing; ok when all installed', () => {
  const s = state({ installed: { a: '1' } });
  assert.equal(descs({ name: ['a', 'b', 'c'] }, s), ['install b, c']);
  const ok = apt.plan({ name: 'a' }, s);
  assert.equal(ok.changes, []);
  assert.is(ok.msg, 'a installed');
});

test('absent: removes only what is installed', () => {
  assert.equal(descs({ name: ['a', 'b'], state: 'absent' }, state({ installed: { b: '2' } })), ['remove b']);
  assert.is(apt.plan({ name: 'a', state: 'absent' }, state()).msg, 'a not installed');
});

test('latest: installs missing, upgrades older than the candidate', () => {
  const s = state({ installed: { a: '1', b: '2' }, candidate: { a: '1.1', b: '2', c: '3' } });
  assert.equal(descs({ name: ['a', 'b', 'c'], state: 'latest' }, s), ['install c', 'upgrade a 1 → 1.1']);
  assert.is(apt.plan({ name: 'b', state: 'latest' }, s).msg, 'b at the newest version');
});

test('update_cache with cache_valid_time: refresh only when older than that', () => {
  const s = state({ installed: { a: '1' } }); // cache is 3600 s old
  assert.equal(descs({ name: 'a', update_cache: true, cache_valid_time: 7200 }, s), []);
  assert.equal(descs({ name: 'a', update_cache: true, cache_valid_time: 600 }, s), ['update apt cache (last refreshed 3600 s ago)']);
  assert.equal(descs({ update_cache: true, cache_valid_time: 600 }, state({ cacheTime: 0 })), ['update apt cache (never refreshed)']);
});

test('update_cache without cache_valid_time: refreshed before installing, not on its own when converged', () => {
  assert.equal(descs({ name: 'a', update_cache: true }, state({ installed: { a: '1' } })), []);
  assert.equal(descs({ name: 'b', update_cache: true }, state()), ['install b']);
  assert.equal(descs({ update_cache: true }, state()), ['update apt cache']);
});

test('the operations are the exact package sets, the refresh before them, and the lock timeout', () => {
  const ops = (args: Parameters<typeof apt.plan>[0], s: AptState) => apt.plan(args, s).changes.map((c) => c.op);
  const s = state({ installed: { a: '1', b: '2' }, candidate: { a: '1.1', b: '2', c: '3' } });
  assert.equal(ops({ name: ['a', 'b', 'c'], state: 'latest', update_cache: true, lock_timeout: 9 }, s), [
    { kind: 'install', packages: ['c'], updateFirst: true, lockTimeout: 9 },
    { kind: 'install', packages: ['a'], updateFirst: false, lockTimeout: 9 },
  ]);
  // An old cache is its own change; the install after it does not refresh again.
  assert.equal(ops({ name: ['d'], update_cache: true, cache_valid_time: 60 }, s), [
    { kind: 'update', lockTimeout: 300 },
    { kind: 'install', packages: ['d'], updateFirst: false, lockTimeout: 300 },
  ]);
  assert.equal(ops({ name: ['a', 'b', 'x'], state: 'absent' }, s), [{ kind: 'remove', packages: ['a', 'b'], updateFirst: false, lockTimeout: 300 }]);
  assert.equal(ops({ update_cache: true }, s), [{ kind: 'update', lockTimeout: 300 }]);
});

test('lockError: names the lock, its holder and the timeout; other failures are not lock errors', () => {
  const stderr = `Waiting for cache lock: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 12298 (python3)...
E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?`;
  assert.is(
    lockError(stderr, 2),
    '/var/lib/dpkg/lock-frontend is held by python3 (pid 12298) and was not released within lock_timeout 2 s (another apt/dpkg run such as unattended-upgrades is busy; retry later or raise lock_timeout)',
  );
  assert.is(lockError('E: Unable to locate package nosuch', 2), undefined);
});

test.run();
