// The secrets suite: a vault password (with ' " \ & % and spaces), a numeric PIN and a boolean are
// derived every way the expression language allows, through set_fact, register and loops, written
// to files and printed; a real run on the controller (local connection) with -vv --diff, --json and
// --check must show none of them in plain, shell-quoted, JSON, base64 or URL form, in no output,
// error or file under .rplay/, while the files on the "host" hold the real values byte for byte.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { shQuote } from '../../../runner/connection/quote.js';
import { encryptVault } from '../../../runner/vault/vault.js';
import { rplay, rplayJson, type CliRun } from '../../support/rplay-cli.js';

const test = suite('secrets');

const NEW = `Qz7'Lm8 "wJ\\K&v%41 x~Pw9`;
const OLD = `Old'Pa55 "rotaK\\&%20 Yq3`;
const PIN = 98765432;
const MASK = '********';

// Every expression a task prints; each is derived from a secret, so each must print as the mask
// (or, for a list or mapping, hold only masks where the secret was).
const derived = [
  "{{ vault_pw | list | join(' ') }}",
  '{{ vault_pw[0] }}',
  '{{ vault_pw[-1] }}',
  '{{ vault_pw[vault_pin - 98765431] }}',
  "{{ vault_pw.split('K') }}",
  "{{ vault_pw.split('K')[1] }}",
  "{{ [vault_pw] | map('b64encode') | first }}",
  "{{ [vault_pw] | map('b64encode') | list }}",
  '{{ vault_pw | b64encode }}',
  '{{ vault_pw | b64encode | b64decode }}',
  '{{ vault_pw | upper }}',
  '{{ vault_pw.upper() }}',
  '{{ vault_pw.strip().lower() }}',
  '{{ vault_pw | reverse }}',
  '{{ vault_pw | quote }}',
  '{{ vault_pw | to_json }}',
  "{{ {'password': vault_pw} | to_json }}",
  "{{ {'password': vault_pw} | to_nice_json }}",
  "{{ {'password': vault_pw} | dict2items | map(attribute='value') | first }}",
  "{{ vault_pw | replace('Q', 'q') }}",
  "{{ 'X' | replace('X', vault_pw) }}",
  "{{ ['a', 'b'] | join(vault_pw) }}",
  "{{ vault_pw ~ '-suffix' }}",
  "{{ 'prefix-' + vault_pw }}",
  'pre {{ vault_pw }} mid {{ vault_pin }} post',
  "{{ vault_pw | regex_search('^...') }}",
  '{{ vault_pw | length }}',
  '{{ vault_pw | list | unique | sort | join }}',
  "{{ vault_pw | default('x') | capitalize }}",
  '{{ (vault_pw, 1) | first }}',
  "{{ vault_pw if vault_flag else 'no' }}",
  '{{ [vault_pw] | flatten | last }}',
  '{{ vault_pin }}',
  '{{ vault_pin + 1 }}',
  '{{ vault_pin * 3 }}',
  '{{ -vault_pin }}',
  '{{ vault_pin // 7 }}',
  '{{ vault_pin | string }}',
  '{{ vault_pin | string | list | first }}',
  '{{ vault_flag }}',
  '{{ copied | b64encode }}',
  '{{ copied[0] }}',
  '{{ pin_copy + 1 }}',
  '{{ flag_copy }}',
  '{{ echoed.stdout | b64encode }}',
  '{{ echoed.stdout[0] }}',
  '{{ echoed.stdout_lines | first }}',
];

// Each must fail on its own, without quoting the secret it failed on.
const failing = [
  '{{ vault_pw | from_json }}',
  "{{ vault_pw | regex_search(vault_pw ~ '(') }}",
  "{{ ['a'] | map(vault_pw) | list }}",
  "{{ {vault_pw ~ '': 1} }}",
  '{{ vault_pw | int(base=vault_pw) }}',
  // Two characters: too short for the text net, so the error itself must not quote them.
  "{{ ['a'] | map(vault_pw[0] ~ vault_pw[1]) | list }}",
];

const y = (s: string): string => JSON.stringify(s); // a JSON string is a YAML double-quoted scalar

