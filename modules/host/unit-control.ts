// Acting on services the way the host runs them: systemd when it is PID 1, else the pidfile fallback
// (the lab has no systemd). One place for both paths, so every module treats units alike.
import type { ExecResult } from '../../runner/connection/connection.js';
import type { ModuleContext } from '../../runner/types.js';
import { hostSh } from './exec.js';
import { serviceFallbackScript } from './service-fallback.js';

export type InitSystem = 'systemd' | 'fallback';
export type UnitAction = 'start' | 'stop' | 'restart' | 'reload' | 'enable' | 'disable';

/**
 * Shell for a gather script: prints the init system on a line, then defines `unit_state UNIT`
 * (its ActiveState). The script must have the fallback script in $fb.
 */
export const UNIT_STATE_SH = `if [ -d /run/systemd/system ]; then init=systemd; else init=fallback; fi
echo "$init"
unit_state() {
  if [ "$init" = systemd ]; then systemctl show -p ActiveState --value -- "$1.service"; else sh -c "$fb" svc status "$1"; fi
}`;

export function initSystem(line: string | undefined): InitSystem {
  return line === 'systemd' ? 'systemd' : 'fallback';
}

/** The actions on one unit, in order, in one round trip; the first failure ends it. */
export function unitActions(ctx: ModuleContext, init: InitSystem, unit: string, actions: readonly UnitAction[], daemonReload = false): Promise<ExecResult> {
  return init === 'systemd'
    ? hostSh(ctx, ['set -e', ...(daemonReload ? ['systemctl daemon-reload'] : []), ...actions.map((a) => `systemctl ${a} -- "$1.service"`)].join('\n'), [unit])
    : hostSh(ctx, 'set -e; s=$1; n=$2; shift 2; for a in "$@"; do sh -c "$s" svc "$a" "$n"; done', [serviceFallbackScript, unit, ...actions]);
}
