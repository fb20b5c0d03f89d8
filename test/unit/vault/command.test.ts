// `rplay vault …` as a user runs it: a real process, its exit code, stdout, stderr and the files.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decryptVault, encryptVault } from '../../../runner/vault/vault.js';

const commandModule = fileURLToPath(new URL('../../../runner/cli/vault-command.js', import.meta.url));
const MAIN = `import { vaultCommand } from ${JSON.stringify(commandModule)}; process.exitCode = await vaultCommand(process.argv.slice(1));`;

const dir = mkdtempSync(join(tmpdir(), 'rplay-vaultcli-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const editorTmp = join(dir, 'tmp');
mkdirSync(editorTmp);
const pwFile = join(dir, 'pw');
writeFileSync(pwFile, 'first-vault-password\n');
const PLAIN = 'vault_admin_password: Kx9-very-random-admin\nvault_app_password: "p&<w>"\n';

interface Run {
  rc: number | null;
  stdout: string;
  stderr: string;
}

function rplayVault(args: string[], env: Record<string, string> = {}): Run {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', MAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, TMPDIR: editorTmp, RPLAY_VAULT_PASSWORD_FILE: '', ...env },
  });
  return { rc: r.status, stdout: r.stdout, stderr: r.stderr };
}

function fresh(name: string, text = PLAIN, mode = 0o640): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  chmodSync(p, mode);
  return p;
}

const mode = (p: string): number => statSync(p).mode & 0o7777;

test('encrypt rewrites the file in place in vault format and keeps its mode', () => {
  const f = fresh('enc.yml');
  const r = rplayVault(['encrypt', f, '--vault-password-file', pwFile]);
  assert.is(r.rc, 0, r.stderr);
  assert.is(r.stderr, 'Encryption successful\n');
  const text = readFileSync(f, 'utf8');
  assert.ok(text.startsWith('$ANSIBLE_VAULT;1.1;AES256\n'));
  assert.not.ok(text.includes('Kx9'));
  assert.is(decryptVault(text, 'first-vault-password', f), PLAIN);
  assert.is(mode(f), 0o640);
  assert.equal(readdirSync(dir).filter((n) => n.includes('.rplay-')), []);
  const again = rplayVault(['encrypt', f, '--vault-password-file', pwFile]);
  assert.is(again.rc, 1);
  assert.is(again.stderr, `vault: ${f} is already encrypted\n`);
});

test('view prints the plaintext; decrypt restores the exact bytes and mode', () => {
  const f = fresh('dec.yml', encryptVault(PLAIN, 'first-vault-password'), 0o600);
  const v = rplayVault(['view', f, `--vault-password-file=${pwFile}`]);
  assert.is(v.rc, 0);
  assert.is(v.stdout, PLAIN);
  const d = rplayVault(['decrypt', f], { RPLAY_VAULT_PASSWORD_FILE: pwFile });
  assert.is(d.rc, 0, d.stderr);
  assert.is(readFileSync(f, 'utf8'), PLAIN);
  assert.is(mode(f), 0o600);
});

test('a wrong password is one line naming the file, exit 1, file untouched', () => {
  const text = encryptVault(PLAIN, 'first-vault-password');
  const f = fresh('wrong.yml', text);
  const bad = join(dir, 'bad-pw');
  writeFileSync(bad, 'not-the-password\n');
  for (const action of ['view', 'decrypt', 'rekey']) {
    const r = rplayVault([action, f, '--vault-password-file', bad, '--new-vault-password-file', pwFile]);
    assert.is(r.rc, 1);
    assert.is(r.stderr, `vault: wrong password or corrupted file ${f}\n`);
    assert.is(r.stdout, '');
  }
  assert.is(readFileSync(f, 'utf8'), text);
});

test('rekey: the old password no longer opens it, the new one does; an executable password file is run', () => {
  const f = fresh('rekey.yml', encryptVault(PLAIN, 'first-vault-password'), 0o600);
  const script = join(dir, 'new-pw.sh');
  writeFileSync(script, '#!/bin/sh\necho second-vault-password\n', { mode: 0o700 });
  const r = rplayVault(['rekey', f, '--vault-password-file', pwFile, '--new-vault-password-file', script]);
  assert.is(r.rc, 0, r.stderr);
  assert.is(decryptVault(readFileSync(f, 'utf8'), 'second-vault-password', f), PLAIN);
  assert.is(rplayVault(['view', f, '--vault-password-file', pwFile]).rc, 1);
  assert.is(mode(f), 0o600);
});

