import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { debug } from '../../../modules/debug.js';
import { Secret } from '../../../runner/secret.js';
import type { ModuleContext } from '../../../runner/types.js';

const ctx = { evaluate: (e: string) => ({ nodes: ['a', 'b'], pw: new Secret('hunter22') })[e] } as unknown as ModuleContext;

test('msg is shown as given; var shows the value as JSON, secrets masked', async () => {
  assert.equal(debug.plan({ msg: 'hello' }, await debug.gather(ctx, { msg: 'hello' })), { changes: [], msg: 'hello', result: { msg: 'hello' } });
  const nodes = debug.plan({ var: 'nodes' }, await debug.gather(ctx, { var: 'nodes' }));
  assert.is(nodes.msg, 'nodes = [\n  "a",\n  "b"\n]');
  assert.equal(nodes.result, { nodes: ['a', 'b'] });
  assert.is(debug.plan({ var: 'pw' }, await debug.gather(ctx, { var: 'pw' })).msg, 'pw = "********"');
});

test.run();
