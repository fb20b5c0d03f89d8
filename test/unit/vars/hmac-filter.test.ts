// The hmac filter derives one secret from another (verify's probe password from the admin password):
// RFC 2104 HMAC-SHA256, keyed with the input, and as secret as its input.
import { createHmac } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ExpressionError, Scope, evaluateExpression } from '../../../runner/vars/index.js';
import { Secret } from '../../../runner/secret.js';
import { thrown } from '../../support/thrown.js';

const admin = new Secret('Zq8-admin-password-for-tests');
const vars = Scope.of({ admin, plain: 'key' });

test('hmac: RFC 4231 test case 2, and the value Node computes', () => {
  assert.is(evaluateExpression("'Jefe' | hmac('what do ya want for nothing?')", vars), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  assert.is(evaluateExpression("plain | hmac(message='m')", vars), createHmac('sha256', 'key').update('m').digest('hex'));
});

test('hmac of a secret is a secret of its own, different from the source and per message', () => {
  const a = evaluateExpression("admin | hmac('rplay verify probe')", vars);
  assert.instance(a, Secret);
  assert.is((a as Secret).reveal(), createHmac('sha256', admin.reveal()).update('rplay verify probe').digest('hex'));
  assert.is.not((evaluateExpression("admin | hmac('other')", vars) as Secret).reveal(), (a as Secret).reveal());
});

test('hmac needs a string key and message', () => {
  assert.match(thrown(() => evaluateExpression('42 | hmac("m")', vars), ExpressionError).message, /hmac needs a string/);
  assert.match(thrown(() => evaluateExpression("'k' | hmac()", vars), ExpressionError).message, /hmac needs a string/);
});

test.run();