function playbook(): string {
  const tasks = [
    `- name: set_fact keeps a secret\n  set_fact:\n    copied: "{{ vault_pw }}"\n    pin_copy: "{{ vault_pin }}"\n    flag_copy: "{{ vault_flag }}"`,
    `- name: a command echoes the secret\n  shell: ${y("printf '%s\\n' {{ vault_pw | quote }}")}\n  register: echoed\n  check_mode: false`,
    `- name: show the registered result\n  debug:\n    var: echoed`,
    ...derived.map((e, i) => `- name: derived ${i}\n  debug:\n    msg: ${y(e)}`),
    ...failing.map((e, i) => `- name: failing ${i}\n  debug:\n    msg: ${y(e)}\n  ignore_errors: true`),
    `- name: a failing command that prints the secret\n  shell: ${y('echo {{ vault_pw | quote }} >&2; exit 3')}\n  ignore_errors: true`,
    `- name: to_json content\n  copy:\n    dest: "{{ out }}/pw.json"\n    content: ${y("{{ {'password': vault_pw} | to_json }}")}`,
    `- name: config\n  copy:\n    dest: "{{ out }}/redis.conf"\n    content: ${y('port 6379\nmasterauth {{ vault_pw }}\nrequirepass {{ vault_pw }}\n')}\n  notify: show config`,
    `- name: the pin\n  copy:\n    dest: "{{ out }}/pin"\n    content: ${y('{{ vault_pin }}\n')}`,
    `- name: set_fact value\n  copy:\n    dest: "{{ out }}/set-fact"\n    content: "{{ copied }}"`,
    `- name: registered value\n  copy:\n    dest: "{{ out }}/registered"\n    content: "{{ echoed.stdout }}"`,
    `- name: loop item\n  copy:\n    dest: "{{ out }}/item-{{ item.n }}"\n    content: "{{ item.v }}"\n  loop: ${y("{{ [{'n': 'a', 'v': vault_pw}, {'n': 'b', 'v': vault_pw | b64encode}] }}")}`,
    `- name: one character at a time\n  command:\n    argv: [echo, "{{ vault_pw[item] }}"]\n  loop: [0, 1, 2]`,
    `- name: loop item derived\n  debug:\n    msg: "{{ item | b64encode }}"\n  loop: "{{ [vault_pw] }}"`,
  ];
  return [
    '- name: Secrets derived every way',
    '  hosts: all',
    '  gather_facts: false',
    '  vars:',
    '    out: "{{ workdir }}/out"',
    '  handlers:',
    '    - name: show config',
    '      debug:',
    '        msg: "{{ vault_pw }}"',
    '  tasks:',
    ...tasks.join('\n').split('\n').map((l) => `    ${l}`),
    '',
  ].join('\n');
}

interface Project {
  dir: string;
  args: (...extra: string[]) => string[];
  setVault(pw: string): void;
}

function project(): Project {
  const dir = mkdtempSync(join(tmpdir(), 'rplay-secrets-'));
  mkdirSync(join(dir, 'inv', 'group_vars', 'all'), { recursive: true });
  mkdirSync(join(dir, 'out'));
  writeFileSync(join(dir, 'inv', 'hosts.yml'), 'all:\n  hosts:\n    localhost:\n      ansible_connection: local\n');
  writeFileSync(join(dir, 'vault-pass'), 'suite vault password\n');
  writeFileSync(join(dir, 'play.yml'), playbook());
  return {
    dir,
    args: (...extra) => [join(dir, 'play.yml'), '-i', join(dir, 'inv'), '-e', `workdir=${dir}`, '--vault-password-file', join(dir, 'vault-pass'), ...extra],
    setVault: (pw) =>
      writeFileSync(
        join(dir, 'inv', 'group_vars', 'all', 'vault.yml'),
        encryptVault(`vault_pw: ${y(pw)}\nvault_pin: ${PIN}\nvault_flag: true\n`, 'suite vault password'),
      ),
  };
}

