// The key pair: the controller's key made when missing (OpenSSH ed25519, mode 0600, readable by
// ssh-keygen), imported into EC2 with the fingerprint EC2 computes, a different key replaced.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import ssh2 from 'ssh2';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ec2KeyPair } from '../../../modules/ec2-key-pair.js';
import { ec2Fingerprint, generateEd25519, sameFingerprint } from '../../../modules/aws/ssh-keys.js';
import type { Ec2Op } from '../../../modules/aws/ec2-operation.js';
import { apply, changedThenNot, checkPlan } from '../../support/converge.js';
import { descriptions, testAccount } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'rplay-keypair-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('a generated key is OpenSSH ed25519 that ssh-keygen reads; its EC2 fingerprint is ssh-keygen\'s SHA256', () => {
  const kp = generateEd25519('rplay test');
  const file = join(dir, 'gen');
  writeFileSync(file, kp.privateKey, { mode: 0o600 });
  assert.ok(kp.privateKey.startsWith('-----BEGIN OPENSSH PRIVATE KEY-----'));
  assert.is(execFileSync('ssh-keygen', ['-y', '-f', file]).toString().trim(), kp.publicKey);
  const sha = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', file]).toString().split(' ')[1];
  assert.ok(sameFingerprint(ec2Fingerprint(kp.publicKey)!, sha), `${ec2Fingerprint(kp.publicKey)} vs ${sha}`);
});

test('fingerprints match what EC2 records on import, for ed25519 and RSA keys', async () => {
  const acct = await testAccount();
  try {
    const rsa = ssh2.utils.generateKeyPairSync('rsa', { bits: 2048 }).public;
    for (const [name, pub] of [['ed', generateEd25519('x').publicKey], ['rsa', rsa]] as const) {
      const r = await acct.ec2.importKeyPair({ KeyName: name, PublicKeyMaterial: Buffer.from(pub) });
      assert.ok(sameFingerprint(ec2Fingerprint(pub)!, r.KeyFingerprint!), name);
    }
  } finally {
    await acct.close();
  }
});

test('no key anywhere: a check run plans it and writes nothing; a run makes the key (0600), re-plans and imports it; then ok', async () => {
  const acct = await testAccount();
  try {
    const ctx = acct.ctx(dir);
    const args = { name: 'redis-cluster-key', project: 'redis-lab', private_key_file: 'keys/redis-cluster-key' };
    const path = join(dir, 'keys', 'redis-cluster-key');
    const planned = await checkPlan(ec2KeyPair, ctx, args);
    assert.equal(descriptions(planned), [
      `generate an ed25519 key pair at ${path} (mode 0600, stays on the controller) and ${path}.pub ` +
        `(then ImportKeyPair redis-cluster-key (the public key of ${path}, made above) tags Name=redis-cluster-key,project=redis-lab)`,
    ]);
    // The key is made by apply, never by the plan: the operation names where, and holds no key.
    assert.equal(planned.changes[0]!.op, { kind: 'generate-key', path, comment: 'rplay redis-cluster-key' });
    assert.not.ok(existsSync(path));
    const run = await changedThenNot(ec2KeyPair, ctx, args);
    assert.is(statSync(path).mode & 0o777, 0o600);
    const pub = readFileSync(`${path}.pub`, 'utf8').trim();
    const { KeyPairs = [] } = await acct.ec2.describeKeyPairs({ KeyNames: ['redis-cluster-key'], IncludePublicKey: true });
    // The second round imported the public key it read from the key the first round wrote (no comment).
    const key = pub.split(' ').slice(0, 2).join(' ');
    assert.is(KeyPairs[0].PublicKey, key);
    const imported = run.applied[1]!.op as Ec2Op;
    assert.equal(imported.steps.map((s) => (s.do === 'call' ? [s.action, Buffer.from(s.params.PublicKeyMaterial as Buffer).toString()] : s.do)), [['ImportKeyPair', key]]);
    assert.equal(run.result?.result, { public_key: pub, fingerprint: KeyPairs[0].KeyFingerprint });
    const again = await checkPlan(ec2KeyPair, ctx, args);
    assert.is(again.result?.fingerprint, KeyPairs[0].KeyFingerprint);
  } finally {
    await acct.close();
  }
});

test('EC2 holds another key under the name: drift — deleted and imported from the controller key', async () => {
  const acct = await testAccount();
  try {
    const ctx = acct.ctx(dir);
    const path = join(dir, 'existing');
    const mine = generateEd25519('mine');
    writeFileSync(path, mine.privateKey, { mode: 0o600 });
    const theirs = generateEd25519('someone else').publicKey;
    const old = await acct.ec2.importKeyPair({ KeyName: 'k', PublicKeyMaterial: Buffer.from(theirs) });
    const args = { name: 'k', private_key_file: path };
    assert.equal(descriptions(await checkPlan(ec2KeyPair, ctx, args)), [
      `DeleteKeyPair k (fingerprint ${old.KeyFingerprint} is not ${path}'s ${ec2Fingerprint(mine.publicKey)})`,
      `ImportKeyPair k (the public key of ${path}, fingerprint ${ec2Fingerprint(mine.publicKey)}) tags Name=k`,
    ]);
    await changedThenNot(ec2KeyPair, ctx, args);
    const { KeyPairs = [] } = await acct.ec2.describeKeyPairs({ KeyNames: ['k'], IncludePublicKey: true });
    assert.is(KeyPairs[0].PublicKey, mine.publicKey.split(' ').slice(0, 2).join(' '));
    assert.not.ok(existsSync(`${path}.pub`), 'an existing key is read, nothing is written beside it');
  } finally {
    await acct.close();
  }
});

test('a key file someone made between plan and apply is never overwritten: the run fails, their key stays', async () => {
  const acct = await testAccount();
  try {
    const ctx = acct.ctx(dir);
    const path = join(dir, 'raced');
    const plan = await checkPlan(ec2KeyPair, ctx, { name: 'raced', private_key_file: path });
    writeFileSync(path, 'theirs', { mode: 0o600 });
    await ec2KeyPair.apply!(ctx, plan.changes.map((c) => c.op!) as never).then(
      () => assert.unreachable(),
      (e: Error) => assert.is(e.message, `${path} appeared after the plan was made: it is not replaced. Run again to import the key that is there now`),
    );
    assert.is(readFileSync(path, 'utf8'), 'theirs');
    assert.equal((await acct.ec2.describeKeyPairs({})).KeyPairs, []);
  } finally {
    await acct.close();
  }
});

test('a key EC2 cannot import (ECDSA) is an error before any call', async () => {
  const acct = await testAccount();
  try {
    const path = join(dir, 'ecdsa');
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }).toString();
    writeFileSync(path, pem, { mode: 0o600 });
    await ec2KeyPair.gather(acct.ctx(dir), { name: 'k', private_key_file: path }).then(
      () => assert.unreachable(),
      (e: Error) => assert.match(e.message, `${path}: EC2 imports ed25519 and RSA keys only, not ecdsa-sha2-nistp256`),
    );
  } finally {
    await acct.close();
  }
});

test.run();
