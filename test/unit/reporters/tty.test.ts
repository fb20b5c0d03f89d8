import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createReporter } from '../../../runner/reporters/reporter.js';
import { Secret } from '../../../runner/secret.js';
import { Capture, runScenario } from './capture.js';

// Under the test runner process.stdout is no terminal, so listr2 draws with its line renderer; the
// reporter's own logic (titles, kept host lines, ordering, recap, masking) is the same.
const results = {
  install: [
    ['node-1', { status: 'ok', msg: 'already installed' }],
    ['node-10', { status: 'changed', msg: 'installed redis-server' }],
  ],
  configure: [['node-1', { status: 'changed', msg: 'rendered', diff: '--- before: /a\n+++ after: /a\n' }]],
  restart: [['node-10', { status: 'failed', msg: 'redis-server exited 1' }]],
} as const satisfies Parameters<typeof runScenario>[1];

test('each task titled with its counts; changed/failed host lines kept; warning after its task; recap', async () => {
  const { out, err } = await runScenario({ tty: true, diff: true }, results);
  assert.match(out, 'TASK [Install redis] ok=1 changed=1');
  assert.match(out, 'RUNNING HANDLER [restart redis] failed=1');
  assert.match(out, '  changed: [node-10] => installed redis-server\n');
  assert.match(out, '  changed: [node-1] => rendered\n  --- before: /a\n  +++ after: /a\n');
  assert.match(out, '  failed: [node-10] => redis-server exited 1\n');
  // Kept lines skip plain ok results: the title already counts them.
  assert.not.match(out, '  ok: [node-1]');
  assert.ok(out.indexOf('Install redis') < out.indexOf('Configure redis'));
  assert.ok(out.indexOf('Configure redis') < out.indexOf('PLAY RECAP'));
  assert.match(out, /^node-10 ok=1 changed=0 failed=1 skipped=1 unreachable=0$/m);
  assert.is(err, '[WARNING]: node-10: dpkg lock held, waited 2 s\n');
});

test('results reported before listr2 has drawn the task are not lost', async () => {
  const out = new Capture(100);
  const r = createReporter({ json: false, tty: true, verbosity: 1, diff: false, out, err: new Capture() });
  r.playStart({ name: 'fast', hosts: ['a', 'b'] });
  for (const name of ['one', 'two']) {
    const t = { name, module: 'ping', handler: false };
    r.taskStart(t);
    r.hostResult(t, 'a', { status: 'ok', msg: `pong-${name}` });
    r.hostResult(t, 'b', { status: 'ok', msg: `pong-${name}` });
    r.taskEnd(t);
  }
  r.runEnd({ a: { ok: 2, changed: 0, failed: 0, skipped: 0, unreachable: 0 } });
  await r.close();
  assert.match(out.text, 'TASK [one] ok=2');
  assert.match(out.text, '  ok: [b] => pong-two\n');
  assert.match(out.text, /^a ok=2 changed=0/m);
});

test('a secret in a task name is masked in the live display too', async () => {
  const s = new Secret('Task-Name-Secret-987');
  const out = new Capture(100);
  const r = createReporter({ json: false, tty: true, verbosity: 0, diff: false, out, err: new Capture() });
  r.playStart({ name: 'p', hosts: ['a'] });
  const t = { name: `set password ${s.reveal()}`, module: 'set_fact', handler: false };
  r.taskStart(t);
  r.hostResult(t, 'a', { status: 'ok' });
  r.taskEnd(t);
  r.runEnd({ a: { ok: 1, changed: 0, failed: 0, skipped: 0, unreachable: 0 } });
  await r.close();
  assert.match(out.text, 'TASK [set password ********]');
  assert.not.match(out.text, 'Task-Name-Secret');
});

test('close() settles even when the engine never ended its task (it threw)', async () => {
  const out = new Capture(100);
  const r = createReporter({ json: false, tty: true, verbosity: 0, diff: false, out, err: new Capture() });
  r.playStart({ name: 'p', hosts: ['a'] });
  const t = { name: 'crashes', module: 'ping', handler: false };
  r.taskStart(t);
  r.hostResult(t, 'a', { status: 'failed', msg: 'engine blew up' });
  const settled = await Promise.race([r.close().then(() => 'closed'), new Promise((res) => setTimeout(res, 2000, 'hung').unref())]);
  assert.is(settled, 'closed');
  assert.match(out.text, 'failed: [a] => engine blew up');
});

test('a terminal that reports no width gets plain lines', async () => {
  const out = new Capture(0);
  const r = createReporter({ json: false, tty: true, verbosity: 0, diff: false, out, err: new Capture() });
  const t = { name: 't', module: 'ping', handler: false };
  r.playStart({ name: 'p', hosts: ['a'] });
  r.taskStart(t);
  r.hostResult(t, 'a', { status: 'ok' });
  r.taskEnd(t);
  await r.close();
  assert.match(out.text, 'TASK [t] *****');
  assert.match(out.text, '\nok: [a]\n');
});

test.run();
