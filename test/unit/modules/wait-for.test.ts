import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../../../modules/wait-for.js';

test('already in the wanted state: ok; otherwise one change (the wait), with defaults named', () => {
  assert.equal(waitFor.plan({ port: 6379 }, { state: 'started' }).changes, []);
  assert.is(waitFor.plan({ port: 6379 }, { state: 'started' }).msg, '127.0.0.1:6379 is started');
  // The wait is an operation (a poll bounded by the timeout, on the host); waiting alone changes nothing.
  assert.equal(waitFor.plan({ port: 6379, host: '10.0.0.5' }, { state: 'stopped' }).changes, [
    {
      description: 'wait up to 300 s for 10.0.0.5:6379 to be started',
      waitOnly: true,
      op: { kind: 'wait', host: '10.0.0.5', port: 6379, state: 'started', timeoutMs: 300000, delaySeconds: 0 },
    },
  ]);
  assert.equal(waitFor.plan({ port: 1, state: 'stopped', timeout: 0.5, delay: 2 }, { state: 'started' }).changes, [
    {
      description: 'wait up to 0.5 s for 127.0.0.1:1 to be stopped',
      waitOnly: true,
      op: { kind: 'wait', host: '127.0.0.1', port: 1, state: 'stopped', timeoutMs: 500, delaySeconds: 2 },
    },
  ]);
});

test.run();
