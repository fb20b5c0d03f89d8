// Runs the real CLI as a user would (a child process), capturing what it printed and its exit code.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = join(repoDir, 'dist', 'runner', 'cli.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function rplay(args: string[], opts: { cwd?: string; env?: Record<string, string>; input?: string } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: opts.cwd ?? repoDir,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

export interface JsonRun {
  plays: { name: string; hosts: string[]; tasks: { name: string; module: string; results: Record<string, { status: string; msg?: string; diff?: string }> }[] }[];
  stats: Record<string, { ok: number; changed: number; failed: number; skipped: number; unreachable: number }>;
}

/** Runs with --json and parses the one document it must print. */
export async function rplayJson(args: string[], opts: { env?: Record<string, string> } = {}): Promise<CliRun & { json: JsonRun }> {
  const r = await rplay([...args, '--json'], opts);
  let json: JsonRun;
  try {
    json = JSON.parse(r.stdout) as JsonRun;
  } catch {
    throw new Error(`rplay ${args.join(' ')} did not print one JSON document (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { ...r, json };
}

/** Names of tasks whose result on `host` has `status`. */
export function tasksWith(run: JsonRun, host: string, status: string): string[] {
  return run.plays.flatMap((p) => p.tasks.filter((t) => t.results[host]?.status === status).map((t) => t.name));
}

export function totalChanged(run: JsonRun): number {
  return Object.values(run.stats).reduce((n, s) => n + s.changed, 0);
}
