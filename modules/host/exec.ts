import type { ExecOptions, ExecResult } from '../../runner/connection/connection.js';
import type { ModuleContext } from '../../runner/types.js';

/** Run a POSIX sh script on the host as the task's user (ctx.conn has the task's become bound). */
export function hostSh(ctx: ModuleContext, script: string, args: readonly string[] = [], extra: ExecOptions = {}): Promise<ExecResult> {
  return ctx.conn.sh(script, args, extra);
}

/** Last lines of a command's error output, for a failure message that fits on a screen. */
export function tail(text: string, lines = 10): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}
