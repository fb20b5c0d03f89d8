import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addHostKey, checkHostKey, hostMatches, knownKeyTypes } from '../../../runner/connection/known-hosts.js';
import { hostKeyAlgorithms } from '../../../runner/connection/ssh.js';

/** An ssh wire-format public key blob of `type` (random key material). */
function blob(type: string): Buffer {
  const str = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return Buffer.concat([str(Buffer.from(type)), str(randomBytes(32))]);
}
const line = (hosts: string, key: Buffer, marker = ''): string => `${marker ? `${marker} ` : ''}${hosts} ${blob0(key)} ${key.toString('base64')} comment`;
const blob0 = (key: Buffer): string => key.subarray(4, 4 + key.readUInt32BE(0)).toString();

const dir = mkdtempSync(join(tmpdir(), 'rplay-kh-'));
let n = 0;
function file(...lines: string[]): string {
  const f = join(dir, `known_hosts.${n++}`);
  writeFileSync(f, lines.join('\n') + '\n');
  return f;
}

const ed = blob('ssh-ed25519');
const ec = blob('ecdsa-sha2-nistp256');

test('the presented key on a line for the host is known; nothing for the host is unknown', () => {
  const f = file('# comment', '', line('10.0.0.1', ed));
  assert.equal(checkHostKey(f, '10.0.0.1', 22, ed), { kind: 'known' });
  assert.equal(checkHostKey(f, '10.0.0.2', 22, ed), { kind: 'unknown' });
  assert.equal(checkHostKey(join(dir, 'missing'), '10.0.0.1', 22, ed), { kind: 'unknown' });
});

test('a host known by an ed25519 key presenting an ecdsa key is CHANGED, not unknown', () => {
  const f = file(line('10.0.0.1', ed));
  assert.equal(checkHostKey(f, '10.0.0.1', 22, ec), { kind: 'changed', line: 1 });
  assert.equal(checkHostKey(f, '10.0.0.1', 22, blob('ssh-ed25519')), { kind: 'changed', line: 1 });
});

test('a host with two known keys accepts either; its known types are offered first', () => {
  const f = file(line('other', ed), line('10.0.0.1', ec), line('10.0.0.1', ed));
  assert.equal(checkHostKey(f, '10.0.0.1', 22, ec), { kind: 'known' });
  assert.equal(checkHostKey(f, '10.0.0.1', 22, ed), { kind: 'known' });
  assert.equal(knownKeyTypes(file(line('10.0.0.1', ec)), '10.0.0.1', 22), ['ecdsa-sha2-nistp256']);
  assert.equal(hostKeyAlgorithms(['ecdsa-sha2-nistp256']).slice(0, 2), ['ecdsa-sha2-nistp256', 'ssh-ed25519']);
  assert.equal(hostKeyAlgorithms(['ssh-rsa']).slice(0, 2), ['rsa-sha2-512', 'rsa-sha2-256']);
  assert.equal(hostKeyAlgorithms([])[0], 'ssh-ed25519');
});

test('@revoked refuses that key for every host, whatever else matches', () => {
  const f = file(line('10.0.0.1', ed), line('somewhere-else', ed, '@revoked'));
  assert.equal(checkHostKey(f, '10.0.0.1', 22, ed), { kind: 'revoked', line: 2 });
  assert.equal(checkHostKey(f, '10.9.9.9', 22, ed), { kind: 'revoked', line: 2 });
  assert.equal(checkHostKey(f, '10.0.0.1', 22, ec), { kind: 'changed', line: 1 });
});

test('@cert-authority lines never make a host known or changed; a host known only by one is its own verdict', () => {
  const ca = blob('ssh-ed25519');
  const f = file(line('*.example.com', ca, '@cert-authority'), line('db.example.com', ed));
  assert.equal(checkHostKey(f, 'web.example.com', 22, ca), { kind: 'cert-authority', line: 1 });
  assert.equal(checkHostKey(f, 'web.example.com', 22, ed), { kind: 'cert-authority', line: 1 });
  assert.equal(checkHostKey(f, 'db.example.com', 22, ed), { kind: 'known' });
  assert.equal(checkHostKey(f, 'db.example.com', 22, ca), { kind: 'changed', line: 2 });
  assert.equal(checkHostKey(f, 'db.other.org', 22, ca), { kind: 'unknown' });
});

test('patterns: *, ?, ! negation (which wins), case, [host]:port', () => {
  assert.ok(hostMatches('*.example.com', 'A.Example.COM'));
  assert.ok(hostMatches('10.0.0.?', '10.0.0.7'));
  assert.not.ok(hostMatches('10.0.0.?', '10.0.0.17'));
  assert.ok(hostMatches('10.0.*.1*', '10.0.3.17'));
  assert.not.ok(hostMatches('*.example.com,!bad.example.com', 'bad.example.com'));
  assert.not.ok(hostMatches('!bad.example.com,*.example.com', 'bad.example.com'));
  assert.ok(hostMatches('*.example.com,!bad.example.com', 'good.example.com'));
  assert.not.ok(hostMatches('!bad', 'good'), 'a negation alone matches nothing');
  assert.not.ok(hostMatches('a*a*a*a*a*a*a*b', 'a'.repeat(5000)));
  const f = file(line('[10.0.0.1]:2222', ed), line('10.0.0.1', ec));
  assert.equal(checkHostKey(f, '10.0.0.1', 2222, ed), { kind: 'known' });
  assert.equal(checkHostKey(f, '10.0.0.1', 2222, ec), { kind: 'changed', line: 1 });
  assert.equal(checkHostKey(f, '10.0.0.1', 22, ec), { kind: 'known' });
});

test('hashed host names (|1|salt|hash) match the host they were made from, port included', () => {
  const hashed = (token: string): string => {
    const salt = randomBytes(20);
    return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(token).digest('base64')}`;
  };
  const f = file(line(hashed('10.0.0.1'), ed), line(hashed('[10.0.0.2]:2200'), ec));
  assert.equal(checkHostKey(f, '10.0.0.1', 22, ed), { kind: 'known' });
  assert.equal(checkHostKey(f, '10.0.0.1', 22, ec), { kind: 'changed', line: 1 });
  assert.equal(checkHostKey(f, '10.0.0.2', 2200, ec), { kind: 'known' });
  assert.equal(checkHostKey(f, '10.0.0.2', 22, ec), { kind: 'unknown' });
});

test('malformed lines and unknown markers are skipped, not fatal', () => {
  const f = file('10.0.0.1', '10.0.0.1 ssh-ed25519 !!!notbase64', `@weird 10.0.0.1 ssh-ed25519 ${ec.toString('base64')}`, line('10.0.0.1', ed));
  assert.equal(checkHostKey(f, '10.0.0.1', 22, ed), { kind: 'known' });
});

test('addHostKey appends one line, even after a last line without its newline', () => {
  const f = join(dir, 'append');
  writeFileSync(f, line('other', ec));
  addHostKey(f, '10.0.0.5', 2222, ed);
  const lines = readFileSync(f, 'utf8').split('\n');
  assert.equal(lines.length, 3);
  assert.is(lines[1], `[10.0.0.5]:2222 ssh-ed25519 ${ed.toString('base64')}`);
  assert.equal(checkHostKey(f, '10.0.0.5', 2222, ed), { kind: 'known' });
  assert.equal(checkHostKey(f, 'other', 22, ec), { kind: 'known' });
});

test.run();
