// Taint through the expression language: whatever is computed from a secret is a Secret (however
// short), values merely passed through keep what they were, and errors never quote a secret.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isSecret, MASK, Secret } from '../../../runner/secret.js';
import { interpolate } from '../../../runner/vars/interpolate.js';
import { ExpressionError, Scope, evaluateExpression } from '../../../runner/vars/index.js';
import { thrown } from '../../support/thrown.js';

const PW = `Tq4'Wd9 "x\\&%Kj 2`;
const vars = Scope.of({
  vault_pw: new Secret(PW),
  vault_pin: new Secret(4242),
  vault_on: new Secret(true),
  users: [
    { name: 'app', password: new Secret('Nn3-app-password-long') },
    { name: 'ops', password: new Secret('Ff8-ops-password-long') },
  ],
  plain_list: ['a', 'b'],
});
const ev = (expr: string): unknown => evaluateExpression(expr, vars);

/** Every scalar of a value, with the path it sits at. */
function scalars(v: unknown, path = '$'): Array<[string, unknown]> {
  if (Array.isArray(v)) return v.flatMap((x, i) => scalars(x, `${path}[${i}]`));
  if (v && typeof v === 'object' && !isSecret(v)) return Object.entries(v).flatMap(([k, x]) => scalars(x, `${path}.${k}`));
  return [[path, v]];
}

test('every scalar computed from a secret is a Secret, whether the secret was the input or an argument', () => {
  for (const expr of [
    "vault_pw | list | join(' ')",
    'vault_pw | list',
    'vault_pw[0]',
    'vault_pw[-1]',
    "plain_list[vault_pin - 4241]",
    "'abc'[vault_pin - 4242]",
    "vault_pw.split('K')",
    "vault_pw.split('K')[1][0]",
    "[vault_pw] | map('b64encode') | first",
    "[vault_pw] | map('upper') | list",
    'vault_pw | b64encode | b64decode',
    'vault_pw | length',
    'vault_pw | reverse',
    'vault_pw | quote',
    'vault_pw | to_json',
    "vault_pw.replace('K', 'k')",
    "'X' | replace('X', vault_pw)",
    "plain_list | join(vault_pw)",
    "'x' ~ vault_pw",
    "vault_pw + 'x'",
    'vault_pin + 1',
    'vault_pin * 2',
    'vault_pin % 10',
    '-vault_pin',
    'vault_pin | string',
    'vault_pin | string | list',
    'vault_on | bool',
    "vault_pw | regex_search('^.')",
    "vault_pw.startswith('T')",
    "{'k': vault_pw} | to_json",
    "{'k': vault_pw} | dict2items | map(attribute='value') | first",
    "users | map(attribute='password') | map('b64encode') | list",
  ]) {
    const v = ev(expr);
    const all = scalars(v);
    assert.ok(all.length > 0, expr);
    for (const [path, x] of all) assert.ok(isSecret(x), `${expr}: ${path} is ${JSON.stringify(x)}, not a Secret`);
  }
});

test('a value passed through keeps what it was: names stay plain beside the passwords', () => {
  assert.equal(ev("users | map(attribute='name') | list"), ['app', 'ops']);
  const app = ev("users | selectattr('name', 'eq', 'app') | first") as { name: unknown; password: unknown };
  assert.is(app.name, 'app');
  assert.ok(isSecret(app.password));
  const pair = ev("[vault_pw, 'plain']") as unknown[];
  assert.ok(isSecret(pair[0]));
  assert.is(pair[1], 'plain');
  const items = ev("{'password': vault_pw, 'user': 'default'} | dict2items") as Array<{ key: unknown; value: unknown }>;
  assert.equal(items.map((i) => i.key), ['password', 'user']);
  assert.ok(isSecret(items[0]!.value));
  assert.is(items[1]!.value, 'default');
});

test('comparisons and tests of a secret are plain booleans (they are what when: is for)', () => {
  assert.is(ev("vault_pw == 'guess'"), false);
  assert.is(ev('vault_pw is defined'), true);
  assert.is(ev("'K' in vault_pw"), true);
  assert.is(ev('vault_pin > 4000'), true);
});

test('JSON of data holding a secret is the real JSON (a file for a host), kept as a Secret', () => {
  const json = ev("{'password': vault_pw, 'port': 1} | to_json");
  assert.ok(isSecret(json));
  assert.is((json as Secret).reveal(), JSON.stringify({ password: PW, port: 1 }));
  assert.is(JSON.stringify({ shown: json }), `{"shown":"${MASK}"}`);
  const nice = ev("{'password': vault_pw} | to_nice_json") as Secret;
  assert.is(nice.reveal(), JSON.stringify({ password: PW }, null, 4));
});

test("another host's variables as JSON or text are their real values, and a Secret", () => {
  const other = Scope.of({ pw: new Secret('Hh5-other-host-password'), port: 1 });
  const s = Scope.of({ hostvars: { n2: other } });
  for (const expr of ["hostvars['n2'] | to_json", "hostvars['n2'] | string", "'x' ~ hostvars['n2']"]) {
    const v = evaluateExpression(expr, s);
    assert.ok(isSecret(v), expr);
    assert.match((v as Secret).reveal(), '"pw":"Hh5-other-host-password"', expr);
  }
});

test('text with several {{ }} is a Secret of its real text when any part is secret; whole values stay what they are', () => {
  const out = interpolate({ line: 'auth {{ vault_pw }} pin {{ vault_pin }} {{ users }}', plain: 'port {{ 1 + 1 }}', loop: '{{ [vault_pw] }}' }, vars) as Record<string, unknown>;
  assert.ok(isSecret(out.line));
  assert.is((out.line as Secret).reveal(), `auth ${PW} pin 4242 ${JSON.stringify([{ name: 'app', password: 'Nn3-app-password-long' }, { name: 'ops', password: 'Ff8-ops-password-long' }])}`);
  assert.is(out.plain, 'port 2');
  assert.ok(isSecret((out.loop as unknown[])[0]));
});

test('errors never quote a secret, however short; a secret mapping key is refused', () => {
  const fromJson = thrown(() => ev('vault_pw | from_json'), ExpressionError);
  assert.match(fromJson.message, /from_json: .*not valid JSON/);
  assert.not.ok(fromJson.message.includes(PW.slice(0, 3)), fromJson.message);
  const shortName = thrown(() => ev("plain_list | map(vault_pw[0] ~ vault_pw[1]) | list"), ExpressionError);
  assert.is(shortName.message, `unknown filter '${MASK}'`);
  const regex = thrown(() => ev("'x' | regex_search(vault_pw ~ '(')"), ExpressionError);
  assert.not.ok(regex.message.includes(PW), regex.message);
  assert.match(thrown(() => ev("{(vault_pw): 1}"), ExpressionError).message, /mapping key cannot be a secret/);
  assert.match(thrown(() => ev("[{'key': vault_pw, 'value': 1}] | items2dict"), ExpressionError).message, /mapping key cannot be a secret/);
});

test.run();
