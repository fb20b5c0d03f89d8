// A hostile host over SSH: huge, endless and framing-like output, a hang, a background writer; host
// keys that changed type, are revoked or only signed by a CA; become from the inventory.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CommandLimitError, ConnectionError, type Connection } from '../../runner/connection/connection.js';
import { connectSsh } from '../../runner/connection/ssh.js';
import { inHost, labLayout } from '../../lab/lab-layout.js';
import { startLab, type Lab } from '../lab-fixture.js';
import { onHost } from '../support/on-host.js';
import { rplayJson } from '../support/rplay-cli.js';

const test = suite('connections to a hostile lab host');
let lab: Lab;
let conn: Connection;
const addr = (): string => lab.hosts[0]!.address;
const hostDir = (): string => labLayout(lab.dir).hostDir('node-1');
const env = (): Record<string, string> => ({ RPLAY_STATE_DIR: join(lab.dir, 'controller-state') });

async function rejected(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

function connect(port = 22, knownHostsFile = lab.knownHostsFile, acceptNew = false): Promise<Connection> {
  return connectSsh({ host: 'node-1', address: addr(), port, user: 'ubuntu', privateKeyFile: lab.keyFile, knownHostsFile, acceptNew });
}

/** The public key blob (base64) of a key file written by ssh-keygen. */
const pub = (file: string): string => readFileSync(`${file}.pub`, 'utf8').split(/\s+/)[1]!;

/** A second sshd on node-1 at `port`, presenting the host keys `types`; returns each key's file. */
async function sshdWith(port: number, types: string[]): Promise<Record<string, string>> {
  const keys: Record<string, string> = {};
  for (const t of types) {
    keys[t] = join(hostDir(), `extra_${port}_${t}`);
    execFileSync('ssh-keygen', ['-q', '-t', t, '-N', '', '-f', keys[t]!]);
  }
  const layout = labLayout(lab.dir);
  const base = readFileSync(layout.sshdConfig('node-1'), 'utf8')
    .split('\n')
    .filter((l) => !/^(ListenAddress|HostKey|PidFile)\b/.test(l));
  const conf = join(hostDir(), `sshd_${port}`);
  writeFileSync(conf, [`ListenAddress ${addr()}:${port}`, ...types.map((t) => `HostKey ${inHost(layout, keys[t]!)}`), `PidFile /run/sshd-${port}.pid`, ...base].join('\n'));
  const r = await onHost(lab, 'node-1', `/usr/sbin/sshd -f ${inHost(layout, conf)}`);
  assert.is(r.rc, 0, r.stderr);
  return keys;
}

test.before(async () => {
  lab = await startLab({ hosts: 1, prefix: '127.0.47' });
  conn = await connect();
});
test.after(async () => {
  await conn?.close();
  await lab?.down();
});

test('100 MiB and endless output are refused with the cap error; the session (login and become) still works', async () => {
  for (const become of [false, true]) {
    const e = await rejected(conn.sh('head -c 104857600 /dev/zero', [], { become }));
    assert.instance(e, CommandLimitError);
    assert.match(e.message, /command on node-1 printed more than 64 MiB on stdout/);
    assert.match((await rejected(conn.sh('yes', [], { become, maxOutputBytes: 8 << 20 }))).message, /more than 8 MiB on stdout/);
    assert.is((await conn.sh('id -un', [], { become })).stdout, become ? 'root\n' : 'ubuntu\n');
  }
  const left = await onHost(lab, 'node-1', 'ps -e -o comm= | grep -cx yes || true');
  assert.is(left.stdout.trim(), '0');
});

test("a background writer does not reach the next command's output", async () => {
  await conn.sh('(sleep 0.3; echo LEAK) & ( (sleep 0.3; echo LEAK >&2) & ); echo started', [], { become: true });
  assert.equal(await conn.sh('sleep 0.6; echo clean', [], { become: true }), { rc: 0, stdout: 'clean\n', stderr: '' });
});

test('framing look-alikes, NUL and invalid UTF-8 come back as printed; 16 MiB byte-exact', async () => {
  const r = await conn.sh(`printf '__RPLAY_0:0\\n\\n%s\\n' "$1"; printf 'a\\000b\\377'`, ['__RPLAY_x:S']);
  assert.equal(r, { rc: 0, stdout: '__RPLAY_0:0\n\n__RPLAY_x:S\na\0b\ufffd', stderr: '' });
  const big = await conn.sh('head -c 12582912 /dev/urandom | base64 -w 0 | tee /tmp/big | sha256sum | cut -c1-64; cat /tmp/big');
  const [sum, ...rest] = big.stdout.split('\n');
  const data = rest.join('\n');
  assert.is(data.length, 16777216);
  assert.is(createHash('sha256').update(data).digest('hex'), sum);
});

test("a hung task with timeout: 1 fails naming the timeout, its process is gone from the host, the next task works", async () => {
  const tag = `86${randomBytes(3).readUIntBE(0, 3)}`;
  const book = join(lab.dir, 'hang.yml');
  writeFileSync(book, `- hosts: all\n  gather_facts: false\n  tasks:\n    - name: Hang\n      shell: sleep ${tag}\n      become: true\n      timeout: 1\n      ignore_errors: true\n    - name: After\n      shell: echo after\n      become: true\n`);
  const t = Date.now();
  const r = await rplayJson([book, '-i', lab.inventoryPath], { env: env() });
  assert.ok(Date.now() - t < 15_000);
  const [hang, after] = r.json.plays[0]!.tasks;
  assert.is(hang!.results['node-1']!.status, 'failed');
  assert.match(hang!.results['node-1']!.msg ?? '', /command on node-1 timed out after 1 s \(the task's timeout:\)/);
  assert.is(after!.results['node-1']!.status, 'changed');
  const ps = await onHost(lab, 'node-1', `ps -e -o args= | grep -cx "sleep ${tag}" || true`);
  assert.is(ps.stdout.trim(), '0');
});

test('readFile over SSH: a root-only file is refused to the login user and read byte-exact with become', async () => {
  const bytes = Buffer.concat([randomBytes(200_000), Buffer.from([0, 0xff, 0x0a])]);
  const path = '/tmp/rplay-read-test.bin';
  await conn.writeFile(path, bytes, { become: true, mode: '0600' });
  const e = await rejected(conn.readFile(path));
  assert.match(e.message, new RegExp(`^reading ${path} on node-1 failed: .*Permission denied`));
  assert.ok((await conn.readFile(path, { become: true })).equals(bytes));
  assert.match((await rejected(conn.readFile(path, { become: true, maxBytes: 1000 }))).message, `${bytes.length} bytes, more than the 1000 bytes allowed`);
});

test('become from the inventory: ansible_become_user is honoured, a task keyword wins, su is refused', async () => {
  const inv = join(lab.dir, 'become-inventory.yml');
  const vars = (extra: string): string =>
    `all:\n  hosts:\n    node-1:\n      ansible_host: ${addr()}\n      ansible_user: ubuntu\n      ansible_ssh_private_key_file: ${lab.keyFile}\n      rplay_known_hosts_file: ${lab.knownHostsFile}\n      ansible_become: true\n${extra}`;
  writeFileSync(inv, vars('      ansible_become_user: nobody\n'));
  const book = join(lab.dir, 'whoami.yml');
  writeFileSync(
    book,
    `- hosts: all\n  gather_facts: false\n  tasks:\n    - shell: whoami\n      register: who\n    - assert: { that: ["who.stdout == 'nobody'"] }\n    - shell: whoami\n      become_user: root\n      register: who\n    - assert: { that: ["who.stdout == 'root'"] }\n`,
  );
  const r = await rplayJson([book, '-i', inv], { env: env() });
  assert.is(r.code, 0, JSON.stringify(r.json.plays[0]!.tasks.map((t) => t.results['node-1'])));
  writeFileSync(inv, vars('      ansible_become_method: su\n'));
  const su = await rplayJson([book, '-i', inv], { env: env() });
  assert.is(su.code, 2);
  assert.match(su.json.plays[0]!.tasks[0]!.results['node-1']!.msg ?? '', /host node-1: ansible_become_method 'su' is not supported/);
});

test('a become_user with shell metacharacters is refused by sudo as a user name; nothing runs', async () => {
  await onHost(lab, 'node-1', 'rm -f /tmp/pwned');
  const e = await rejected(conn.sh('id', [], { become: true, becomeUser: 'a;touch /tmp/pwned' }));
  assert.match(e.message, /become failed on node-1: .*a;touch \/tmp\/pwned/);
  assert.is((await onHost(lab, 'node-1', 'test -e /tmp/pwned; echo $?')).stdout, '1\n');
});

test('a host known by its ed25519 key that presents an ecdsa key is refused, even with accept-new; nothing is added', async () => {
  await sshdWith(2201, ['ecdsa']);
  const kh = join(lab.dir, 'kh-2201');
  const other = join(hostDir(), 'unrelated_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
  writeFileSync(kh, `[${addr()}]:2201 ssh-ed25519 ${pub(other)}\n`);
  const e = await rejected(connect(2201, kh, true));
  assert.instance(e, ConnectionError);
  assert.match(e.message, /host key for node-1 .* has CHANGED .*kh-2201:1 .*ecdsa-sha2-nistp256 presented/);
  assert.is(readFileSync(kh, 'utf8'), `[${addr()}]:2201 ssh-ed25519 ${pub(other)}\n`);
});

test('a host with ed25519 and ecdsa keys known by either one connects; a revoked key and a CA-only host are refused', async () => {
  const keys = await sshdWith(2202, ['ed25519', 'ecdsa']);
  const kh = join(lab.dir, 'kh-2202');
  for (const t of ['ecdsa', 'ed25519'] as const) {
    const type = t === 'ecdsa' ? 'ecdsa-sha2-nistp256' : 'ssh-ed25519';
    writeFileSync(kh, `[${addr()}]:2202 ${type} ${pub(keys[t]!)}\n`);
    const c = await connect(2202, kh);
    assert.is((await c.sh('echo in')).stdout, 'in\n');
    await c.close();
  }
  writeFileSync(kh, `[${addr()}]:2202 ssh-ed25519 ${pub(keys.ed25519!)}\n@revoked * ssh-ed25519 ${pub(keys.ed25519!)}\n`);
  assert.match((await rejected(connect(2202, kh, true))).message, /host key for node-1 .* is REVOKED \(@revoked at .*kh-2202:2\)/);
  writeFileSync(kh, `@cert-authority * ssh-ed25519 ${pub(keys.ed25519!)}\n`);
  assert.match((await rejected(connect(2202, kh, true))).message, /known only through a @cert-authority line .*kh-2202:1.*does not verify host certificates/);
  assert.is(readFileSync(kh, 'utf8'), `@cert-authority * ssh-ed25519 ${pub(keys.ed25519!)}\n`);
});

test.run();
