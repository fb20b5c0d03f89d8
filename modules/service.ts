import { Type } from '@sinclair/typebox';
import { defineModule, ModuleError, NotYetThere, type Change } from '../runner/types.js';
import { hostSh, tail } from './host/exec.js';
import { serviceFallbackScript } from './host/service-fallback.js';
import { initSystem, unitActions, type InitSystem, type UnitAction } from './host/unit-control.js';

// The lab's hosts import the fallback from here (contract: `sh -c "$script" svc ACTION [NAME]`).
export { serviceFallbackScript };

const schema = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9@_.:-]+$' }),
    state: Type.Optional(
      Type.Union([Type.Literal('started'), Type.Literal('stopped'), Type.Literal('restarted'), Type.Literal('reloaded')]),
    ),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, anyOf: [{ required: ['state'] }, { required: ['enabled'] }] },
);

export interface ServiceState {
  /** systemd when it is PID 1, else the pidfile fallback. */
  init: InitSystem;
  /** A unit file for the service exists. */
  exists: boolean;
  running: boolean;
  /** Started at boot; `static` units (no [Install]) can be neither enabled nor disabled. */
  boot: 'enabled' | 'disabled' | 'static';
  /** systemd has an older copy of the unit file than the disk (it needs daemon-reload). */
  needsReload: boolean;
}

// One round trip: which init, then the service's state from it. $1 the fallback script, $2 the name.
const GATHER = `if [ -d /run/systemd/system ]; then
  echo systemd
  systemctl show -p LoadState -p ActiveState -p UnitFileState -p NeedDaemonReload -- "$2.service"
else
  echo fallback
  # The fallback script runs in this shell (no new process): it reads the state with builtins only.
  script=$1
  set -- state "$2"
  eval "$script"
fi`;

const ENABLED = new Set(['enabled', 'enabled-runtime']);
// Unit file states that `systemctl enable/disable` cannot change.
const STATIC = new Set(['static', 'indirect', 'generated', 'alias', 'transient']);

/** Parse the GATHER output (exported for tests). */
export function parseServiceGather(out: string): ServiceState {
  const lines = out.split('\n');
  const p: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const eq = l.indexOf('=');
    if (eq > 0) p[l.slice(0, eq)] = l.slice(eq + 1);
  }
  const init = initSystem(lines[0]);
  const unitFile = p.UnitFileState ?? '';
  return {
    init,
    exists: init === 'systemd' ? p.LoadState !== 'not-found' : p.ActiveState !== 'not-found',
    running: ['active', 'reloading', 'activating'].includes(p.ActiveState ?? ''),
    boot: ENABLED.has(unitFile) ? 'enabled' : STATIC.has(unitFile) ? 'static' : 'disabled',
    needsReload: p.NeedDaemonReload === 'yes',
  };
}

/** Pure: the actions to take, in order (enable before start, as a boot would). */
function actions(args: { state?: string; enabled?: boolean }, s: ServiceState): UnitAction[] {
  const out: UnitAction[] = [];
  if (args.enabled === true && s.boot === 'disabled') out.push('enable');
  if (args.enabled === false && s.boot === 'enabled' && s.exists) out.push('disable');
  if (args.state === 'started' && !s.running) out.push('start');
  if (args.state === 'stopped' && s.running) out.push('stop');
  if (args.state === 'restarted') out.push(s.running ? 'restart' : 'start');
  if (args.state === 'reloaded') out.push(s.running ? 'reload' : 'start');
  return out;
}

function unitName(name: string): string {
  return name.replace(/\.service$/, '');
}

/** A daemon started/stopped/restarted/reloaded and enabled at boot, via systemd or the pidfile fallback. */
export const service = defineModule({
  name: 'service',
  schema,
  async gather(ctx, args): Promise<ServiceState> {
    const r = await hostSh(ctx, GATHER, [serviceFallbackScript, unitName(args.name)]);
    if (!/^(systemd|fallback)\n/.test(r.stdout)) throw new ModuleError(`service: reading the state of ${args.name} failed: ${tail(r.stderr)}`);
    return parseServiceGather(r.stdout);
  },
  plan(args, s) {
    const name = unitName(args.name);
    // A unit not installed yet (its package or template is an earlier task's) says nothing about
    // what its state will be, whatever is asked: the engine decides whether that is "would change".
    if (!s.exists) throw new NotYetThere(`service ${name}: unit ${name}.service is not installed`, `unit ${name}.service`);
    const changes: Change[] = actions(args, s).map((a) => ({ description: `${a} ${name}` }));
    const state = s.running ? 'running' : 'stopped';
    return { changes, msg: changes.length ? undefined : `${name} ${state}, ${s.boot}`, result: { name, state, enabled: s.boot !== 'disabled' } };
  },
  async legacyApply(ctx, args, _plan, s) {
    const name = unitName(args.name);
    const todo = actions(args, s);
    const r = await unitActions(ctx, s.init, name, todo, s.needsReload);
    if (r.rc !== 0) {
      let why = tail(r.stderr);
      if (s.init === 'systemd') {
        const log = await hostSh(ctx, 'journalctl -u "$1.service" -n 10 --no-pager 2>/dev/null', [name]);
        if (log.stdout.trim()) why += `\n${tail(log.stdout)}`;
      }
      throw new ModuleError(`service ${name}: ${todo.join(', ')} failed: ${why}`, { rc: r.rc, stderr: r.stderr });
    }
    return { result: { name, actions: todo } };
  },
});
