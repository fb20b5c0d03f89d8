// The shipped Redis templates render the runbook's settings, fixed: TLS only on the private address,
// cluster bus and replication over TLS, per-instance files, the replication login, run as redis.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderTemplate } from '../../../runner/vars/render-template.js';
import { repoDir } from '../../support/rplay-cli.js';

const vars = {
  redis_instance: { address: '10.0.2.10', port: 6380 },
  redis_tls_cert_file: '/etc/redis/tls/redis.crt',
  redis_tls_key_file: '/etc/redis/tls/redis.key',
  redis_tls_ca_file: '/etc/redis/tls/ca.crt',
  redis_acl_file: '/etc/redis/users.acl',
  redis_replicas_per_master: 1,
  redis_replication_user: 'replication_user',
  redis_replication_password: 'repl-Pass&<word>-0123',
};

const render = (file: string, view: Record<string, unknown> = vars): string =>
  renderTemplate(`templates/${file}`, readFileSync(join(repoDir, 'templates', file), 'utf8'), view);

/** Directive lines (no comments, no blanks) as "key value". */
const directives = (text: string): string[] => text.split('\n').filter((l) => l.trim() && !l.startsWith('#'));

test('redis-cluster.conf: every runbook setting, per instance, TLS only on the private address', () => {
  assert.equal(directives(render('redis-cluster.conf.mustache')), [
    'port 0',
    'tls-port 6380',
    'bind 10.0.2.10',
    'bind-source-addr 10.0.2.10',
    'protected-mode yes',
    'cluster-enabled yes',
    'cluster-config-file /var/lib/redis/6380/nodes.conf',
    'cluster-node-timeout 5000',
    'cluster-announce-ip 10.0.2.10',
    'tls-cert-file /etc/redis/tls/redis.crt',
    'tls-key-file /etc/redis/tls/redis.key',
    'tls-ca-cert-file /etc/redis/tls/ca.crt',
    'tls-auth-clients yes',
    'tls-replication yes',
    'tls-cluster yes',
    'tls-protocols "TLSv1.2 TLSv1.3"',
    'aclfile /etc/redis/users.acl',
    'masteruser replication_user',
    'masterauth repl-Pass&<word>-0123',
    'dir /var/lib/redis/6380',
    'appendonly yes',
    'appendfsync everysec',
    'repl-diskless-sync-max-replicas 1',
    'daemonize no',
    'pidfile /run/redis/redis-6380.pid',
    'loglevel notice',
    'logfile /var/log/redis/redis-6380.log',
  ]);
});

test('redis-cluster.conf names a missing variable with the template line instead of rendering ""', () => {
  const { redis_replication_password: _, ...missing } = vars;
  assert.throws(() => render('redis-cluster.conf.mustache', missing), /templates\/redis-cluster\.conf\.mustache:\d+: undefined variable 'redis_replication_password'/);
});

test('redis.service: one unit per instance, redis-server on its own config, as user redis', () => {
  const unit = directives(render('redis.service.mustache'));
  assert.ok(unit.includes('ExecStart=/usr/bin/redis-server /etc/redis/redis-6380.conf'), unit.join('\n'));
  assert.ok(unit.includes('User=redis') && unit.includes('Group=redis'));
  assert.ok(unit.includes('RuntimeDirectory=redis') && unit.includes('RuntimeDirectoryPreserve=yes'));
  assert.ok(unit.includes('WantedBy=multi-user.target'));
  assert.not.ok(unit.some((l) => /^User=root/.test(l)));
});

test.run();
