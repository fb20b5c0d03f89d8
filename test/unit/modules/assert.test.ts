import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assert as assertModule } from '../../../modules/assert.js';
import { ModuleError, type ModuleContext } from '../../../runner/types.js';

// assert never touches the host: only evaluate() is used.
const ctx = (values: Record<string, unknown>) => ({ evaluate: (e: string) => { if (!(e in values)) throw new Error(`undefined variable '${e}'`); return values[e]; } }) as unknown as ModuleContext;

test('all true: ok with the success message', async () => {
  const args = { that: ['a', 'b'], success_msg: 'cluster healthy' };
  const v = await assertModule.gather(ctx({ a: true, b: 1 }), args);
  assert.equal(assertModule.plan(args, v), { changes: [], msg: 'cluster healthy' });
  assert.is(assertModule.plan({ that: 'a' }, await assertModule.gather(ctx({ a: true }), { that: 'a' })).msg, 'all assertions passed');
});

test('a false expression fails, naming it, with fail_msg first', async () => {
  const args = { that: ['a', 'cluster_state == "ok"'], fail_msg: 'cluster not ready' };
  const v = await assertModule.gather(ctx({ a: true, 'cluster_state == "ok"': false }), args);
  try {
    assertModule.plan(args, v);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ModuleError);
    assert.is((e as ModuleError).message, 'cluster not ready (assertion failed: cluster_state == "ok")');
    assert.equal((e as ModuleError).result, { assertion: 'cluster_state == "ok"', evaluated_to: false });
  }
  assert.is(assertModule.rawArgs?.includes('that'), true);
});

test('values are judged as when: judges them: "false", "no", [] and {} do not hold; another string is an error', async () => {
  for (const value of ['false', ' No ', '0', '', [], {}, 0, null]) {
    const v = await assertModule.gather(ctx({ a: value }), { that: 'a' });
    try {
      assertModule.plan({ that: 'a' }, v);
      assert.unreachable(`${JSON.stringify(value)} must not hold`);
    } catch (e) {
      assert.instance(e, ModuleError);
      assert.is((e as ModuleError).message, 'assertion failed: a');
    }
  }
  for (const value of ['yes', 'TRUE', '1', [0], { k: 1 }, 2]) {
    assert.is(assertModule.plan({ that: 'a' }, await assertModule.gather(ctx({ a: value }), { that: 'a' })).msg, 'all assertions passed');
  }
  try {
    await assertModule.gather(ctx({ a: 'maybe' }), { that: 'a' });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ModuleError);
    assert.match((e as ModuleError).message, "assert: cannot evaluate 'a': condition 'a' tests the string 'maybe', which is neither true");
  }
});

test('an expression that cannot be evaluated is a module error naming it', async () => {
  try {
    await assertModule.gather(ctx({}), { that: 'nope' });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ModuleError);
    assert.is((e as ModuleError).message, "assert: cannot evaluate 'nope': undefined variable 'nope'");
  }
});

test.run();
