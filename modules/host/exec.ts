import type { ExecOptions, ExecResult } from '../../runner/connection/connection.js';
import type { ModuleContext } from '../../runner/types.js';

/** Exec options that carry the task's become settings; every module call on a host goes through them. */
export function hostOpts(ctx: ModuleContext, extra: ExecOptions = {}): ExecOptions {
  return { become: ctx.become, becomeUser: ctx.becomeUser, ...extra };
}

/** Run a POSIX sh script on the host as the task's user. */
export function hostSh(ctx: ModuleContext, script: string, args: readonly string[] = [], extra: ExecOptions = {}): Promise<ExecResult> {
  return ctx.conn.sh(script, args, hostOpts(ctx, extra));
}

/** Last lines of a command's error output, for a failure message that fits on a screen. */
export function tail(text: string, lines = 10): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}
