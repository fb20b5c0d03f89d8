import { Type } from '@sinclair/typebox';
import { defineModule, ModuleError, NotYetThere, type Change } from '../runner/types.js';
import { tail } from './host/tail.js';
import { NO_SYSTEMD, unitActions, type UnitAction } from './host/unit-control.js';

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
  /** A unit file for the service exists. */
  exists: boolean;
  running: boolean;
  /** Started at boot; `static` units (no [Install]) can be neither enabled nor disabled. */
  boot: 'enabled' | 'disabled' | 'static';
  /** systemd has an older copy of the unit file than the disk (it needs daemon-reload). */
  needsReload: boolean;
}

// One round trip: the unit's state from systemd, $1 its name; a host without systemctl is refused.
const GATHER = `command -v systemctl > /dev/null || { echo '${NO_SYSTEMD}'; exit 0; }
systemctl show -p LoadState -p ActiveState -p UnitFileState -p NeedDaemonReload -- "$1.service"`;

/** What apply runs: one systemctl action on one unit, after a daemon-reload when systemd has an older copy of its file. */
export interface ServiceOp {
  kind: UnitAction;
  unit: string;
  daemonReload: boolean;
}

const ENABLED = new Set(['enabled', 'enabled-runtime']);
// Unit file states that `systemctl enable/disable` cannot change.
const STATIC = new Set(['static', 'indirect', 'generated', 'alias', 'transient']);

/** Parse the GATHER output (exported for tests). */
export function parseServiceGather(out: string): ServiceState {
  const p: Record<string, string> = {};
  for (const l of out.split('\n')) {
    const eq = l.indexOf('=');
    if (eq > 0) p[l.slice(0, eq)] = l.slice(eq + 1);
  }
  const unitFile = p.UnitFileState ?? '';
  return {
    exists: p.LoadState !== 'not-found',
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

/** A systemd unit started/stopped/restarted/reloaded and enabled at boot. */
export const service = defineModule({
  name: 'service',
  schema,
  async gather(ctx, args): Promise<ServiceState> {
    const r = await ctx.conn.sh(GATHER, [unitName(args.name)]);
    if (r.stdout.startsWith(NO_SYSTEMD)) throw new ModuleError(`no systemd (systemctl) on ${ctx.host}: the service module manages systemd units`);
    if (r.rc !== 0 || !/^LoadState=/.test(r.stdout)) throw new ModuleError(`service: reading the state of ${args.name} failed: ${tail(r.stderr)}`);
    return parseServiceGather(r.stdout);
  },
  plan(args, s) {
    const name = unitName(args.name);
    // A unit not installed yet (its package or template is an earlier task's) says nothing about
    // what its state will be, whatever is asked: the engine decides whether that is "would change".
    if (!s.exists) throw new NotYetThere(`service ${name}: unit ${name}.service is not installed`, `unit ${name}.service`);
    const changes: Change<ServiceOp>[] = actions(args, s).map((a, i) => ({
      description: `${a} ${name}`,
      op: { kind: a, unit: name, daemonReload: i === 0 && s.needsReload },
    }));
    const state = s.running ? 'running' : 'stopped';
    return { changes, msg: changes.length ? undefined : `${name} ${state}, ${s.boot}`, result: { name, state, enabled: s.boot !== 'disabled' } };
  },
  async apply(ctx, ops) {
    // The actions are on one unit (the task's): one round trip, the first failure ends it.
    const name = ops[0].unit;
    if (ops.some((o) => o.unit !== name)) throw new ModuleError(`service: operations on more than one unit (${[...new Set(ops.map((o) => o.unit))].join(', ')})`);
    const todo = ops.map((o) => o.kind);
    const r = await unitActions(ctx, 'systemd', name, todo, ops.some((o) => o.daemonReload));
    if (r.rc !== 0) {
      let why = tail(r.stderr);
      const log = await ctx.conn.sh('journalctl -u "$1.service" -n 10 --no-pager 2>/dev/null', [name]);
      if (log.stdout.trim()) why += `\n${tail(log.stdout)}`;
      throw new ModuleError(`service ${name}: ${todo.join(', ')} failed: ${why}`, { rc: r.rc, stderr: r.stderr });
    }
    return { result: { name, actions: todo } };
  },
});
