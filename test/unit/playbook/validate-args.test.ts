import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkArgs, validateArgs } from '../../../runner/playbook/validate-args.js';
import { InputError } from '../../../runner/yaml/load.js';
import { modules } from './fake-modules.js';

const apt = modules.get('apt')!;
const task = { name: 'Install redis', pos: { file: 'playbooks/x.yml', line: 14, col: 7 } };

function messageOf(fn: () => void): string {
  try {
    fn();
  } catch (e) {
    assert.instance(e, InputError);
    return (e as Error).message;
  }
  throw new Error('expected an InputError');
}

test('validateArgs passes good args and names the task and its position for bad ones', () => {
  validateArgs(apt, { name: ['redis-server', 'redis-tools'], state: 'latest' }, task);
  assert.is(
    messageOf(() => validateArgs(apt, { name: 'redis-server', state: 'installed' }, task)),
    'playbooks/x.yml:14:7: task "Install redis": apt.state must be one of present, absent, latest',
  );
  assert.is(
    messageOf(() => validateArgs(apt, { name: ['redis-server', 7] }, task)),
    'playbooks/x.yml:14:7: task "Install redis": apt.name must be a string or a list of strings',
  );
  assert.is(messageOf(() => validateArgs(apt, { name: 'x', upgrade: true }, task)), 'playbooks/x.yml:14:7: task "Install redis": apt: unknown key \'upgrade\'');
});

test('after interpolation a value that was templated is judged like any other', () => {
  assert.match(messageOf(() => validateArgs(apt, { name: 'x', update_cache: 'yes please' }, task)), /apt\.update_cache must be true or false$/);
});

test('checkArgs with templates allowed skips templated values, even inside lists', () => {
  assert.is(checkArgs(apt, { name: ['redis', '{{ extra }}'], state: '{{ s }}' }, true), undefined);
  assert.equal(checkArgs(apt, { name: '{{ n }}', state: 'gone' }, true), { path: ['state'], message: 'apt.state must be one of present, absent, latest' });
  assert.equal(checkArgs(apt, { state: '{{ s }}' }, true), { path: [], message: 'apt.name is required' });
});

test.run();
