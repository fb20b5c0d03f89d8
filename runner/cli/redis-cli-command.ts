// `rplay redis-cli -i INVENTORY HOST[:PORT] [--user NAME] [-- ARGS...]`: the system redis-cli against
// one instance, through the host's SSH connection, with TLS, rplay's client certificate and the
// user's password from the vault passed by environment (REDISCLI_AUTH), never on a command line.
// It replaces the runbook's five-line `redis-cli --tls --cert … --pass …`, repeated ten times.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { connectSsh } from '../connection/ssh.js';
import { connectionSettings } from '../inventory/connection-settings.js';
import { hostVarsFromInventory, loadInventory } from '../inventory/inventory.js';
import { inventoryPlugins } from './inventory-plugins.js';
import { localForward } from '../../modules/redis/local-forward.js';
import { redactingWriter } from '../reporters/writer.js';
import { revealAll } from '../secret.js';
import { resolveVaultPassword } from '../vault/password.js';
import { vaultDecrypter } from '../vault/vars.js';
import { viewOf } from '../execution/task-scope.js';
import { Scope } from '../vars/scope.js';
import { loadVarsFile, setVaultDecrypter } from '../vars/vars-file.js';

const USAGE = 'usage: rplay redis-cli -i INVENTORY HOST[:PORT] [--user NAME] [--vars FILE] [--vault-password-file F] [-- ARGS...]';

interface AclUser {
  name: string;
  password?: unknown;
}

export async function redisCliCommand(argv: string[]): Promise<number> {
  const err = redactingWriter(process.stderr);
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        inventory: { type: 'string', short: 'i', multiple: true },
        user: { type: 'string' },
        vars: { type: 'string' },
        'vault-password-file': { type: 'string' },
        'ask-vault-pass': { type: 'boolean' },
      },
    });
  } catch (e) {
    err.line(`rplay redis-cli: ${(e as Error).message}\n${USAGE}`);
    return 1;
  }
  const { values: v, positionals } = parsed;
  const [target, ...cliArgs] = positionals;
  if (!target || !v.inventory?.length) {
    err.line(USAGE);
    return 1;
  }
  const [host, portText] = target.split(':');
  try {
    setVaultDecrypter(vaultDecrypter(await resolveVaultPassword({ passwordFile: v['vault-password-file'], askPass: v['ask-vault-pass'] ?? false })));
    const inventory = await loadInventory(v.inventory, { plugins: inventoryPlugins });
    if (!inventory.hosts.has(host!)) throw new Error(`host '${host}' is not in the inventory`);
    const varsFile = resolve(v.vars ?? 'playbooks/vars/redis.yml');
    const playVars = existsSync(varsFile) ? await loadVarsFile(varsFile) : {};
    const scope = new Scope([
      { vars: hostVarsFromInventory(inventory, host!) },
      { vars: { inventory_hostname: host, playbook_dir: process.cwd() }, literal: true },
      { vars: playVars },
    ]);
    const value = (name: string): unknown => revealAll(scope.get(name));
    const user = v.user ?? String(value('redis_admin_user'));
    const password = passwordOf(user, value);
    const tls = value('redis_admin_tls') as { ca: string; cert: string; key: string };
    const port = portText ? Number(portText) : Number(value('redis_port'));
    const address = String(value('private_ip'));

    const s = connectionSettings(viewOf(scope), host);
    const conn = await connectSsh({ host: host!, address: s.address, port: s.port, user: s.user, privateKeyFile: s.privateKeyFile, knownHostsFile: s.knownHostsFile, acceptNew: s.acceptNew });
    const fwd = await localForward(conn, address, port);
    try {
      const args = ['--tls', '--cacert', tls.ca, '--cert', tls.cert, '--key', tls.key, '-h', '127.0.0.1', '-p', String(fwd.port), '--user', user, ...cliArgs];
      return await new Promise<number>((done) => {
        const child = spawn('redis-cli', args, { stdio: 'inherit', env: { ...process.env, REDISCLI_AUTH: password } });
        child.on('error', (e) => {
          err.line(`rplay redis-cli: cannot run redis-cli (${e.message}); install redis-tools`);
          done(1);
        });
        child.on('exit', (code) => done(code ?? 1));
      });
    } finally {
      await fwd.close();
      await conn.close();
    }
  } catch (e) {
    err.line(`rplay redis-cli: ${(e as Error).message}`);
    return 1;
  }
}

/** The admin user's password, or a user's from redis_acl_users (both come from the vault). */
function passwordOf(user: string, value: (name: string) => unknown): string {
  if (user === value('redis_admin_user')) return String(value('redis_admin_password'));
  const users = value('redis_acl_users') as AclUser[];
  const found = users.find((u) => u.name === user);
  if (!found?.password) throw new Error(`no password for Redis user '${user}' in redis_acl_users`);
  return String(found.password);
}
