import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { command } from '../../../modules/command.js';
import { runResult } from '../../../modules/host/run-command.js';
import { splitArgv } from '../../../modules/host/split-argv.js';
import { ModuleError } from '../../../runner/types.js';

test('splitArgv splits like sh: quotes group, backslashes escape, nothing expands', () => {
  assert.equal(splitArgv(`redis-cli -h 10.0.0.1  --pass 'a b$c' "x \\"y\\" \\$HOME" z\\ w`), [
    'redis-cli', '-h', '10.0.0.1', '--pass', 'a b$c', 'x "y" $HOME', 'z w',
  ]);
  assert.equal(splitArgv(`echo $HOME | cat > /tmp/x; ls *`), ['echo', '$HOME', '|', 'cat', '>', '/tmp/x;', 'ls', '*']);
  assert.equal(splitArgv(`a '' "" b"c"'d'`), ['a', '', '', 'bcd']);
  assert.equal(splitArgv(`"a\\b"`), ['a\\b']);
});

test('splitArgv refuses unterminated quotes and a trailing backslash', () => {
  assert.throws(() => splitArgv(`echo 'oops`), /unterminated ' quote/);
  assert.throws(() => splitArgv(`echo "oops`), /unterminated " quote/);
  assert.throws(() => splitArgv(`echo \\`), /lone backslash/);
});

test('plan: runs (one change) unless creates exists or removes is missing', () => {
  assert.equal(command.plan({ cmd: 'touch /tmp/x' }, {}).changes, [{ description: 'run: touch /tmp/x', op: { kind: 'exec', argv: ['touch', '/tmp/x'] } }]);
  assert.equal(command.plan({ argv: ['echo', 'a b'] }, {}).changes, [{ description: "run: echo 'a b'", op: { kind: 'exec', argv: ['echo', 'a b'] } }]);
  // The op holds the words split on the controller, as they will run: no shell on the host re-splits them.
  assert.equal(command.plan({ cmd: `printf '%s|' "a b" '$HOME' '>'`, chdir: '/srv', stdin: 'x' }, {}).changes.map((c) => c.op), [
    { kind: 'exec', argv: ['printf', '%s|', 'a b', '$HOME', '>'], chdir: '/srv', stdin: 'x' },
  ]);
  const made = command.plan({ cmd: 'make', creates: '/opt/built' }, { creates: true });
  assert.equal(made.changes, []);
  assert.is(made.msg, 'not run: /opt/built exists');
  assert.is(command.plan({ cmd: 'make', creates: '/opt/built' }, { creates: false }).changes.length, 1);
  assert.is(command.plan({ cmd: 'rm /tmp/in', removes: '/tmp/in' }, { removes: false }).msg, 'not run: /tmp/in does not exist');
  assert.is(command.plan({ cmd: 'rm /tmp/in', removes: '/tmp/in' }, { removes: true }).changes.length, 1);
  assert.is(command.opaque, true);
});

test('plan: a malformed command line is a module error', () => {
  assert.throws(() => command.plan({ cmd: `echo 'x` }, {}), (e: unknown) => e instanceof ModuleError && /unterminated/.test(e.message));
});

test('runResult: Ansible-shaped result; nonzero rc is a ModuleError with the stderr tail and the result', () => {
  assert.equal(runResult('echo hi', { rc: 0, stdout: 'a\nb\n', stderr: '' }).result, {
    cmd: 'echo hi', rc: 0, stdout: 'a\nb', stderr: '', stdout_lines: ['a', 'b'], stderr_lines: [],
  });
  const err = Array.from({ length: 15 }, (_, i) => `line ${i + 1}`).join('\n');
  try {
    runResult('false', { rc: 3, stdout: '', stderr: err });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ModuleError);
    const m = e as ModuleError;
    assert.is(m.message, `false: exit code 3\n${Array.from({ length: 10 }, (_, i) => `line ${i + 6}`).join('\n')}`);
    assert.is(m.result.rc, 3);
    assert.is((m.result.stderr_lines as string[]).length, 15);
  }
});

test.run();
