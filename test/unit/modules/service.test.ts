import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseServiceGather, service, type ServiceState } from '../../../modules/service.js';
import { NotYetThere } from '../../../runner/types.js';
import { thrown } from '../../support/thrown.js';

const s = (over: Partial<ServiceState> = {}): ServiceState => ({ exists: true, running: false, boot: 'disabled', needsReload: false, ...over });
const descs = (args: Parameters<typeof service.plan>[0], st: ServiceState) => service.plan(args, st).changes.map((c) => c.description);

test('parseServiceGather: systemd properties', () => {
  assert.equal(parseServiceGather('LoadState=loaded\nActiveState=active\nUnitFileState=enabled\nNeedDaemonReload=yes\n'), {
    exists: true, running: true, boot: 'enabled', needsReload: true,
  });
  assert.equal(parseServiceGather('LoadState=not-found\nActiveState=inactive\nUnitFileState=\nNeedDaemonReload=no\n'), {
    exists: false, running: false, boot: 'disabled', needsReload: false,
  });
});

test('the operations: one systemctl action each, on the unit, daemon-reload before the first when systemd has an old copy', () => {
  const ops = (args: Parameters<typeof service.plan>[0], st: ServiceState) => service.plan(args, st).changes.map((c) => c.op);
  assert.equal(ops({ name: 'redis.service', state: 'started', enabled: true }, s({ needsReload: true })), [
    { kind: 'enable', unit: 'redis', daemonReload: true },
    { kind: 'start', unit: 'redis', daemonReload: false },
  ]);
  assert.equal(ops({ name: 'redis', state: 'reloaded' }, s({ running: true })), [{ kind: 'reload', unit: 'redis', daemonReload: false }]);
  // A stale unit file alone is nothing to do: daemon-reload rides on an action.
  assert.equal(ops({ name: 'redis', state: 'started' }, s({ running: true, needsReload: true })), []);
});

test('started/stopped change only when needed; enable comes before start', () => {
  assert.equal(descs({ name: 'redis', state: 'started', enabled: true }, s()), ['enable redis', 'start redis']);
  const ok = service.plan({ name: 'redis.service', state: 'started', enabled: true }, s({ running: true, boot: 'enabled' }));
  assert.equal(ok.changes, []);
  assert.is(ok.msg, 'redis running, enabled');
  assert.equal(descs({ name: 'redis', state: 'stopped', enabled: false }, s({ running: true, boot: 'enabled' })), ['disable redis', 'stop redis']);
  assert.equal(descs({ name: 'redis', state: 'stopped' }, s()), []);
});

test('static units (no [Install]) are neither enabled nor disabled', () => {
  assert.equal(parseServiceGather('systemd\nLoadState=loaded\nActiveState=inactive\nUnitFileState=static\nNeedDaemonReload=no\n').boot, 'static');
  assert.equal(descs({ name: 'r', enabled: true }, s({ boot: 'static' })), []);
  assert.equal(descs({ name: 'r', enabled: false }, s({ boot: 'static' })), []);
});

test('restarted always changes; reloaded reloads a running service and starts a stopped one', () => {
  assert.equal(descs({ name: 'r', state: 'restarted' }, s({ running: true })), ['restart r']);
  assert.equal(descs({ name: 'r', state: 'restarted' }, s()), ['start r']);
  assert.equal(descs({ name: 'r', state: 'reloaded' }, s({ running: true })), ['reload r']);
  assert.equal(descs({ name: 'r', state: 'reloaded' }, s()), ['start r']);
});

test('a unit not installed yet is the declared "not there yet" case, whatever state is asked', () => {
  for (const args of [{ name: 'redis', state: 'started' as const }, { name: 'redis', state: 'stopped' as const, enabled: false }]) {
    const e = thrown(() => descs(args, s({ exists: false })), NotYetThere);
    assert.is(e.missing, 'unit redis.service');
    assert.is(e.message, 'service redis: unit redis.service is not installed');
  }
});

test.run();