test('create: $EDITOR edits a temp file in a private dir, the result is encrypted 0600, nothing left behind', () => {
  const f = join(dir, 'created.yml');
  const editor = join(dir, 'editor.sh');
  // The editor records where it was asked to edit and that directory's mode, then writes content.
  writeFileSync(editor, `#!/bin/sh\nstat -c %a "$(dirname "$1")" > ${dir}/seen-dir-mode\nprintf 'created: Qm4-random-secret\\n' > "$1"\n`, { mode: 0o755 });
  const r = rplayVault(['create', f, '--vault-password-file', pwFile], { EDITOR: editor });
  assert.is(r.rc, 0, r.stderr);
  assert.is(mode(f), 0o600);
  assert.is(decryptVault(readFileSync(f, 'utf8'), 'first-vault-password', f), 'created: Qm4-random-secret\n');
  assert.is(readFileSync(join(dir, 'seen-dir-mode'), 'utf8').trim(), '700');
  assert.equal(readdirSync(editorTmp), []);
  const exists = rplayVault(['create', f, '--vault-password-file', pwFile], { EDITOR: editor });
  assert.is(exists.rc, 1);
  assert.is(exists.stderr, `vault: ${f} already exists; use rplay vault edit\n`);
});

test('create: a failing editor writes nothing', () => {
  const f = join(dir, 'not-created.yml');
  const r = rplayVault(['create', f, '--vault-password-file', pwFile], { EDITOR: 'false' });
  assert.is(r.rc, 1);
  assert.is(r.stderr, `vault: editor false failed (exit code 1); ${f} unchanged\n`);
  assert.not.ok(existsSync(f));
  assert.equal(readdirSync(editorTmp), []);
});

test('edit re-encrypts only when the text changed', () => {
  const text = encryptVault(PLAIN, 'first-vault-password');
  const f = fresh('edit.yml', text, 0o600);
  assert.is(rplayVault(['edit', f, '--vault-password-file', pwFile], { EDITOR: 'true' }).rc, 0);
  assert.is(readFileSync(f, 'utf8'), text);
  const r = rplayVault(['edit', f, '--vault-password-file', pwFile], { EDITOR: `sed -i s/Kx9/Zz1/` });
  assert.is(r.rc, 0, r.stderr);
  assert.is(decryptVault(readFileSync(f, 'utf8'), 'first-vault-password', f), PLAIN.replace('Kx9', 'Zz1'));
});

test('usage errors exit 2; no password source is a clear error', () => {
  const u = rplayVault(['shred', 'x']);
  assert.is(u.rc, 2);
  assert.ok(u.stderr.startsWith('rplay vault: unknown vault action shred\nusage: rplay vault'));
  const f = fresh('nopw.yml', encryptVault(PLAIN, 'first-vault-password'));
  const n = rplayVault(['view', f]);
  assert.is(n.rc, 1);
  assert.is(n.stderr, 'vault: no vault password: give --vault-password-file, --ask-vault-pass or RPLAY_VAULT_PASSWORD_FILE\n');
  const m = rplayVault(['view', join(dir, 'missing.yml'), '--vault-password-file', pwFile]);
  assert.is(m.stderr, `vault: ${join(dir, 'missing.yml')} not found\n`);
});

test('--ask-vault-pass prompts on the terminal without echoing the password', async () => {
  const f = fresh('ask.yml', encryptVault(PLAIN, 'first-vault-password'));
  // script(1) gives the command a real pseudo-terminal; the password is typed once the prompt shows.
  const cmd = [process.execPath, '--input-type=module', '-e', MAIN, 'view', f, '--ask-vault-pass'].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, RPLAY_VAULT_PASSWORD_FILE: '' } });
  let out = '';
  const typed = new Promise<void>((resolve) => {
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('Vault password: ') && !child.stdin.writableEnded) {
        child.stdin.end('first-vault-password\r');
        resolve();
      }
    });
  });
  const rc = await new Promise<number | null>((resolve) => child.on('close', resolve));
  await typed;
  assert.is(rc, 0, out);
  assert.ok(out.includes('Kx9-very-random-admin'));
  assert.not.ok(out.includes('first-vault-password'), out);
});

test.run();
