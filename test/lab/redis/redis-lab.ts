// Redis on lab hosts for the redis module tests, set up by hand the way the playbooks will: a CA and
// certificates made with openssl on the controller, the real templates/redis-cluster.conf.mustache
// rendered per instance, instances started as user redis. The modules under test then do the rest.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { parse as parseYaml } from 'yaml';
import type { Connection } from '../../../runner/connection/connection.js';
import { connectSsh } from '../../../runner/connection/ssh.js';
import { withBecome } from '../../../runner/connection/become.js';
import { inventoryOf } from '../../support/inventory-view.js';
import type { RedisLoginArgs } from '../../../modules/redis/login.js';
import type { ModuleContext, Vars } from '../../../runner/types.js';
import { evaluateExpression, Scope, toText } from '../../../runner/vars/index.js';
import { renderTemplate } from '../../../runner/vars/render-template.js';
import type { Lab, LabHost } from '../../lab-fixture.js';
import { repoDir } from '../../support/rplay-cli.js';

export const TLS_DIR = '/etc/redis/tls';

/** A password that passes the policy (≥ 16 characters) and Redis's config syntax. */
export function newPassword(): string {
  return randomBytes(18).toString('base64url');
}

/** Controller-side PKI in a temp folder: CA, one server certificate per host, rplay's admin client certificate. */
export interface Pki {
  dir: string;
  /** Project-relative or absolute paths, as modules take them. */
  admin: RedisLoginArgs['tls'];
  read(file: string): string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function makePki(hosts: readonly LabHost[]): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'rplay-redis-pki-'));
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=rplay test CA']);
  const leaf = (name: string, ext: string): void => {
    openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`]);
  };
  for (const h of hosts) leaf(h.name, `subjectAltName=DNS:${h.name},IP:${h.address},IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n`);
  leaf('rplay-admin', 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    admin: { ca: join(dir, 'ca.crt'), cert: join(dir, 'rplay-admin.crt'), key: join(dir, 'rplay-admin.key') },
    read: (file) => readFileSync(join(dir, file), 'utf8'),
  };
}

export function connectHost(lab: Lab, h: LabHost): Promise<Connection> {
  return connectSsh({ host: h.name, address: h.address, port: 22, user: 'ubuntu', privateKeyFile: lab.keyFile, knownHostsFile: lab.knownHostsFile });
}

/** A context as the engine builds it for a task with become. */
export function moduleContext(conn: Connection, vars: Vars = {}): ModuleContext {
  return { host: conn.host, conn: withBecome(conn, { become: true, becomeUser: 'root' }), vars, inventory: inventoryOf(vars), projectDir: repoDir, evaluate: (expr) => evaluateExpression(expr, Scope.of(vars)) };
}

export async function asRoot(conn: Connection, script: string, args: string[] = []): Promise<string> {
  const r = await conn.sh(script, args, { become: true });
  assert.is(r.rc, 0, `${script}\n${r.stderr}`);
  return r.stdout;
}

const CONF_TEMPLATE = 'templates/redis-cluster.conf.mustache';

/** The instance's config from the real template, with the given replication login. */
export function renderConfig(h: LabHost, port: number, replication: { user: string; password: string }): string {
  return renderTemplate(CONF_TEMPLATE, readFileSync(join(repoDir, CONF_TEMPLATE), 'utf8'), {
    redis_instance: { address: h.address, port },
    redis_tls_cert_file: `${TLS_DIR}/redis.crt`,
    redis_tls_key_file: `${TLS_DIR}/redis.key`,
    redis_tls_ca_file: `${TLS_DIR}/ca.crt`,
    redis_acl_file: '/etc/redis/users.acl',
    redis_replicas_per_master: 1,
    redis_replication_user: replication.user,
    redis_replication_password: replication.password,
  });
}

const UNIT_TEMPLATE = 'templates/redis.service.mustache';

/** The instance's systemd unit from the real template. */
export function renderUnit(h: LabHost, port: number): string {
  return renderTemplate(UNIT_TEMPLATE, readFileSync(join(repoDir, UNIT_TEMPLATE), 'utf8'), { redis_instance: { address: h.address, port } });
}

/** Certificates, folders and one config per port on the host (what tls.yml and config.yml do). */
export async function prepareHost(conn: Connection, h: LabHost, pki: Pki, ports: readonly number[], replication: { user: string; password: string }): Promise<void> {
  await asRoot(
    conn,
    `set -e
mkdir -p -m 0750 ${TLS_DIR} /run/redis /var/log/redis
for p in "$@"; do mkdir -p -m 0750 /var/lib/redis/$p; done
chown redis:redis ${TLS_DIR} /run/redis /var/log/redis /var/lib/redis/*`,
    ports.map(String),
  );
  const w = (path: string, data: string, mode: string): Promise<void> => conn.writeFile(path, data, { mode, owner: 'redis', group: 'redis', become: true });
  await w(`${TLS_DIR}/ca.crt`, pki.read('ca.crt'), '0644');
  await w(`${TLS_DIR}/redis.crt`, pki.read(`${h.name}.crt`), '0644');
  await w(`${TLS_DIR}/redis.key`, pki.read(`${h.name}.key`), '0600');
  for (const p of ports) await w(`/etc/redis/redis-${p}.conf`, renderConfig(h, p, replication), '0640');
}

/** Starts the instances as user redis and waits until each accepts connections. `extra`: more redis-server options. */
export async function startRedis(conn: Connection, ports: readonly number[], extra = ''): Promise<void> {
  await asRoot(
    conn,
    `for p in "$@"; do
  rm -f /var/log/redis/redis-$p.log
  runuser -u redis -- redis-server /etc/redis/redis-$p.conf --daemonize yes ${extra} || exit 1
done
for p in "$@"; do
  i=0
  until grep -q 'Ready to accept connections' /var/log/redis/redis-$p.log; do
    i=$((i + 1))
    if [ $i -gt 200 ]; then tail -n 20 /var/log/redis/redis-$p.log >&2; exit 1; fi
    sleep 0.025
  done
done`,
    ports.map(String),
  );
}

export interface ShippedUser {
  name: string;
  password?: string;
  enabled?: boolean;
  rules?: string;
}

/**
 * The shipped users (playbooks/vars/redis.yml), templated with that file's own variables as a play
 * would, each `vault_X` being passwords[X].
 */
export function shippedUsers(passwords: Record<string, string>): ShippedUser[] {
  const doc = parseYaml(readFileSync(join(repoDir, 'playbooks/vars/redis.yml'), 'utf8')) as Record<string, unknown>;
  const vault = Object.fromEntries(Object.entries(passwords).map(([k, v]) => [`vault_${k}`, v]));
  const users = Scope.of({ ...doc, ...vault }).get('redis_acl_users') as ShippedUser[];
  return users.map((u) => ({ ...u, name: toText(u.name), ...(u.password === undefined ? {} : { password: toText(u.password) }) }));
}
