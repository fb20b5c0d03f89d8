// redis_config's pure parts: Redis's config-line syntax, the shipped template as wanted settings, value
// comparison, and the plan from gathered facts — drift named with live and wanted values (secrets
// never), CONFIG SET where Redis can change a setting live, a restart of that instance where it cannot,
// and a served certificate that is not the one on disk reloaded.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigTextError, configFixes, parseConfig, redisConfig, RESTART_ONLY, sameValue, splitConfigLine, type ConfigState, type RunningInstance } from '../../../modules/redis-config.js';
import { checkArgs } from '../../../runner/playbook/validate-args.js';
import { ModuleError } from '../../../runner/types.js';
import { renderTemplate } from '../../../runner/vars/render-template.js';
import { repoDir } from '../../support/rplay-cli.js';
import { thrown } from '../../support/thrown.js';

const SECRET_PASSWORD = 'repl-Pass&<word>-0123';
const FP = 'AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99';
const OTHER_FP = '11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00';

const template = (): string =>
  renderTemplate('templates/redis-cluster.conf.mustache', readFileSync(join(repoDir, 'templates/redis-cluster.conf.mustache'), 'utf8'), {
    redis_instance: { address: '10.0.2.10', port: 6380 },
    redis_tls_cert_file: '/etc/redis/tls/redis.crt',
    redis_tls_key_file: '/etc/redis/tls/redis.key',
    redis_tls_ca_file: '/etc/redis/tls/ca.crt',
    redis_acl_file: '/etc/redis/users.acl',
    redis_replicas_per_master: 1,
    redis_replication_user: 'replication_user',
    redis_replication_password: SECRET_PASSWORD,
  });

const wanted = () => parseConfig(template(), 'templates/redis-cluster.conf.mustache');

/** A converged instance: every live value as the template wants it, serving the certificate on disk. */
function state(over: { values?: Record<string, string>; served?: RunningInstance['served']; disk?: ConfigState['disk'] | null } = {}): ConfigState {
  const values = Object.fromEntries(wanted().map((w) => [w.name, w.value]));
  const disk = over.disk === null ? {} : { disk: over.disk ?? { path: '/etc/redis/tls/redis.crt', fingerprint256: FP } };
  return {
    where: '10.0.2.10:6380',
    service: 'redis-6380',
    init: 'systemd',
    source: 'templates/redis-cluster.conf.mustache',
    wanted: wanted(),
    ...disk,
    live: { running: true, pid: 4242, values: { ...values, ...over.values }, served: over.served ?? { fingerprint256: FP, verified: true } },
  };
}

const ARGS = { address: '10.0.2.10', port: 6380, service: 'redis-6380', src: 'redis-cluster.conf.mustache', login_user: 'admin_user', login_password: 'admin-Pass-0123456789', tls: { ca: 'ca.crt', cert: 'c.crt', key: 'c.key' } };
const plan = (s: ConfigState) => redisConfig.plan(ARGS, s);
/** Each change's description split at its "; ": the reasons, then what is done. */
const descriptions = (s: ConfigState): string[] => plan(s).changes.flatMap((c) => c.description.split('; '));

