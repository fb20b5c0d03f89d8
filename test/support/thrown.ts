import * as assert from 'uvu/assert';

/** The error `fn` throws, asserted to be a `type` (uvu's assert.throws does not hand it back). */
export function thrown<E extends Error>(fn: () => unknown, type: new (...a: never[]) => E): E {
  try {
    fn();
  } catch (e) {
    assert.instance(e, type);
    return e as E;
  }
  throw new Error(`expected a ${type.name}`);
}
