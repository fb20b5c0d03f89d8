import { Type } from '@sinclair/typebox';
import type { ExecResult } from '../../runner/connection/connection.js';
import { ModuleError, type ApplyResult, type ModuleContext, type Operation, type Plan } from '../../runner/types.js';
import { tail } from './tail.js';

/** Options command and shell share. */
export const runArgs = {
  /** Directory to run in. */
  chdir: Type.Optional(Type.String({ minLength: 1 })),
  /** Skip running when this path exists (the command's output is already there). */
  creates: Type.Optional(Type.String({ minLength: 1 })),
  /** Skip running when this path does not exist (the command consumes it). */
  removes: Type.Optional(Type.String({ minLength: 1 })),
  /** Text fed to the command's standard input. */
  stdin: Type.Optional(Type.String()),
};

interface RunArgs {
  chdir?: string;
  creates?: string;
  removes?: string;
  stdin?: string;
}

/** Whether the creates/removes paths exist; undefined where not asked. */
export interface Guards {
  creates?: boolean;
  removes?: boolean;
}

/** One round trip, and none at all when neither creates nor removes is given. */
export async function gatherGuards(ctx: ModuleContext, args: RunArgs): Promise<Guards> {
  if (args.creates === undefined && args.removes === undefined) return {};
  const r = await ctx.conn.sh('for p in "$@"; do if [ -e "$p" ] || [ -L "$p" ]; then echo y; else echo n; fi; done', [
    ...(args.creates !== undefined ? [args.creates] : []),
    ...(args.removes !== undefined ? [args.removes] : []),
  ]);
  if (r.rc !== 0) throw new ModuleError(`checking creates/removes failed: ${tail(r.stderr)}`);
  const seen = r.stdout.split('\n');
  const g: Guards = {};
  let i = 0;
  if (args.creates !== undefined) g.creates = seen[i++] === 'y';
  if (args.removes !== undefined) g.removes = seen[i++] === 'y';
  return g;
}

/** Where and with what input a command or script runs; its operation carries these. */
export interface RunIn {
  chdir?: string;
  stdin?: string;
}

/** The chdir and stdin args, without keys for those not given (an operation is data: no undefined). */
export function runIn(args: RunArgs): RunIn {
  return { ...(args.chdir !== undefined && { chdir: args.chdir }), ...(args.stdin !== undefined && { stdin: args.stdin }) };
}

/** Pure: run `op`, unless creates/removes say the work is done. */
export function planRun<O extends Operation>(shown: string, args: RunArgs, g: Guards, op: O): Plan<O> {
  if (g.creates) return { changes: [], msg: `not run: ${args.creates} exists` };
  if (g.removes === false) return { changes: [], msg: `not run: ${args.removes} does not exist` };
  return { changes: [{ description: `run: ${shown}`, op }] };
}

/** Ansible's registered shape; a nonzero exit is a failure carrying that shape and the stderr tail. */
export function runResult(cmd: string, r: ExecResult): ApplyResult {
  const stdout = r.stdout.replace(/\n$/, '');
  const stderr = r.stderr.replace(/\n$/, '');
  const result = {
    cmd,
    rc: r.rc,
    stdout,
    stderr,
    stdout_lines: stdout === '' ? [] : stdout.split('\n'),
    stderr_lines: stderr === '' ? [] : stderr.split('\n'),
  };
  if (r.rc !== 0) {
    const why = tail(stderr) || tail(stdout, 3);
    throw new ModuleError(`${cmd}: exit code ${r.rc}${why ? `\n${why}` : ''}`, result);
  }
  return { result };
}

