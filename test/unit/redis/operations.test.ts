// The Redis modules' plans from given facts: each change carries the operation apply runs (and only
// that), as data that survives encoding; what changes nothing (a read) is answered when gathering.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { redisAcl } from '../../../modules/redis-acl.js';
import { redisBackup, type BackupActual } from '../../../modules/redis-backup.js';
import { flaggedRead, knownRead, redisCommand, type RunCommand } from '../../../modules/redis-command.js';
import { renderAclFile } from '../../../modules/redis/acl-file.js';
import { aclListByUser, type CommandTable } from '../../../modules/redis/acl-canonical.js';
import { decodeOperations, encodeOperations } from '../../../runner/execution/operations.js';

const TLS = { ca: 'pki/ca.crt', cert: 'pki/rplay-admin.crt', key: 'pki/rplay-admin.key' };
const LOGIN = { login_user: 'admin_user', login_password: 'admin-Pass-0123456789', tls: TLS };
const roundTrip = <T>(ops: T[]): unknown => decodeOperations(encodeOperations(ops as never));

// redis_acl
const USERS = [{ name: 'app_user', password: 'app-Pass-0123456789', rules: '~session:* +get' }, { name: 'default', enabled: false }];
const FILE = Buffer.from(renderAclFile(USERS));
const TABLE: CommandTable = { commands: new Set(['get', 'set']), categories: new Map([['read', new Set(['get'])]]) };
const CANONICAL = aclListByUser([`user app_user on #${'a'.repeat(64)} ~session:* resetchannels -@all +get`, 'user default off resetchannels -@all'], TABLE);
const aclArgs = { users: USERS, address: '10.0.1.10', ports: [6379, 6380], ...LOGIN };
const file = (over: { sameContent: boolean; mode?: string }) => ({
  state: { type: 'file' as const, mode: over.mode ?? '0640', owner: 'redis', group: 'redis', uid: 999, gid: 999 },
  sameContent: over.sameContent,
  ...(over.sameContent ? {} : { before: 'user default off\n' }),
});
const aclState = (dest: ReturnType<typeof file>, live6379: Map<string, string> = CANONICAL) => ({
  want: { dest: '/etc/redis/users.acl', content: FILE, mode: '0640', owner: 'redis', group: 'redis' },
  dest,
  canonical: { kind: 'ok' as const, users: CANONICAL },
  live: [
    { port: 6379, running: true as const, users: live6379, table: TABLE },
    { port: 6380, running: false as const },
  ],
});

test('redis_acl: a changed file is one op with its bytes, then ACL LOAD on each running instance only, with the users to expect', () => {
  const p = redisAcl.plan(aclArgs, aclState(file({ sameContent: false })));
  assert.equal(
    p.changes.map((c) => c.description),
    ['content of /etc/redis/users.acl differs', 'ACL LOAD on :6379'],
  );
  assert.equal(p.changes[0]?.op, { kind: 'acl-file', path: '/etc/redis/users.acl', content: FILE, mode: '0640', owner: 'redis', group: 'redis', write: true });
  assert.equal(p.changes[0]?.diff, { path: '/etc/redis/users.acl', before: 'user default off\n', after: FILE.toString() });
  assert.equal(p.changes[1]?.op, { kind: 'acl-load', address: '10.0.1.10', port: 6379, login: LOGIN, expect: [...CANONICAL.entries()] });
  assert.equal(roundTrip(p.changes.map((c) => c.op)), p.changes.map((c) => c.op), 'the ops survive encoding');
});

test('redis_acl: only the mode differs and a user drifted live: the attributes op writes no bytes; the load names why', () => {
  const drifted = new Map([...CANONICAL, ['intruder', 'user intruder on #1 ~* +@all']]);
  const p = redisAcl.plan(aclArgs, aclState(file({ sameContent: true, mode: '0644' }), drifted));
  assert.equal(p.changes.map((c) => c.description), ['mode 0644 → 0640 on /etc/redis/users.acl', 'user intruder exists live on :6379 but not in the file; ACL LOAD on :6379']);
  assert.equal((p.changes[0]?.op as { write: boolean }).write, false);
  assert.equal(p.changes.map((c) => c.op?.kind), ['acl-file', 'acl-load']);
});

test('redis_acl: as wanted, live equal: no change, no op', () => {
  const p = redisAcl.plan(aclArgs, aclState(file({ sameContent: true })));
  assert.equal(p.changes, []);
  assert.is(p.msg, '/etc/redis/users.acl as wanted; live on :6379');
});

