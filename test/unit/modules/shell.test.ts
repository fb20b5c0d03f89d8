import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { shell } from '../../../modules/shell.js';

test('plan: one change naming the script, unless creates/removes say the work is done', () => {
  assert.equal(shell.plan({ cmd: 'echo $HOME | tee /tmp/h' }, {}).changes, [
    { description: 'run: echo $HOME | tee /tmp/h', op: { kind: 'sh', script: 'echo $HOME | tee /tmp/h' } },
  ]);
  assert.equal(shell.plan({ cmd: 'cat', chdir: '/srv', stdin: 'in\n' }, {}).changes.map((c) => c.op), [{ kind: 'sh', script: 'cat', chdir: '/srv', stdin: 'in\n' }]);
  assert.equal(shell.plan({ cmd: 'x', creates: '/done' }, { creates: true }), { changes: [], msg: 'not run: /done exists' });
  assert.equal(shell.plan({ cmd: 'x', removes: '/in' }, { removes: false }), { changes: [], msg: 'not run: /in does not exist' });
  assert.is(shell.opaque, true);
});

test.run();
