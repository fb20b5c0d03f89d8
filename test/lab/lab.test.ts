// The lab for real: hosts reached with the OpenSSH client, their isolation, power off/on, up/down.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readlinkSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { labUp } from '../../lab/lab.js';
import { readLabState } from '../../lab/lab-state.js';
import { startLab, type Lab } from '../lab-fixture.js';

const PREFIX = '127.0.9';
const LAB_COMMAND = fileURLToPath(new URL('../../runner/cli/lab-command.js', import.meta.url));

interface Run {
  rc: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ rc: code, stdout, stderr });
    });
  });
}

function ssh(lab: Lab, address: string, command: string): Promise<Run> {
  return run('ssh', [
    '-i', lab.keyFile,
    '-o', `UserKnownHostsFile=${lab.knownHostsFile}`,
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes',
    '-o', 'ConnectTimeout=5',
    `ubuntu@${address}`,
    command,
  ]);
}

/** `rplay lab ARGS` through the command's entry point, in a child process. */
function labCli(args: string[], asUser?: number): Promise<Run> {
  const script = `const { labCommand } = await import(${JSON.stringify(LAB_COMMAND)}); process.exitCode = await labCommand(process.argv.slice(1));`;
  const node = ['--input-type=module', '-e', script, '--', ...args];
  return asUser === undefined ? run(process.execPath, node) : run('setpriv', [`--reuid=${asUser}`, `--regid=${asUser}`, '--clear-groups', process.execPath, ...node]);
}

function pids(lab: Lab): Record<string, number | null> {
  const state = readLabState(join(lab.dir, 'state.json'));
  return Object.fromEntries((state?.hosts ?? []).map((h) => [h.name, h.pid]));
}

/** The PID namespace of a host ("pid:[4026532…]"), read through its PID 1. */
function namespaceOf(pid: number): string {
  return readlinkSync(`/proc/${pid}/ns/pid`);
}

/** Every process on the machine that lives in one of these PID namespaces. */
function processesIn(namespaces: string[]): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return namespaces.includes(readlinkSync(`/proc/${e}/ns/pid`));
      } catch {
        return false; // ended while listing
      }
    })
    .map(Number);
}

let lab: Lab;

test.before(async () => {
  lab = await startLab({ hosts: 3, prefix: PREFIX });
});

test.after(async () => {
  await lab?.down();
});

test('each host answers the OpenSSH client with its own hostname, host key checked strictly', async () => {
  assert.equal(lab.hosts, [
    { name: 'node-1', address: `${PREFIX}.1` },
    { name: 'node-2', address: `${PREFIX}.2` },
    { name: 'node-3', address: `${PREFIX}.3` },
  ]);
  for (const h of lab.hosts) {
    const r = await ssh(lab, h.address, 'hostname; cat /etc/hostname');
    assert.equal(r, { rc: 0, stdout: `${h.name}\n${h.name}\n`, stderr: '' });
  }
});

test('ubuntu has passwordless sudo and the hostname resolves locally', async () => {
  const r = await ssh(lab, `${PREFIX}.2`, 'id -un; sudo -n id -u; getent hosts node-2');
  assert.equal(r.stderr, '');
  assert.equal(r.stdout.split('\n').map((l) => l.trim().replace(/\s+/g, ' ')), ['ubuntu', '0', `${PREFIX}.2 node-2`, '']);
});

test('a file written to /srv on node-1 is not visible on node-2 nor on the machine', async () => {
  const w = await ssh(lab, `${PREFIX}.1`, 'echo only-node-1 | sudo -n tee /srv/lab-probe >/dev/null && cat /srv/lab-probe');
  assert.equal(w, { rc: 0, stdout: 'only-node-1\n', stderr: '' });
  const r = await ssh(lab, `${PREFIX}.2`, 'ls -A /srv; test -e /srv/lab-probe');
  assert.equal(r, { rc: 1, stdout: '', stderr: '' });
  assert.not.ok(existsSync('/srv/lab-probe'));
  assert.equal(readFileSync(join(lab.dir, 'hosts/node-1/root/srv/lab-probe'), 'utf8'), 'only-node-1\n');
});

test('a host sees only its own processes, under tini as PID 1', async () => {
  const r = await ssh(lab, `${PREFIX}.3`, 'ps -o pid=,comm= -p 1; ps -e -o comm= | sort -u | tr "\\n" " "');
  assert.equal(r.stdout.split('\n')[0].trim(), '1 tini');
  assert.ok(!r.stdout.includes('node'), r.stdout);
});

test('lab up again leaves running hosts alone', async () => {
  const before = pids(lab);
  const result = await labUp(lab.dir, { hosts: 3, prefix: PREFIX });
  assert.equal(result, { started: [], alreadyUp: ['node-1', 'node-2', 'node-3'] });
  assert.equal(pids(lab), before);
});

test('stop powers a host off (every process ends, connections refused); start boots it with its enabled units', async () => {
  // An enabled unit, written the way the service module would (unit file plus wants symlink).
  const systemd = join(lab.dir, 'hosts/node-2/root/etc/systemd/system');
  writeFileSync(join(systemd, 'lab-probe.service'), '[Service]\nExecStart=/bin/sleep 86423\n\n[Install]\nWantedBy=multi-user.target\n');
  mkdirSync(join(systemd, 'multi-user.target.wants'), { recursive: true });
  symlinkSync('/etc/systemd/system/lab-probe.service', join(systemd, 'multi-user.target.wants/lab-probe.service'));

  const ns = namespaceOf(pids(lab)['node-2'] as number);
  assert.ok(processesIn([ns]).length >= 2); // tini and sshd at least
  await lab.stop('node-2');
  assert.equal(processesIn([ns]), []);
  const refused = await ssh(lab, `${PREFIX}.2`, 'true');
  assert.equal(refused.rc, 255);
  assert.match(refused.stderr, 'Connection refused');
  const status = await labCli(['status', '--dir', lab.dir]);
  assert.equal(status.stdout.split('\n').map((l) => l.split(/\s+/).join(' ')), [
    `node-1 ${PREFIX}.1 up`,
    `node-2 ${PREFIX}.2 down`,
    `node-3 ${PREFIX}.3 up`,
    '',
  ]);

  await lab.start('node-2');
  const r = await ssh(lab, `${PREFIX}.2`, 'hostname; ps -e -o args= | grep -c "^/bin/sleep 86423$"');
  assert.equal(r, { rc: 0, stdout: 'node-2\n1\n', stderr: '' });
});

test('down ends every process of every host and removes the lab folder', async () => {
  const namespaces = Object.values(pids(lab)).map((p) => namespaceOf(p as number));
  assert.equal(new Set(namespaces).size, 3);
  await lab.down();
  assert.equal(processesIn(namespaces), []);
  assert.not.ok(existsSync(lab.dir));
});

test('without root, lab up says what is missing and changes nothing', async () => {
  const dir = join(lab.dir, 'never-created');
  const r = await labCli(['up', '--dir', dir, '--prefix', PREFIX], 65534);
  assert.equal(r.rc, 1);
  assert.match(r.stderr, 'root');
  assert.match(r.stderr, 'apt-get install -y openssh-server tini sudo');
  assert.not.ok(existsSync(dir));
});

// How fast is the benchmark's concern (npm run bench); here: a hundred hosts, each its own.
test('100 hosts come up, each answering as itself, and go down', async () => {
  const big = await startLab({ hosts: 100, prefix: PREFIX });
  try {
    const r = await ssh(big, `${PREFIX}.100`, 'hostname');
    assert.equal(r.stdout, 'node-100\n');
  } finally {
    await big.down();
  }
});

test.run();
