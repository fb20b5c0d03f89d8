import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../../../modules/wait-for.js';

test('already in the wanted state: ok; otherwise one change (the wait), with defaults named', () => {
  assert.equal(waitFor.plan({ port: 6379 }, { state: 'started' }).changes, []);
  assert.is(waitFor.plan({ port: 6379 }, { state: 'started' }).msg, '127.0.0.1:6379 is started');
  assert.equal(waitFor.plan({ port: 6379, host: '10.0.0.5' }, { state: 'stopped' }).changes, [
    { description: 'wait up to 300 s for 10.0.0.5:6379 to be started' },
  ]);
  assert.equal(waitFor.plan({ port: 1, state: 'stopped', timeout: 5 }, { state: 'started' }).changes, [
    { description: 'wait up to 5 s for 127.0.0.1:1 to be stopped' },
  ]);
});

test.run();
