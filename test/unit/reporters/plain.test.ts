import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderDiff } from '../../../runner/reporters/render-diff.js';
import { runScenario } from './capture.js';

const diff = renderDiff([{ path: '/etc/redis/redis.conf', before: 'port 6379\n', after: 'port 6380\n' }]);

const results = {
  install: [
    ['node-1', { status: 'ok', msg: 'already installed' }],
    ['node-10', { status: 'changed', msg: 'installed redis-server' }],
  ],
  configure: [
    ['node-1', { status: 'changed', msg: 'rendered', diff, registered: { changed: true, dest: '/etc/redis/redis.conf' } }],
    ['node-10', { status: 'skipped', msg: 'when: false' }],
  ],
  restart: [
    ['node-1', { status: 'failed', msg: 'redis-server exited 1' }],
    ['node-10', { status: 'unreachable', msg: 'connect ECONNREFUSED 127.0.1.10:22' }],
  ],
} as const satisfies Parameters<typeof runScenario>[1];

const stars = (text: string): string => `${text} ${'*'.repeat(79 - text.length - 1)}`;

test('Ansible-like lines: banners, one line per host, message when changed/failed/unreachable, recap', async () => {
  const { out, err } = await runScenario({}, results);
  assert.is(
    out,
    [
      '',
      stars('PLAY [Redis]'),
      '',
      stars('TASK [Install redis]'),
      'ok: [node-1]',
      'changed: [node-10] => installed redis-server',
      '',
      stars('TASK [Configure redis]'),
      'changed: [node-1] => rendered',
      'skipped: [node-10]',
      '',
      stars('RUNNING HANDLER [restart redis]'),
      'failed: [node-1] => redis-server exited 1',
      'unreachable: [node-10] => connect ECONNREFUSED 127.0.1.10:22',
      '',
      stars('PLAY RECAP'),
      'node-1  ok=3 changed=2 failed=0 skipped=0 unreachable=0',
      'node-10 ok=1 changed=0 failed=1 skipped=1 unreachable=0',
      '',
    ].join('\n'),
  );
  assert.is(err, '[WARNING]: node-10: dpkg lock held, waited 2 s\n');
});

test('recap line: the host name, then ok changed failed skipped unreachable counts', async () => {
  const { out } = await runScenario({}, results);
  assert.match(out, /^node-1 +ok=3 changed=2 failed=0 skipped=0 unreachable=0$/m);
});

test('-v shows every message; --diff prints the diff under its host line', async () => {
  const { out } = await runScenario({ verbosity: 1, diff: true }, results);
  assert.match(out, 'ok: [node-1] => already installed\n');
  assert.match(out, 'skipped: [node-10] => when: false\n');
  assert.match(
    out,
    'changed: [node-1] => rendered\n--- before: /etc/redis/redis.conf\n+++ after: /etc/redis/redis.conf\n@@ -1,1 +1,1 @@\n-port 6379\n+port 6380\nskipped: [node-10]',
  );
  assert.not.match(out, '"dest"');
});

test('without --diff no diff is printed, even when the result carries one', async () => {
  const { out } = await runScenario({}, results);
  assert.not.match(out, '+++ after');
});

test('-vv adds the registered result as JSON', async () => {
  const { out } = await runScenario({ verbosity: 2 }, results);
  assert.match(out, 'changed: [node-1] => rendered\n{\n  "changed": true,\n  "dest": "/etc/redis/redis.conf"\n}\n');
});

test.run();