// redis_command
test('redis_command: known reads by name and subcommand, case-insensitive; anything else is asked of Redis or run as a write', () => {
  assert.ok(knownRead(['ACL', 'DRYRUN', 'app_user', 'FLUSHALL']));
  assert.ok(knownRead(['config', 'get', 'maxmemory']));
  assert.ok(knownRead(['PING']));
  assert.not.ok(knownRead(['CONFIG', 'SET', 'appendonly', 'no']));
  assert.not.ok(knownRead(['ACL', 'LOG', 'RESET']), 'ACL LOG RESET clears the log');
  assert.not.ok(knownRead(['GET', 'session:1']), 'a key command: Redis says');
  assert.not.ok(knownRead(['FLUSHALL']));
});

test('redis_command: COMMAND INFO flags: readonly and not blocking is a read; the subcommand\'s entry decides before its container', () => {
  assert.ok(flaggedRead([null, ['get', 2, ['readonly', 'fast'], 1, 1, 1]]));
  assert.not.ok(flaggedRead([null, ['xread', -4, ['readonly', 'blocking', 'movablekeys'], 0, 0, 0]]), 'XREAD BLOCK waits');
  assert.not.ok(flaggedRead([['config|set', -4, ['admin', 'noscript', 'loading', 'stale'], 0, 0, 0], ['config', -2, [], 0, 0, 0]]));
  assert.ok(flaggedRead([['object|encoding', 3, ['readonly'], 2, 2, 1], ['object', -2, [], 0, 0, 0]]));
  assert.not.ok(flaggedRead([null, null]), 'a command Redis does not know');
  assert.not.ok(flaggedRead('ERR'), 'an answer that is not a list');
});

const commandArgs = { command: ['CONFIG', 'SET', 'masterauth', 'the-Secret-value-0123'], instances: [{ address: '10.0.1.10', port: 6380 }], ...LOGIN };

test('redis_command: a write is one change carrying the whole command (the login from the args, never in the gathered state); its description names the command only', () => {
  const op: RunCommand = { kind: 'run', command: commandArgs.command, instances: commandArgs.instances, cluster: false, transport: 'tls', login: LOGIN };
  const p = redisCommand.plan(commandArgs, { read: false });
  assert.equal(p.changes.map((c) => c.description), ['run CONFIG on 10.0.1.10:6380 as admin_user']);
  assert.not.ok(p.changes[0]!.description.includes('the-Secret-value'));
  assert.equal(roundTrip([p.changes[0]!.op]), [op]);
});

test('redis_command: a read\'s answer is the result, with no change (a refusal too)', () => {
  const ok = redisCommand.plan(commandArgs, { read: true, outcome: { reply: 'OK', error: null, node: '10.0.1.10:6380' } });
  assert.equal([ok.changes, ok.msg, ok.result], [[], 'CONFIG: "OK"', { reply: 'OK', error: null, node: '10.0.1.10:6380' }]);
  const no = redisCommand.plan(commandArgs, { read: true, outcome: { reply: null, error: 'NOPERM no permission' } });
  assert.equal([no.changes, no.msg], [[], 'CONFIG refused: NOPERM no permission']);
});

// redis_backup
test('redis_backup: one op per instance to back up, then one per old backup to remove, in that order', () => {
  const actual: BackupActual = {
    done: [{ port: 6379, dir: '/b/t2/node-1/6379', keys: 3 }],
    missing: [{ address: '10.0.1.10', port: 6380, dir: '/b/t2/node-1/6380' }],
    prune: [{ label: 't1', dir: '/b/t1/node-1', savedAt: '2026-12-01T00:00:00.000Z' }],
    root: '/b',
  };
  const args = { instances: [{ address: '10.0.1.10', port: 6379 }, { address: '10.0.1.10', port: 6380 }], label: 't2', encryption_key: 'k'.repeat(32), retain_count: 1, timeout: 30, ...LOGIN };
  const p = redisBackup.plan(args, actual);
  assert.equal(p.changes.map((c) => c.op), [
    { kind: 'backup', address: '10.0.1.10', port: 6380, dir: '/b/t2/node-1/6380', root: '/b', label: 't2', timeoutMs: 30_000, login: LOGIN, encryptionKey: 'k'.repeat(32) },
    { kind: 'prune', dir: '/b/t1/node-1', label: 't1' },
  ]);
  assert.equal(p.result, { backups: [{ port: 6379, path: '/b/t2/node-1/6379', keys: 3 }] });
  assert.equal(redisBackup.plan(args, { ...actual, missing: [], prune: [] }).changes, []);
});

test.run();
