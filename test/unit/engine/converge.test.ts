// The engine's module core: apply receives exactly the plan's operations (after a round trip
// through their encoding), a replanning module is gathered again until nothing is left, a module
// that makes no progress fails instead of spinning, and check mode applies nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Type } from '@sinclair/typebox';
import { converge } from '../../../runner/execution/converge.js';
import { fingerprint } from '../../../runner/execution/fingerprint.js';
import { decodeOperations, encodeOperations, OperationEncodingError } from '../../../runner/execution/operations.js';
import { Secret } from '../../../runner/secret.js';
import { defineModule, ModuleError, type ModuleContext, type Operation } from '../../../runner/types.js';

interface Step extends Operation {
  kind: 'set';
  to: number;
  bytes: Buffer;
}

/** A counter "host": each plan moves it one step towards `want`, and replans while it is short. */
function counter(opts: { stuck?: boolean } = {}) {
  const host = { n: 0, received: [] as Step[][] };
  const mod = defineModule({
    name: 'counter',
    schema: Type.Object({ want: Type.Number() }),
    async gather() {
      return { n: host.n };
    },
    plan(args, actual) {
      if (actual.n >= args.want) return { changes: [], msg: `at ${actual.n}` };
      const to = actual.n + 1;
      return { changes: [{ description: `${actual.n} → ${to}`, op: { kind: 'set', to, bytes: Buffer.from([0, 255, to]) } as Step }], replan: true };
    },
    async apply(_ctx, ops) {
      host.received.push([...ops]);
      if (!opts.stuck) for (const op of ops) host.n = op.to;
      return { result: { n: host.n } };
    },
  });
  return { host, mod };
}

const ctx = {} as ModuleContext;
const wire = (ops: readonly Operation[]) => decodeOperations(encodeOperations(ops));

test('changed, then not changed: apply gets the encoded-and-decoded operations, step by step until settled', async () => {
  const { host, mod } = counter();
  const first = await converge(mod, ctx, { want: 3 }, { check: false, transport: wire });
  assert.equal(first.planned.changes.map((c) => c.description), ['0 → 1']);
  assert.equal(first.applied.map((c) => c.description), ['0 → 1', '1 → 2', '2 → 3']);
  assert.equal(host.received.map((ops) => ops.map((o) => [o.kind, o.to, [...o.bytes]])), [[['set', 1, [0, 255, 1]]], [['set', 2, [0, 255, 2]]], [['set', 3, [0, 255, 3]]]]);
  assert.ok(Buffer.isBuffer(host.received[0][0].bytes), 'bytes arrive as bytes');
  const second = await converge(mod, ctx, { want: 3 }, { check: false, transport: wire });
  assert.equal(second.planned.changes, []);
  assert.equal(second.applied, []);
  assert.is(host.received.length, 3);
});

test('check mode plans and applies nothing', async () => {
  const { host, mod } = counter();
  const r = await converge(mod, ctx, { want: 2 }, { check: true });
  assert.equal(r.planned.changes.map((c) => c.description), ['0 → 1']);
  assert.equal(host.received, []);
  assert.is(host.n, 0);
});

test('a module whose operations leave the state as it was fails, once, instead of looping', async () => {
  const { host, mod } = counter({ stuck: true });
  try {
    await converge(mod, ctx, { want: 2 }, { check: false });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ModuleError);
    assert.match((e as Error).message, /left the state as it was/);
  }
  assert.is(host.received.length, 1);
});

test('only data survives encoding: functions, class instances, NaN and holes are refused by name', () => {
  const refused = (op: unknown, re: RegExp) => {
    try {
      encodeOperations([op as Operation]);
      assert.unreachable();
    } catch (e) {
      assert.instance(e, OperationEncodingError);
      assert.match((e as Error).message, re);
    }
  };
  refused({ kind: 'x', run: () => 1 }, /operation 1 \(x\)\.run: a function is not data/);
  refused({ kind: 'x', at: new Date(0) }, /\.at: a Date is not data/);
  refused({ kind: 'x', m: new Map() }, /\.m: a Map is not data/);
  refused({ kind: 'x', n: Number.NaN }, /\.n: NaN is not data/);
  refused({ kind: 'x', list: [1, undefined] }, /\.list\[1\]: undefined is not data/);
  refused({ kind: 'x', pw: new Secret('hunter2') }, /\.pw: a Secret is not data/);
  assert.equal(decodeOperations(encodeOperations([{ kind: 'x', nested: { a: [1, 'b', null, true] } } as Operation])), [{ kind: 'x', nested: { a: [1, 'b', null, true] } }]);
});

test('a fingerprint is the state, not its key order; a secret changes it without appearing in it', () => {
  assert.is(fingerprint({ a: 1, b: { c: [1, 2], d: 'x' } }), fingerprint({ b: { d: 'x', c: [1, 2] }, a: 1 }));
  assert.is.not(fingerprint({ a: 1 }), fingerprint({ a: 2 }));
  assert.is.not(fingerprint({ a: [1, 2] }), fingerprint({ a: [2, 1] }));
  const one = fingerprint({ pw: new Secret('correct horse') });
  assert.is.not(one, fingerprint({ pw: new Secret('battery staple') }));
  assert.is(one, fingerprint({ pw: new Secret('correct horse') }));
  assert.is.not(one, fingerprint({ pw: 'correct horse' }), 'a secret is not hashed as its plain text');
  assert.match(one, /^sha256:[0-9a-f]{64}$/);
});

test.run();
