// canonicalAcl against the real thing: a redis-server 7 (unix socket in a private folder, no TCP)
// loads each rule set with ACL LOAD; what it then prints with ACL LIST must mean, to canonicalAcl,
// what the file means; two rule sets are the same to canonicalAcl exactly when Redis prints them
// alike; and a rule set Redis refuses is refused with Redis's own message.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { aclListByUser, canonicalAcl, commandTable, type CommandTable } from '../../../modules/redis/acl-canonical.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'rplay-acl-'));
const sock = join(dir, 's');
const aclfile = join(dir, 'users.acl');
// The test's own way in, in every file it loads (and left out of every comparison).
const PROBE = 'user probe on nopass ~* &* +@all';
let server: ChildProcess;
let table: CommandTable;

const hash = (s: string): string => createHash('sha256').update(s).digest('hex');
const H = hash('a-long-password-0123');

async function cli(...argv: string[]): Promise<string[]> {
  const { stdout } = await run('redis-cli', ['-s', sock, '--user', 'probe', '--pass', 'x', '--no-auth-warning', ...argv]);
  return stdout.split('\n').filter((l) => l !== '');
}

/** Loads `lines` (plus the probe) with ACL LOAD: Redis's ACL LIST, or the error it replied. */
async function load(lines: string[]): Promise<{ list: string[] } | { error: string }> {
  writeFileSync(aclfile, [...lines, PROBE].join('\n') + '\n');
  const reply = (await cli('ACL', 'LOAD')).join('\n');
  if (reply !== 'OK') return { error: reply };
  return { list: (await cli('ACL', 'LIST')).filter((l) => !l.startsWith('user probe ')) };
}

test.before(async () => {
  writeFileSync(aclfile, PROBE + '\n');
  server = spawn('redis-server', ['--port', '0', '--unixsocket', sock, '--unixsocketperm', '700', '--aclfile', aclfile, '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  for (let i = 0; !existsSync(sock) || !(await cli('PING').then((r) => r[0] === 'PONG', () => false)); i++) {
    if (i > 500) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 10));
  }
  table = await commandTable((...argv) => cli(...argv));
});

test.after(() => {
  server?.kill();
  rmSync(dir, { recursive: true, force: true });
});

// Rule sets for one user `u`, each a case the printing does not show as written.
const RULES = [
  'off',
  `on #${H}`,
  `on #${H} ~session:* +get +set`,
  `on #${H} +set +get ~session:*`,
  `on #${H} ~session:* ~patient:* +get +set +expire +ping +cluster|info`,
  `on #${H} +@read`,
  `on #${H} +@read +get`,
  `on #${H} +@read -get`,
  `on #${H} +@read -@read`,
  `on #${H} +@all`,
  `on #${H} allcommands`,
  `on #${H} +@all -@dangerous`,
  `on #${H} +@all -@dangerous +flushall`,
  `on #${H} -@all +@read +@write -@dangerous`,
  `on #${H} +@string +get`,
  `on #${H} +get +@string -set +set`,
  `on #${H} +config`,
  `on #${H} +config|get`,
  `on #${H} +config -config|get`,
  `on #${H} +config|get -config|get +config`,
  `on #${H} +@admin -config|set`,
  `on #${H} +@all -config +config|get`,
  `on #${H} +select|0`,
  `on #${H} +select|0 -select`,
  `on #${H} +select +select|0`,
  `on #${H} ~*`,
  `on #${H} allkeys`,
  `on #${H} %RW~*`,
  `on #${H} %R~x %W~x`,
  `on #${H} ~x %R~x`,
  `on #${H} %R~r:* %W~w:*`,
  `on #${H} %R~x`,
  `on #${H} ~a ~b resetkeys ~c`,
  `on #${H} &chan`,
  `on #${H} &*`,
  `on #${H} allchannels`,
  `on #${H} &a resetchannels &b`,
  `on #${H} ~x (~y +set)`,
  `on #${H} ~x (~y +set) (~z +get)`,
  `on #${H} ~x (~z +get) (~y +set)`,
  `on #${H} ~x (%R~y +@read -keys) clearselectors`,
  `on nopass +@all ~*`,
  `on #${H} nopass`,
  `on nopass #${H}`,
  `on #${H} resetpass #${hash('other-password-999')}`,
  `on >a-long-password-0123`,
  `on #${H} <a-long-password-0123`,
  `on #${H} skip-sanitize-payload`,
  `on #${H} sanitize-payload`,
  `on #${H} ~x +get reset on #${H} +set`,
  `on #${H} +GET +@READ ~K`,
  `on #${H} -@all +client|list +client|setname +acl|whoami`,
  `on #${H} +@connection -client|kill`,
  `on #${H} +@pubsub &news:*`,
  `on #${H} +@scripting -eval`,
];

