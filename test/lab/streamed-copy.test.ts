// A 50 MB binary `copy: src:` by a playbook to three lab hosts: byte-identical on each, mode as asked,
// a re-run changed=0, --check --diff bounded and touching nothing, and a transfer cut off (rplay
// killed, the source changed while being sent) leaving the old file byte-for-byte and no temp file.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startLab, type Lab } from '../lab-fixture.js';
import { onHost } from '../support/on-host.js';
import { repoDir, rplayJson, totalChanged } from '../support/rplay-cli.js';

const test = suite('a 50 MB copy on the lab');
let lab: Lab;
let project: string;
const SIZE = 50 * 1024 * 1024;
const env = (): Record<string, string> => ({ RPLAY_STATE_DIR: join(lab.dir, 'controller-state') });
const src = (): string => join(project, 'files', 'big.bin');
const play = (...extra: string[]): string[] => [join(project, 'big.yml'), '-i', lab.inventoryPath, ...extra];
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const srvOf = (host: string): string => join(lab.dir, 'hosts', host, 'root', 'srv');

/** sha256, mode and the .rplay.* temp files beside /srv/big.bin on each host, read on the host. */
async function onHosts(): Promise<string[]> {
  return Promise.all(
    lab.hosts.map(async (h) => {
      const r = await onHost(lab, h.name, 'cd /srv && sha256sum < big.bin | cut -d" " -f1 && stat -c %a big.bin && ls -A | grep -c "^\\.rplay\\." || true');
      return r.stdout;
    }),
  );
}
const expect = (digest: string, mode: string): string[] => lab.hosts.map(() => `${digest}\n${mode}\n0\n`);

test.before(async () => {
  lab = await startLab({ hosts: 3, prefix: '127.0.53' });
  project = mkdtempSync(join(tmpdir(), 'rplay-big-'));
  mkdirSync(join(project, 'files'));
  writeFileSync(
    join(project, 'big.yml'),
    `- name: A large file
  hosts: all
  gather_facts: false
  become: true
  tasks:
    - name: Big file is there
      copy:
        src: big.bin
        dest: /srv/big.bin
        mode: "0640"
`,
  );
});
test.after(async () => {
  rmSync(project, { recursive: true, force: true });
  await lab?.down();
});

test('a 50 MB random file arrives byte-identical on every host with its mode; a re-run is changed=0', async () => {
  const bytes = randomBytes(SIZE);
  writeFileSync(src(), bytes);
  const first = await rplayJson(play(), { env: env() });
  assert.is(first.code, 0, first.stdout + first.stderr);
  assert.is(totalChanged(first.json), 3);
  assert.equal(await onHosts(), expect(sha(bytes), '640'));
  const again = await rplayJson(play(), { env: env() });
  assert.is(again.code, 0, again.stdout);
  assert.is(totalChanged(again.json), 0, JSON.stringify(again.json.stats));
});

test('--check --diff on a changed source: reported changed, no file content in the output, hosts untouched', async () => {
  const old = sha(readFileSync(src()));
  writeFileSync(src(), randomBytes(SIZE));
  const check = await rplayJson(play('--check', '--diff'), { env: env() });
  assert.is(check.code, 0, check.stdout);
  assert.is(totalChanged(check.json), 3);
  const r = check.json.plays[0]!.tasks[0]!.results['node-1']!;
  assert.is(r.status, 'changed');
  assert.is(r.diff, undefined);
  assert.ok(check.stdout.length < 20_000, `check printed ${check.stdout.length} bytes`);
  assert.equal(await onHosts(), expect(old, '640'));
});

/** Runs the playbook, calls `during` once a temp file on node-1 holds part of the transfer, and returns rplay's exit code. */
function runAndInterrupt(during: (child: ReturnType<typeof spawn>) => void): Promise<{ code: number | null; signal: string | null; stdout: string; sawTemp: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoDir, 'dist', 'runner', 'cli.js'), ...play(), '--json'], { env: { ...process.env, ...env() }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let sawTemp = false;
    child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr!.on('data', () => {});
    const poll = setInterval(() => {
      const temp = readdirSync(srvOf('node-1')).find((n) => n.startsWith('.rplay.'));
      if (!temp) return;
      let size = 0;
      try {
        size = statSync(join(srvOf('node-1'), temp)).size;
      } catch {
        return;
      }
      if (size > 0 && size < SIZE / 2) {
        clearInterval(poll);
        sawTemp = true;
        during(child);
      }
    }, 2);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearInterval(poll);
      resolve({ code, signal, stdout, sawTemp });
    });
  });
}

/** What is left beside /srv/big.bin once the host processes have seen the cut (they clean up on EOF). */
async function settled(digest: string): Promise<void> {
  const want = expect(digest, '640');
  let got: string[] = [];
  for (let i = 0; i < 50; i++) {
    got = await onHosts();
    if (JSON.stringify(got) === JSON.stringify(want)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(got, want);
}

test('rplay killed mid-transfer: the old file stays byte-for-byte, no temp file is left', async () => {
  const old = sha(readFileSync(`${srvOf('node-1')}/big.bin`));
  const r = await runAndInterrupt((child) => child.kill('SIGKILL'));
  assert.ok(r.sawTemp, 'the transfer was never seen under way');
  assert.is(r.signal, 'SIGKILL');
  await settled(old);
});

test('the source changed while being sent: the task fails naming the sha256 check, old file kept, no temp file', async () => {
  const old = sha(readFileSync(`${srvOf('node-1')}/big.bin`));
  const r = await runAndInterrupt(() => {
    // Same size, other bytes near the end (not sent yet): only the hash check on the host can tell.
    const fd = openSync(src(), 'r+');
    writeSync(fd, randomBytes(1024 * 1024), 0, 1024 * 1024, SIZE - 1024 * 1024);
    closeSync(fd);
  });
  assert.ok(r.sawTemp, 'the transfer was never seen under way');
  assert.is(r.code, 2, r.stdout);
  const res = (JSON.parse(r.stdout) as { plays: { tasks: { results: Record<string, { status: string; msg?: string }> }[] }[] }).plays[0]!.tasks[0]!.results['node-1']!;
  assert.is(res.status, 'failed');
  assert.match(res.msg ?? '', /the bytes that arrived are not the planned ones \(sha256 differs: did the source change since it was planned\?\)/);
  await settled(old);
});

test.run();
