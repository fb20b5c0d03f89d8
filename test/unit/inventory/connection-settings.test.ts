import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectionSettings, taskBecome } from '../../../runner/inventory/connection-settings.js';
import { Secret } from '../../../runner/secret.js';

test('defaults: ssh to the inventory name on 22 as the current user, ~/.ssh/known_hosts, strict keys', () => {
  assert.equal(connectionSettings({}, 'node-1'), {
    connection: 'ssh',
    address: 'node-1',
    port: 22,
    user: userInfo().username,
    knownHostsFile: join(homedir(), '.ssh', 'known_hosts'),
    acceptNew: false,
    become: false,
    becomeUser: 'root',
  });
});

test("Ansible's connection variables and rplay's host-key options", () => {
  const s = connectionSettings(
    {
      inventory_hostname: 'node-2',
      ansible_host: '127.0.1.2',
      ansible_port: '2222',
      ansible_user: 'ubuntu',
      ansible_ssh_private_key_file: '~/keys/id',
      rplay_known_hosts_file: '/lab/known_hosts',
      rplay_host_key_checking: 'accept-new',
      ansible_become: 'yes',
      ansible_become_user: 'redis',
    },
  );
  assert.equal(s, {
    connection: 'ssh',
    address: '127.0.1.2',
    port: 2222,
    user: 'ubuntu',
    privateKeyFile: join(homedir(), 'keys/id'),
    knownHostsFile: '/lab/known_hosts',
    acceptNew: true,
    become: true,
    becomeUser: 'redis',
  });
});

test('local connection and a Secret user are taken as values', () => {
  const s = connectionSettings({ ansible_connection: 'local', ansible_user: new Secret('Deploy-User-Secret-42') }, 'localhost');
  assert.is(s.connection, 'local');
  assert.is(s.user, 'Deploy-User-Secret-42');
});

test('bad values are errors naming the host and the variable', () => {
  assert.throws(() => connectionSettings({ ansible_port: 70000 }, 'n1'), /host n1: ansible_port '70000' is not a port number/);
  assert.throws(() => connectionSettings({ ansible_connection: 'winrm' }, 'n1'), /host n1: ansible_connection 'winrm' is not supported/);
  assert.throws(() => connectionSettings({ rplay_host_key_checking: 'no' }, 'n1'), /rplay_host_key_checking 'no' must be yes or accept-new/);
  assert.throws(() => connectionSettings({ ansible_become: 'maybe' }, 'n1'), /host n1: ansible_become 'maybe' must be true or false/);
  assert.throws(() => connectionSettings({ ansible_host: ['a'] }, 'n1'), /host n1: ansible_host must be a string, not a list/);
});


test('become: a task/block/play keyword wins over the variables; the variables apply without one; only sudo', () => {
  const vars = { ansible_become: 'yes', ansible_become_user: 'nobody' };
  assert.equal(taskBecome(vars, 'n1', {}), { become: true, becomeUser: 'nobody' });
  assert.equal(taskBecome(vars, 'n1', { becomeUser: 'redis' }), { become: true, becomeUser: 'redis' });
  assert.equal(taskBecome(vars, 'n1', { become: false }), { become: false, becomeUser: 'nobody' });
  assert.equal(taskBecome({}, 'n1', {}), { become: false, becomeUser: 'root' });
  assert.equal(taskBecome({ ansible_become_method: 'sudo' }, 'n1', { become: true }), { become: true, becomeUser: 'root' });
  assert.throws(() => taskBecome({ ansible_become_method: 'su' }, 'n1', { become: true }), /host n1: ansible_become_method 'su' is not supported/);
  assert.throws(() => connectionSettings({ ansible_become_method: 'doas' }, 'n1'), /host n1: ansible_become_method 'doas' is not supported/);
});

test.run();