test('what canonicalAcl makes of each rule set is what it makes of Redis own ACL LIST of it', async () => {
  for (const rules of RULES) {
    const file = [`user u ${rules}`];
    const r = await load(file);
    if ('error' in r) throw new Error(`Redis refused '${rules}': ${r.error}`);
    const ours = canonicalAcl(file.join('\n'), aclfile, table);
    if (ours.kind !== 'ok') throw new Error(`canonicalAcl refused '${rules}': ${JSON.stringify(ours)}`);
    assert.equal([...ours.users].sort(), [...aclListByUser(r.list, table)].sort(), `${rules}\n  Redis: ${r.list.join(' | ')}`);
  }
});

test('two rule sets are one to canonicalAcl exactly when Redis prints them alike (up to token order)', async () => {
  const printed: string[] = [];
  const ours: string[] = [];
  for (const rules of RULES) {
    const r = await load([`user u ${rules}`]);
    if ('error' in r) throw new Error(r.error);
    const line = r.list.find((l) => l.startsWith('user u '))!;
    printed.push(line.match(/\([^)]*\)|\S+/g)!.sort().join(' '));
    const c = canonicalAcl(`user u ${rules}\n`, aclfile, table);
    ours.push(c.kind === 'ok' ? c.users.get('u')! : 'refused');
  }
  let same = 0;
  for (let i = 0; i < RULES.length; i++) {
    for (let j = i + 1; j < RULES.length; j++) {
      assert.is(ours[i] === ours[j], printed[i] === printed[j], `'${RULES[i]}' vs '${RULES[j]}'`);
      if (printed[i] === printed[j]) same++;
    }
  }
  assert.ok(same >= 8, `only ${same} pairs Redis prints alike: the comparison proves little`);
});

test('the default user: as Redis makes it when the file leaves it out, as written when it is in', async () => {
  for (const file of [[`user u on #${H} +get`], ['user default off', `user u on #${H} +get`], [`user default on #${H} ~* +@all`]]) {
    const r = await load(file);
    if ('error' in r) throw new Error(r.error);
    const ours = canonicalAcl(file.join('\n') + '\n', aclfile, table);
    assert.equal(ours.kind === 'ok' ? [...ours.users].sort() : ours, [...aclListByUser(r.list, table)].sort(), file.join(' / '));
  }
});

test('a rule set Redis refuses is refused with its message, at the file and line', async () => {
  const refused = [
    '+nosuchcommand',
    '+@nosuchcategory',
    '+config|nosuchsub',
    '+config|get|x',
    '~* ~x',
    'allkeys %R~x',
    '&* &x',
    '#abc',
    `#${H.toUpperCase()}`,
    `<not-a-password-of-u`,
    'bogus',
  ];
  for (const rule of refused) {
    const file = [`user ok on #${H} +get`, `user u on #${H} ${rule}`];
    const r = await load(file);
    assert.ok('error' in r, `Redis accepted '${rule}'`);
    const ours = canonicalAcl(file.join('\n') + '\n', aclfile, table);
    assert.is(ours.kind, 'rejected', rule);
    const reason = ours.kind === 'rejected' ? ours.reason : '';
    assert.ok(reason.startsWith(`${aclfile}:2: `), reason);
    assert.ok('error' in r && r.error.includes(reason), `Redis: ${'error' in r ? r.error : ''}\n  ours: ${reason}`);
  }
  const dup = [`user u on #${H}`, 'user u off'];
  const r = await load(dup);
  assert.ok('error' in r && /Duplicate user/.test(r.error), JSON.stringify(r));
  assert.equal(canonicalAcl(dup.join('\n'), aclfile, table), { kind: 'rejected', reason: `${aclfile}:2: Duplicate user 'u' found` });
});

test('without a running instance there is nothing to compare with: unavailable, not a guess', () => {
  assert.equal(canonicalAcl(`user u on #${H} +get\n`, aclfile, undefined), { kind: 'unavailable' });
});

test.run();
