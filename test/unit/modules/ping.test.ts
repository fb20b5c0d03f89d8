import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ping } from '../../../modules/ping.js';
import { ModuleError, type ModuleContext } from '../../../runner/types.js';

const answering = (stdout: string, rc = 0) =>
  ({ conn: { sh: async () => ({ rc, stdout, stderr: rc ? 'sudo: a password is required' : '' }) } }) as unknown as ModuleContext;

test('pong after one round trip; a shell that does not answer is an error', async () => {
  assert.equal(ping.plan({}, await ping.gather(answering('pong\n'), {})), { changes: [], msg: 'pong', result: { ping: 'pong' } });
  try {
    await ping.gather(answering('', 1), {});
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ModuleError);
    assert.is((e as ModuleError).message, 'ping: host answered rc 1: sudo: a password is required');
  }
});

test.run();