/** The forms a value takes on the way out: plain, shell-quoted, JSON (once and twice), base64, URL. */
function forms(v: string): string[] {
  const json = JSON.stringify(v).slice(1, -1);
  return [v, shQuote(v), v.replace(/'/g, `'\\''`), json, JSON.stringify(json).slice(1, -1), Buffer.from(v).toString('base64'), encodeURIComponent(v)];
}

const reversed = (s: string): string => [...s].reverse().join('');
const forbidden = [
  ...[NEW, OLD, String(PIN), String(PIN + 1), String(PIN * 3), String(Math.floor(PIN / 7)), NEW.toUpperCase(), reversed(NEW), `${NEW}-suffix`, NEW.replace('Q', 'q')].flatMap(forms),
  Buffer.from(Buffer.from(NEW).toString('base64')).toString('base64'),
  `${NEW.slice(0, 5)}`, // from_json's parser error quotes the start of the text
  ...NEW.split('K'),
  // Digests of the files that hold it (copy reports a checksum): an offline test of guesses.
  ...[`port 6379\nmasterauth ${NEW}\nrequirepass ${NEW}\n`, JSON.stringify({ password: NEW }), NEW].map((t) => createHash('sha256').update(t).digest('hex')),
];

function assertNoSecret(text: string, where: string): void {
  for (const f of forbidden) assert.not.ok(text.includes(f), `${where} holds ${JSON.stringify(f)}:\n${text}`);
  // Any 6 characters of either password in a row.
  for (const pw of [NEW, OLD]) {
    for (let i = 0; i + 6 <= pw.length; i++) assert.not.ok(text.includes(pw.slice(i, i + 6)), `${where} holds ${JSON.stringify(pw.slice(i, i + 6))}`);
  }
}

function assertQuiet(r: CliRun, where: string): void {
  assertNoSecret(r.stdout, `${where} stdout`);
  assertNoSecret(r.stderr, `${where} stderr`);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

test('no derived form of a secret reaches any output, error or .rplay/ file; the files hold the real values', async () => {
  const p = project();
  p.setVault(NEW);
  const check = await rplay(p.args('--check', '-vv', '--diff'));
  assert.is(check.code, 0, check.stdout + check.stderr);
  assertQuiet(check, '--check -vv --diff');

  const plain = await rplay(p.args('-vv', '--diff'));
  assert.is(plain.code, 0, plain.stdout + plain.stderr);
  assertQuiet(plain, '-vv --diff');
  assert.match(plain.stdout, '+masterauth ********');

  const again = await rplayJson(p.args('-vv', '--diff'));
  assert.is(again.code, 0, again.stdout + again.stderr);
  assertQuiet(again, '--json -vv --diff');
  const results = (prefix: string) =>
    again.json.plays[0]!.tasks.filter((t) => t.name.startsWith(prefix)).map((t) => ({ name: t.name, ...t.results.localhost! }));

  // Structural masking: every derived value prints as the mask, even one character of the password.
  const shown = results('derived ');
  assert.is(shown.length, derived.length);
  for (const r of shown) {
    assert.is(r.status, 'ok', `${r.name}: ${r.msg}`);
    const expr = derived[Number(r.name.split(' ')[1])]!;
    const collection = /split\('K'\) }}|\| list }}/.test(expr);
    if (collection) assert.equal(JSON.parse(r.msg!), expr.includes('split') ? [MASK, MASK] : [MASK], expr);
    else assert.is(r.msg, MASK, `${expr} printed ${r.msg}`);
  }
  // Errors name the problem, never the value.
  const errors = results('failing ');
  assert.is(errors.length, failing.length);
  for (const r of errors) assert.is(r.status, 'failed', `${r.name}: ${r.msg}`);
  assert.match(errors[0]!.msg!, /from_json: .*not valid JSON/);
  assert.match(errors[3]!.msg!, /mapping key cannot be a secret/);
  assert.match(errors[5]!.msg!, `unknown filter '${MASK}'`);

  // A command line holding one character of the password: masked where it stands as a word.
  assert.is(results('one character at a time')[0]!.msg, [0, 1, 2].map((i) => `(item=${i}): run: echo ${MASK}`).join('; '));

  // The host got the real values, byte for byte.
  const read = (f: string): string => readFileSync(join(p.dir, 'out', f), 'utf8');
  assert.is(read('pw.json'), JSON.stringify({ password: NEW }));
  assert.is(read('redis.conf'), `port 6379\nmasterauth ${NEW}\nrequirepass ${NEW}\n`);
  assert.is(read('pin'), `${PIN}\n`);
  assert.is(read('set-fact'), NEW);
  assert.is(read('registered'), NEW);
  assert.is(read('item-a'), NEW);
  assert.is(read('item-b'), Buffer.from(NEW).toString('base64'));

  for (const f of filesUnder(join(p.dir, '.rplay'))) assertNoSecret(readFileSync(f, 'utf8'), f);
});

test('after a rotation, --diff masks the old password on the - side and the new one on the + side', async () => {
  const p = project();
  p.setVault(OLD);
  const first = await rplay(p.args());
  assert.is(first.code, 0, first.stdout + first.stderr);
  assert.is(readFileSync(join(p.dir, 'out', 'redis.conf'), 'utf8'), `port 6379\nmasterauth ${OLD}\nrequirepass ${OLD}\n`);
  p.setVault(NEW);
  const diff = '-masterauth ********\n-requirepass ********\n+masterauth ********\n+requirepass ********';
  const check = await rplay(p.args('--check', '-vv', '--diff'));
  assert.is(check.code, 0, check.stdout + check.stderr);
  assertQuiet(check, 'rotation --check');
  assert.match(check.stdout, diff);
  const real = await rplayJson(p.args('-vv', '--diff'));
  assert.is(real.code, 0, real.stdout + real.stderr);
  assertQuiet(real, 'rotation --json');
  const config = real.json.plays[0]!.tasks.find((t) => t.name === 'config')!.results.localhost!;
  assert.is(config.status, 'changed');
  assert.match(config.diff ?? '', diff);
  assert.is(readFileSync(join(p.dir, 'out', 'redis.conf'), 'utf8'), `port 6379\nmasterauth ${NEW}\nrequirepass ${NEW}\n`);
});

test.run();
