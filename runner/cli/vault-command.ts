// `rplay vault encrypt|decrypt|view|create|edit|rekey FILE...`: the ansible-vault workflow on files
// in the ansible-vault 1.1 format, so the same files open with either tool.
import { spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { redact, type Secret } from '../secret.js';
import { shredFile, writeFileAtomic } from '../vault/atomic-file.js';
import { askPassword, readPasswordFile, resolveVaultPassword } from '../vault/password.js';
import { decryptVaultBytes, encryptVaultBytes, isVaultText, VaultError } from '../vault/vault.js';

const USAGE = `usage: rplay vault encrypt|decrypt|view|create|edit|rekey FILE...
  --vault-password-file F       password from F (an executable F is run, its output used)
  --ask-vault-pass              ask for the password on the terminal
  --new-vault-password-file F   rekey: the new password from F (asked for when not given)
  RPLAY_VAULT_PASSWORD_FILE     used when neither option is given`;

const ACTIONS = ['encrypt', 'decrypt', 'view', 'create', 'edit', 'rekey'] as const;
type Action = (typeof ACTIONS)[number];

interface VaultArgs {
  action: Action;
  files: string[];
  passwordFile?: string;
  askPass: boolean;
  newPasswordFile?: string;
}

class UsageError extends Error {}

function parseArgs(argv: string[]): VaultArgs {
  const [action, ...rest] = argv;
  if (!ACTIONS.includes(action as Action)) throw new UsageError(action ? `unknown vault action ${action}` : 'missing vault action');
  const out: VaultArgs = { action: action as Action, files: [], askPass: false };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? rest[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--vault-password-file') out.passwordFile = value();
    else if (flag === '--new-vault-password-file') out.newPasswordFile = value();
    else if (flag === '--ask-vault-pass') out.askPass = true;
    else if (flag.startsWith('-') && flag !== '-') throw new UsageError(`unknown option ${flag}`);
    else out.files.push(a);
  }
  if (out.files.length === 0) throw new UsageError('missing FILE');
  if ((out.action === 'create' || out.action === 'edit') && out.files.length > 1) throw new UsageError(`${out.action} takes one FILE`);
  return out;
}

async function currentPassword(args: VaultArgs, creating: boolean): Promise<string> {
  const p = await resolveVaultPassword({ passwordFile: args.passwordFile, askPass: false });
  if (p) return p.reveal();
  if (args.askPass) return (creating ? await askNewPassword() : await askPassword('Vault password: ')).reveal();
  throw new VaultError('vault: no vault password: give --vault-password-file, --ask-vault-pass or RPLAY_VAULT_PASSWORD_FILE');
}

async function askNewPassword(): Promise<Secret> {
  const first = await askPassword('New Vault password: ');
  const second = await askPassword('Confirm New Vault password: ');
  if (first.reveal() !== second.reveal()) throw new VaultError('vault: passwords do not match');
  return first;
}

async function readExisting(file: string): Promise<{ data: Buffer; mode: number; uid: number; gid: number }> {
  try {
    const st = await fsp.stat(file);
    return { data: await fsp.readFile(file), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new VaultError(`vault: ${file} not found`);
    throw e;
  }
}

async function readVault(file: string, password: string): Promise<{ plain: Buffer; mode: number; uid: number; gid: number }> {
  const f = await readExisting(file);
  const text = f.data.toString('utf8');
  if (!isVaultText(text)) throw new VaultError(`vault: ${file} is not encrypted`);
  return { ...f, plain: decryptVaultBytes(text, password, file) };
}

async function exists(file: string): Promise<boolean> {
  return fsp.stat(file).then(() => true, () => false);
}

/**
 * Let the user edit `initial` in $EDITOR: the plaintext lives only in a fresh 0700 directory, and
 * every file there (the editor's swap and backup files too) is overwritten before removal.
 */
async function editPlaintext(name: string, initial: Buffer): Promise<Buffer> {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'rplay-vault-'));
  try {
    await fsp.chmod(dir, 0o700);
    const file = join(dir, basename(name));
    await fsp.writeFile(file, initial, { mode: 0o600 });
    const editor = process.env.EDITOR || process.env.VISUAL || 'vi';
    // EDITOR may carry arguments ("code --wait"), so the shell splits it, as Ansible's shlex does.
    const r = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'sh', file], { stdio: 'inherit' });
    if (r.error || r.status !== 0) throw new VaultError(`vault: editor ${editor} failed (${r.error?.message ?? `exit code ${r.status}`}); ${name} unchanged`);
    return await fsp.readFile(file);
  } finally {
    for (const f of await fsp.readdir(dir).catch(() => [] as string[])) await shredFile(join(dir, f));
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

async function run(args: VaultArgs): Promise<void> {
  switch (args.action) {
    case 'encrypt': {
      const password = await currentPassword(args, true);
      for (const file of args.files) {
        const f = await readExisting(file);
        if (isVaultText(f.data.toString('utf8'))) throw new VaultError(`vault: ${file} is already encrypted`);
        await writeFileAtomic(file, encryptVaultBytes(f.data, password), f);
      }
      process.stderr.write('Encryption successful\n');
      return;
    }
    case 'decrypt': {
      const password = await currentPassword(args, false);
      for (const file of args.files) {
        const f = await readVault(file, password);
        await writeFileAtomic(file, f.plain, f);
      }
      process.stderr.write('Decryption successful\n');
      return;
    }
    case 'view': {
      // Printed as is, not redacted: showing the plaintext is what the user asked for.
      const password = await currentPassword(args, false);
      for (const file of args.files) process.stdout.write((await readVault(file, password)).plain);
      return;
    }
    case 'create': {
      const [file] = args.files;
      if (await exists(file)) throw new VaultError(`vault: ${file} already exists; use rplay vault edit`);
      const password = await currentPassword(args, true);
      const plain = await editPlaintext(file, Buffer.alloc(0));
      await writeFileAtomic(file, encryptVaultBytes(plain, password), { mode: 0o600 });
      return;
    }
    case 'edit': {
      const [file] = args.files;
      const password = await currentPassword(args, false);
      const f = await readVault(file, password);
      const plain = await editPlaintext(file, f.plain);
      if (!plain.equals(f.plain)) await writeFileAtomic(file, encryptVaultBytes(plain, password), f);
      return;
    }
    case 'rekey': {
      const password = await currentPassword(args, false);
      const opened = [];
      for (const file of args.files) opened.push({ file, ...(await readVault(file, password)) });
      const next = (args.newPasswordFile !== undefined ? await readPasswordFile(args.newPasswordFile) : await askNewPassword()).reveal();
      for (const f of opened) await writeFileAtomic(f.file, encryptVaultBytes(f.plain, next), f);
      process.stderr.write('Rekey successful\n');
      return;
    }
  }
}

export async function vaultCommand(argv: string[]): Promise<number> {
  let args: VaultArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`rplay vault: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  try {
    await run(args);
    return 0;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const msg = e instanceof VaultError ? err.message : `vault: ${err.message}`;
    process.stderr.write(redact(msg) + '\n');
    return 1;
  }
}