test("config lines split as Redis splits them: blanks, \"…\" with escapes, '…'", () => {
  assert.equal(splitConfigLine('tls-protocols "TLSv1.2 TLSv1.3"'), ['tls-protocols', 'TLSv1.2 TLSv1.3']);
  assert.equal(splitConfigLine('  masterauth "a\\"b\\\\c\\x41\\n"  '), ['masterauth', 'a"b\\cA\n']);
  assert.equal(splitConfigLine("masterauth 'it\\'s \"here\"'"), ['masterauth', 'it\'s "here"']);
  assert.equal(splitConfigLine('save ""'), ['save', '']);
  assert.throws(() => splitConfigLine('masterauth "open'), /unbalanced " quote/);
  assert.throws(() => splitConfigLine('masterauth "a"b'), /closing " quote must be followed by a blank/);
});

test('the shipped template as wanted settings: every directive, joined as CONFIG GET prints them', () => {
  const w = wanted();
  assert.equal(
    w.map((x) => x.name),
    template()
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('#'))
      .map((l) => l.split(' ')[0]),
  );
  assert.is(w.length, 27);
  assert.equal(w.find((x) => x.name === 'tls-protocols'), { name: 'tls-protocols', value: 'TLSv1.2 TLSv1.3' });
  assert.equal(w.find((x) => x.name === 'appendonly'), { name: 'appendonly', value: 'yes' });
  assert.equal(w.find((x) => x.name === 'masterauth'), { name: 'masterauth', value: SECRET_PASSWORD });
  assert.equal(w.find((x) => x.name === 'dir'), { name: 'dir', value: '/var/lib/redis/6380' });
});

test('a setting given twice, or a line that is no setting, is refused with file:line', () => {
  const e = thrown(() => parseConfig('appendonly yes\n# c\nappendonly no\n', 'redis.conf'), ConfigTextError);
  assert.is(e.message, "redis.conf:3: 'appendonly' is set again (first on line 1); rplay compares one value per setting");
  assert.throws(() => parseConfig('"port" 1\n1x 2\n', 'r.conf'), /r\.conf:2: '1x' is not a setting name/);
});

test('values compare as Redis prints them back: yes/no in any case, memory units as bytes, the rest exactly', () => {
  assert.ok(sameValue('yes', 'YES'));
  assert.not.ok(sameValue('no', 'yes'));
  assert.ok(sameValue('1073741824', '1gb'));
  assert.ok(sameValue('1000000', '1m'));
  assert.not.ok(sameValue('1000000', '1mb'));
  assert.ok(sameValue('TLSv1.2 TLSv1.3', 'TLSv1.2 TLSv1.3'));
  assert.not.ok(sameValue('/var/lib/redis/6380', '/var/lib/Redis/6380'));
  assert.not.ok(sameValue('5000', '05000x'));
});

test('converged: no change, the pid and served certificate in the result', () => {
  const p = plan(state());
  assert.equal(p.changes, []);
  assert.equal(p.result, { pid: 4242, served_fingerprint256: FP });
  assert.match(p.msg ?? '', /\(pid 4242\) runs with the 27 setting\(s\) of templates\/redis-cluster\.conf\.mustache, serving \/etc\/redis\/tls\/redis\.crt/);
});

test('CONFIG SET appendonly no by hand: named with live and wanted, put back live', () => {
  const s = state({ values: { appendonly: 'no', 'cluster-node-timeout': '15000' } });
  assert.equal(descriptions(s), [
    'cluster-node-timeout: live 15000, wanted 5000',
    'appendonly: live no, wanted yes',
    'CONFIG SET cluster-node-timeout appendonly on 10.0.2.10:6380',
  ]);
  assert.is(plan(s).changes.length, 1, 'the reasons and the CONFIG SET are one change');
  assert.equal(configFixes(s), [
    {
      kind: 'set',
      settings: [
        { name: 'cluster-node-timeout', value: '5000' },
        { name: 'appendonly', value: 'yes' },
      ],
      reasons: ['cluster-node-timeout: live 15000, wanted 5000', 'appendonly: live no, wanted yes'],
    },
  ]);
});

test('a drifted masterauth is named, its values never shown', () => {
  const s = state({ values: { masterauth: 'hand-set-secret-value' } });
  const text = descriptions(s).join('\n');
  assert.is(text, 'masterauth: live value differs from the wanted one (secret, not shown)\nCONFIG SET masterauth on 10.0.2.10:6380');
  assert.not.ok(text.includes('hand-set-secret-value') || text.includes(SECRET_PASSWORD));
});

test('a setting Redis cannot change live restarts that instance only, every drift named', () => {
  assert.ok(RESTART_ONLY.has('dir') && RESTART_ONLY.has('cluster-enabled') && !RESTART_ONLY.has('appendonly'));
  const s = state({ values: { dir: '/tmp', appendonly: 'no' } });
  assert.equal(descriptions(s), [
    'dir: live /tmp, wanted /var/lib/redis/6380 (not changeable live)',
    'appendonly: live no, wanted yes',
    'restart redis-6380 (this instance only): Redis cannot change this live',
  ]);
  assert.is(configFixes(s)[0]?.kind, 'restart');
});

test('a served certificate that is not the one on disk is reloaded from disk, without a restart', () => {
  const s = state({ served: { fingerprint256: OTHER_FP, verified: false, whyNot: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' } });
  assert.equal(descriptions(s), [
    '10.0.2.10:6380 serves certificate SHA-256 11:22:33:44:55:66:77:88…, /etc/redis/tls/redis.crt holds AA:BB:CC:DD:EE:FF:00:11…',
    'CONFIG SET tls-cert-file tls-key-file on 10.0.2.10:6380 (reloads TLS from disk, no restart)',
  ]);
  assert.equal(configFixes(s)[0], {
    kind: 'set',
    settings: [
      { name: 'tls-cert-file', value: '/etc/redis/tls/redis.crt' },
      { name: 'tls-key-file', value: '/etc/redis/tls/redis.key' },
    ],
    reasons: [descriptions(s)[0]],
  });
});

test('served = disk but the CA does not verify it (the certificate task would replace it): a change, not ok', () => {
  const s = state({ served: { fingerprint256: FP, verified: false, whyNot: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' } });
  assert.equal(descriptions(s)[0], '10.0.2.10:6380 serves /etc/redis/tls/redis.crt, which the CA does not verify (UNABLE_TO_VERIFY_LEAF_SIGNATURE)');
});

test('certificate: false (another task loads it): a different served certificate is not this task\'s change', () => {
  const s = state({ disk: null, served: { fingerprint256: OTHER_FP, verified: false, whyNot: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' } });
  assert.equal(descriptions(s), []);
});

test('the certificate file missing on disk (check mode before the certificate task): a reload, named', () => {
  const s = state({ disk: { path: '/etc/redis/tls/redis.crt', missing: 'is missing' } });
  assert.ok(plan(s).changes[0]?.description.startsWith('10.0.2.10:6380 serves certificate SHA-256 AA:BB:CC:DD:EE:FF:00:11…; /etc/redis/tls/redis.crt is missing; CONFIG SET'));
});

test('an instance that does not answer has nothing live to compare: ok, saying so', () => {
  const s: ConfigState = { ...state(), live: { running: false, unit: 'inactive' } };
  const p = plan(s);
  assert.equal(p.changes, []);
  assert.is(p.msg, 'nothing accepts connections on 10.0.2.10:6380 (redis-6380: inactive): it reads its config file when it starts');
});

test('a wanted setting this Redis does not know is an error naming it, never drift forever', () => {
  const s = state();
  const live = s.live as RunningInstance;
  const { 'repl-diskless-sync-max-replicas': _gone, ...values } = live.values;
  const e = thrown(() => configFixes({ ...s, live: { ...live, values } }), ModuleError);
  assert.is(e.message, "redis_config: 10.0.2.10:6380 has no setting 'repl-diskless-sync-max-replicas' (CONFIG GET returns nothing); templates/redis-cluster.conf.mustache names what this Redis does not know");
});

test('the CONFIG SET op: the instance, the login, the settings and what is checked afterwards; no pin for a verified certificate', () => {
  const s = state({ values: { appendonly: 'no' } });
  const [change] = plan(s).changes;
  const { live: _live, ...expect } = s;
  assert.equal(change?.op, {
    kind: 'config-set',
    address: '10.0.2.10',
    port: 6380,
    login: { login_user: 'admin_user', login_password: 'admin-Pass-0123456789', tls: ARGS.tls },
    settings: [{ name: 'appendonly', value: 'yes' }],
    reasons: ['appendonly: live no, wanted yes'],
    names: Object.keys((s.live as RunningInstance).values),
    expect,
  });
});

test('an unverified served certificate: the op pins exactly the one seen, nothing else is accepted', () => {
  const s = state({ served: { fingerprint256: OTHER_FP, verified: false, whyNot: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' } });
  const op = plan(s).changes[0]?.op;
  assert.ok(op?.kind === 'config-set');
  assert.is(op.pinnedFingerprint256, OTHER_FP);
});

test('a restart op names the unit and the init system, nothing of the login', () => {
  const op = plan(state({ values: { dir: '/tmp' } })).changes[0]?.op;
  assert.equal(op, { kind: 'restart', service: 'redis-6380', init: 'systemd', reasons: ['dir: live /tmp, wanted /var/lib/redis/6380 (not changeable live)'] });
});

test('args: the wanted settings come from a template or a mapping, exactly one of them', () => {
  const base = { address: '10.0.2.10', port: 6380, service: 'redis-6380', login_user: 'admin_user', login_password: 'x'.repeat(16), tls: { ca: 'ca', cert: 'c', key: 'k' } };
  assert.is(checkArgs(redisConfig, { ...base, src: 'redis-cluster.conf.mustache' }, false), undefined);
  assert.is(checkArgs(redisConfig, { ...base, settings: { appendonly: true, 'cluster-node-timeout': 5000 } }, false), undefined);
  assert.ok(checkArgs(redisConfig, base, false), 'neither src nor settings');
  assert.ok(checkArgs(redisConfig, { ...base, src: 'a', settings: { appendonly: 'yes' } }, false), 'both');
  assert.ok(checkArgs(redisConfig, { ...base, settings: { 'Bad Name': 'x' } }, false), 'a setting name Redis has not');
});

test.run();
