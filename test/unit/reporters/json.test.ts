import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runScenario } from './capture.js';

const results = {
  install: [
    ['node-1', { status: 'ok', msg: 'already installed' }],
    ['node-10', { status: 'changed', msg: 'installed redis-server', registered: { rc: 0 } }],
  ],
  configure: [
    ['node-1', { status: 'changed', diff: '--- before: /a\n+++ after: /a\n' }],
    ['node-10', { status: 'skipped' }],
  ],
  restart: [['node-1', { status: 'failed', msg: 'redis-server exited 1' }]],
} as const satisfies Parameters<typeof runScenario>[1];

test('--json: exactly one JSON document on stdout, with the documented shape', async () => {
  const { out, err } = await runScenario({ json: true, verbosity: 2, diff: true }, results);
  assert.is(out.trimEnd().split('\n').length, 1, 'one line, one document');
  assert.equal(JSON.parse(out), {
    plays: [
      {
        name: 'Redis',
        hosts: ['node-1', 'node-10'],
        tasks: [
          {
            name: 'Install redis',
            module: 'apt',
            results: {
              'node-1': { status: 'ok', msg: 'already installed' },
              'node-10': { status: 'changed', msg: 'installed redis-server' },
            },
          },
          {
            name: 'Configure redis',
            module: 'template',
            results: {
              'node-1': { status: 'changed', msg: '', diff: '--- before: /a\n+++ after: /a\n' },
              'node-10': { status: 'skipped', msg: '' },
            },
          },
          {
            name: 'restart redis',
            module: 'service',
            results: { 'node-1': { status: 'failed', msg: 'redis-server exited 1' } },
          },
        ],
      },
    ],
    stats: {
      'node-1': { ok: 3, changed: 2, failed: 0, skipped: 0, unreachable: 0 },
      'node-10': { ok: 1, changed: 0, failed: 1, skipped: 1, unreachable: 0 },
    },
  });
  assert.is(err, '[WARNING]: node-10: dpkg lock held, waited 2 s\n');
});

test('--json wins over a terminal: still one document, no progress drawing', async () => {
  const { out } = await runScenario({ json: true, tty: true }, results);
  assert.is(out.trimEnd().split('\n').length, 1);
  assert.is(JSON.parse(out).plays[0].tasks.length, 3);
});

test('nothing is written to stdout before the run ends', async () => {
  const { Capture } = await import('./capture.js');
  const { createReporter } = await import('../../../runner/reporters/reporter.js');
  const out = new Capture();
  const r = createReporter({ json: true, tty: false, verbosity: 0, diff: false, out, err: new Capture() });
  r.playStart({ name: 'p', hosts: ['h'] });
  r.taskStart({ name: 't', module: 'ping', handler: false });
  r.hostResult({ name: 't', module: 'ping', handler: false }, 'h', { status: 'ok', msg: 'pong' });
  r.taskEnd({ name: 't', module: 'ping', handler: false });
  assert.is(out.text, '');
  r.runEnd({ h: { ok: 1, changed: 0, failed: 0, skipped: 0, unreachable: 0 } });
  assert.equal(JSON.parse(out.text).stats, { h: { ok: 1, changed: 0, failed: 0, skipped: 0, unreachable: 0 } });
});

test.run();
