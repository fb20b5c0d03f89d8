// Where the vault password comes from: a file (or, when executable, the script's output, as Ansible
// does), a prompt on the terminal without echo, or RPLAY_VAULT_PASSWORD_FILE.
import { spawn } from 'node:child_process';
import { constants, openSync, promises as fsp } from 'node:fs';
import { ReadStream, WriteStream } from 'node:tty';
import { Secret } from '../secret.js';
import { VaultError } from './vault.js';

export interface VaultPasswordOptions {
  /** --vault-password-file */
  passwordFile?: string;
  /** --ask-vault-pass */
  askPass?: boolean;
  /** Environment to read RPLAY_VAULT_PASSWORD_FILE from (process.env by default). */
  env?: NodeJS.ProcessEnv;
  /** Prompt text for --ask-vault-pass. */
  prompt?: string;
}

export const VAULT_PASSWORD_FILE_ENV = 'RPLAY_VAULT_PASSWORD_FILE';

/** The password the options name, or undefined when none is given (encrypted files then fail to load). */
export async function resolveVaultPassword(opts: VaultPasswordOptions): Promise<Secret | undefined> {
  if (opts.passwordFile !== undefined && opts.askPass) {
    throw new VaultError('vault: give either --vault-password-file or --ask-vault-pass, not both');
  }
  if (opts.passwordFile !== undefined) return readPasswordFile(opts.passwordFile);
  if (opts.askPass) return askPassword(opts.prompt ?? 'Vault password: ');
  const fromEnv = (opts.env ?? process.env)[VAULT_PASSWORD_FILE_ENV];
  if (fromEnv) return readPasswordFile(fromEnv);
  return undefined;
}

/** A password file's content, trimmed; an executable file is run and its stdout (trimmed) used. */
export async function readPasswordFile(file: string): Promise<Secret> {
  let st;
  try {
    st = await fsp.stat(file);
  } catch {
    throw new VaultError(`vault: password file ${file} not found`);
  }
  if (!st.isFile()) throw new VaultError(`vault: password file ${file} is not a regular file`);
  const executable = (st.mode & (constants.S_IXUSR | constants.S_IXGRP | constants.S_IXOTH)) !== 0;
  const text = executable ? await runPasswordScript(file) : await fsp.readFile(file, 'utf8');
  const password = text.trim();
  if (password === '') throw new VaultError(`vault: password ${executable ? 'script' : 'file'} ${file} gave an empty password`);
  return new Secret(password);
}

function runPasswordScript(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // stdin and stderr stay the user's: a script may itself prompt or explain a failure.
    const child = spawn(file, [], { stdio: ['inherit', 'pipe', 'inherit'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.on('error', (e) => reject(new VaultError(`vault: cannot run password script ${file}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new VaultError(`vault: password script ${file} failed (${signal ?? `exit code ${code}`})`));
    });
  });
}

/** Ask on the controlling terminal (not stdin, which may be a pipe), echo off. */
export async function askPassword(prompt: string): Promise<Secret> {
  let fd: number;
  try {
    fd = openSync('/dev/tty', constants.O_RDWR | constants.O_NOCTTY);
  } catch {
    throw new VaultError('vault: --ask-vault-pass needs a terminal; use --vault-password-file instead');
  }
  const input = new ReadStream(fd);
  const output = new WriteStream(fd);
  try {
    return new Secret(await readHiddenLine(input, output, prompt));
  } finally {
    input.destroy();
  }
}

interface HiddenInput extends NodeJS.ReadableStream {
  setRawMode?(mode: boolean): unknown;
}

/** Read one line without echoing it: only the prompt and the final newline are written. */
export function readHiddenLine(input: HiddenInput, output: NodeJS.WritableStream, prompt: string): Promise<string> {
  // Echo off before the prompt shows: a user typing at once must not see the password echoed.
  input.setRawMode?.(true);
  output.write(prompt);
  let line = '';
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      input.removeListener('data', onData);
      input.removeListener('end', onEnd);
      input.setRawMode?.(false);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(line);
    };
    const onEnd = (): void => done();
    const onData = (chunk: Buffer | string): void => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new VaultError('vault: password prompt interrupted'));
        if (ch === '\u007f' || ch === '\b') line = line.slice(0, -1);
        else line += ch;
      }
    };
    input.on('data', onData);
    input.on('end', onEnd);
    input.resume();
  });
}
