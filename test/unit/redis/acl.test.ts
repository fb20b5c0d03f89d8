import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { aclDrift, aclListByUser, describeDrift, type CommandTable } from '../../../modules/redis/acl-canonical.js';
import { aclPasswordHash, renderAclFile, type AclUser } from '../../../modules/redis/acl-file.js';

const APP = 'app-password-0123456789';
const ADMIN = 'admin-password-0123456789';
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

const users: AclUser[] = [
  { name: 'app_user', password: APP, rules: '~session:* ~patient:*  +get +set' },
  { name: 'admin_user', password: ADMIN, rules: '~* &* +@all' },
  { name: 'default', enabled: false },
];

test('renderAclFile: one line per user, SHA-256 hashes, no comments, no passwords', () => {
  const text = renderAclFile(users);
  assert.is(
    text,
    `user app_user on #${sha(APP)} ~session:* ~patient:* +get +set\n` + `user admin_user on #${sha(ADMIN)} ~* &* +@all\n` + 'user default off\n',
  );
  assert.not.ok(text.includes(APP) || text.includes(ADMIN));
  assert.not.ok(/^#/m.test(text));
  assert.is(aclPasswordHash('x'), '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881');
});

test('renderAclFile refuses what would leak, weaken or break the file, naming the user only', () => {
  const bad = (u: AclUser, re: RegExp): void => {
    try {
      renderAclFile([u]);
      assert.unreachable(`accepted ${u.name}`);
    } catch (e) {
      const msg = (e as Error).message;
      assert.match(msg, re);
      if (u.password) assert.not.ok(msg.includes(u.password), msg);
    }
  };
  bad({ name: 'app_user', password: 'AppPassword123!' }, /app_user is one of the runbook's sample passwords/);
  bad({ name: 'app_user', password: 'short-but-nice' }, /app_user is shorter than 16 characters/);
  bad({ name: 'app_user', password: APP, rules: '>secret-in-rules +get' }, /app_user: rule '>…' sets a password/);
  bad({ name: 'app_user', password: APP, rules: '+get nopass' }, /rule 'nopass' is managed by rplay/);
  bad({ name: 'app_user', password: APP, rules: 'reset +get' }, /rule 'reset' is managed by rplay/);
  bad({ name: 'app_user' }, /app_user is enabled but has no password/);
  bad({ name: 'bad name', password: APP }, /user name 'bad name'/);
  assert.throws(() => renderAclFile([users[0] as AclUser, users[0] as AclUser]), /app_user is listed twice/);
});

const table: CommandTable = { commands: new Set(['get', 'set', 'del']), categories: new Map([['read', new Set(['get'])]]) };

test('aclDrift compares users per name: differs, missing, extra', () => {
  const wanted = aclListByUser([`user a on #${'1'.repeat(64)} ~x resetchannels -@all +get`, 'user b off resetchannels -@all', `user c on #${'3'.repeat(64)} ~* &* +@all`], table);
  const live = aclListByUser([`user a on #${'1'.repeat(64)} ~x resetchannels -@all +get +set`, `user c on #${'3'.repeat(64)} ~* &* +@all`, `user intruder on #${'9'.repeat(64)} ~* +@all`], table);
  const d = aclDrift(wanted, live);
  assert.equal(d, [
    { user: 'a', kind: 'differs' },
    { user: 'b', kind: 'missing' },
    { user: 'intruder', kind: 'extra' },
  ]);
  assert.equal(d.map((x) => describeDrift(x, 6379)), [
    'user a differs live on :6379',
    'user b is missing live on :6379',
    'user intruder exists live on :6379 but not in the file',
  ]);
  assert.equal(aclDrift(wanted, wanted), []);
});

test.run();
