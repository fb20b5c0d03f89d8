import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setFact } from '../../../modules/set-fact.js';

test('args become facts; nothing changes on the host', () => {
  const p = setFact.plan({ leader: 'node-1', ports: [6379, 16379] }, undefined);
  assert.equal(p.changes, []);
  assert.equal(p.setVars, { leader: 'node-1', ports: [6379, 16379] });
});

test.run();
