// Acting on services through systemctl: rplay manages systemd units, one place for every module.
import type { ExecResult } from '../../runner/connection/connection.js';
import { ModuleError, type ModuleContext } from '../../runner/types.js';

/** The only init system rplay manages; gathers say so on their first line (see UNIT_STATE_SH). */
export type InitSystem = 'systemd';
export type UnitAction = 'start' | 'stop' | 'restart' | 'reload' | 'enable' | 'disable';

/** Marks a gather's refusal: the host has no systemctl. */
export const NO_SYSTEMD = 'no systemd (systemctl) on this host';

/**
 * Shell for a gather script: refuses a host without systemctl, prints the init system on a line,
 * then defines `unit_state UNIT` (its ActiveState).
 */
export const UNIT_STATE_SH = `command -v systemctl > /dev/null || { echo "${NO_SYSTEMD}: rplay manages systemd units" >&2; exit 1; }
echo systemd
unit_state() { systemctl show -p ActiveState --value -- "$1.service"; }`;

export function initSystem(line: string | undefined): InitSystem {
  if (line !== 'systemd') throw new ModuleError(`unexpected init system line from the host: ${JSON.stringify(line)}`);
  return line;
}

/** The actions on one unit, in order, in one round trip; the first failure ends it. */
export function unitActions(ctx: ModuleContext, _init: InitSystem, unit: string, actions: readonly UnitAction[], daemonReload = false): Promise<ExecResult> {
  return ctx.conn.sh(['set -e', ...(daemonReload ? ['systemctl daemon-reload'] : []), ...actions.map((a) => `systemctl ${a} -- "$1.service"`)].join('\n'), [unit]);
}
