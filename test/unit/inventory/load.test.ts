import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hostVarsFromInventory, loadInventory } from '../../../runner/inventory/inventory.js';
import { matchHosts } from '../../../runner/inventory/patterns.js';
import { inventoryPlugins } from '../../../runner/cli/inventory-plugins.js';
import { labLayout } from '../../../lab/lab-layout.js';
import { writeLabState } from '../../../lab/lab-state.js';
import { rejection, removeTrees, writeTree } from './tree.js';

test.after(removeTrees);

// Precedence, lowest first: group vars from all down to the most specific group (inventory vars,
// then group_vars/), then the host (its inventory entry, then host_vars/).
const folder = (): string =>
  writeTree({
    'inv/hosts.yml': `
all:
  vars:
    level: all-inline
    from_all: yes
  hosts:
    lone:
  children:
    redis:
      vars:
        level: redis-inline
      hosts:
        node-[1:3]:
          ansible_user: ubuntu
      children:
        primary:
          vars:
            level: primary-inline
          hosts:
            node-1:
`,
    'inv/more.yaml': `
web:
  hosts:
    node-2:
      level: node-2-inline
`,
    'inv/README.txt': 'not an inventory file',
    'inv/group_vars/all.yml': 'level: all-dir\nonly_dir: 1\n',
    'inv/group_vars/redis/10-a.yml': 'level: redis-dir\nredis_port: 6379\n',
    'inv/group_vars/redis/20-b.yaml': 'redis_port: 6380\n',
    'inv/group_vars/primary.yml': 'role: master\n',
    'inv/group_vars/unknown_group.yml': 'ignored: true\n',
    'inv/host_vars/node-2.yml': 'level: node-2-dir\n',
    'inv/host_vars/localhost.yml': 'controller: true\n',
  });

test('a folder: every *.yml/*.yaml merged, group_vars and host_vars applied in precedence order', async () => {
  const inv = await loadInventory([join(folder(), 'inv')]);
  assert.equal(hostVarsFromInventory(inv, 'lone'), { level: 'all-dir', from_all: true, only_dir: 1 });
  assert.equal(hostVarsFromInventory(inv, 'node-3'), {
    level: 'redis-dir',
    from_all: true,
    only_dir: 1,
    redis_port: 6380,
    ansible_user: 'ubuntu',
  });
  // primary is deeper than redis, so its inline vars beat redis' group_vars.
  assert.is(hostVarsFromInventory(inv, 'node-1').level, 'primary-inline');
  assert.is(hostVarsFromInventory(inv, 'node-1').role, 'master');
  // host_vars/ beats the host's inventory entry, which beats every group.
  assert.is(hostVarsFromInventory(inv, 'node-2').level, 'node-2-dir');
  assert.is(inv.groups.has('unknown_group'), false);
});

test('host groups run from all to the most specific; siblings alphabetical', async () => {
  const inv = await loadInventory([join(folder(), 'inv')]);
  assert.equal(inv.hosts.get('node-1')!.groups, ['all', 'redis', 'primary']);
  assert.equal(inv.hosts.get('node-2')!.groups, ['all', 'redis', 'web']);
  assert.equal(inv.hosts.get('lone')!.groups, ['all', 'ungrouped']);
  assert.equal(inv.groups.get('all')!.children, ['ungrouped', 'redis', 'web']);
  assert.equal(inv.groups.get('ungrouped')!.hosts, ['lone']);
  assert.equal(inv.groups.get('redis')!.hosts, ['node-1', 'node-2', 'node-3']);
});

test('siblings at the same depth merge alphabetically: the later name wins', async () => {
  const dir = writeTree({
    'h.yml': `
all:
  children:
    zeta: {hosts: {n1: }, vars: {x: zeta}}
    alpha: {hosts: {n1: }, vars: {x: alpha}}
`,
  });
  const inv = await loadInventory([join(dir, 'h.yml')]);
  assert.is(hostVarsFromInventory(inv, 'n1').x, 'zeta');
  assert.equal(inv.hosts.get('n1')!.groups, ['all', 'alpha', 'zeta']);
});

test('several -i merge: hosts and groups named twice become one, later vars win', async () => {
  const dir = writeTree({
    'a/hosts.yml': 'all:\n  children:\n    redis:\n      hosts:\n        n1: {p: a, q: a}\n',
    'a/group_vars/redis.yml': 'from_a: 1\n',
    'b/hosts.yml': 'all:\n  children:\n    redis:\n      hosts:\n        n1: {p: b}\n        n2:\n',
    'b/group_vars/redis.yml': 'from_b: 2\n',
  });
  const inv = await loadInventory([join(dir, 'a'), join(dir, 'b/hosts.yml')]);
  assert.equal([...inv.hosts.keys()], ['n1', 'n2', 'localhost']);
  assert.equal(hostVarsFromInventory(inv, 'n1'), { from_a: 1, from_b: 2, p: 'b', q: 'a' });
});

test('implicit localhost: local connection, vars of all and host_vars, in no group', async () => {
  const inv = await loadInventory([join(folder(), 'inv')]);
  const vars = hostVarsFromInventory(inv, 'localhost');
  assert.is(vars.ansible_connection, 'local');
  assert.is(vars.controller, true);
  assert.is(vars.from_all, true);
  for (const g of inv.groups.values()) assert.not.ok(g.hosts.includes('localhost'), g.name);
});

test('host ranges: numeric, zero-padded, letters, stride', async () => {
  const dir = writeTree({
    'h.yml': 'all:\n  hosts:\n    a[1:3]:\n    b[08:10]:\n    c-[x:z]:\n    d[0:10:5]:\n',
  });
  const inv = await loadInventory([join(dir, 'h.yml')]);
  assert.equal(
    inv.groups.get('all')!.hosts,
    ['a1', 'a2', 'a3', 'b08', 'b09', 'b10', 'c-x', 'c-y', 'c-z', 'd0', 'd5', 'd10'],
  );
});

test('YAML 1.1 values as Ansible reads them: yes is true, 0640 octal', async () => {
  const dir = writeTree({ 'h.yml': 'all:\n  vars:\n    flag: yes\n    n: 0640\n  hosts:\n    h:\n' });
  const vars = hostVarsFromInventory(await loadInventory([join(dir, 'h.yml')]), 'h');
  assert.equal(vars, { flag: true, n: 0o640 });
});

test('an unknown key in a group names file:line:col and the key', async () => {
  const dir = writeTree({ 'h.yml': 'all:\n  children:\n    redis:\n      hots:\n        n1:\n' });
  const msg = await rejection(loadInventory([join(dir, 'h.yml')]));
  assert.is(msg, `${join(dir, 'h.yml')}:4:7: all.children.redis: unknown key 'hots' in a group (a group has hosts, children and vars)`);
});

test('hosts written as a list is an error at its line', async () => {
  const dir = writeTree({ 'h.yml': 'all:\n  hosts:\n    - n1\n    - n2\n' });
  const msg = await rejection(loadInventory([join(dir, 'h.yml')]));
  assert.match(msg, `${join(dir, 'h.yml')}:2:3: all.hosts: 'hosts' must be a mapping of host names`);
});

test('host vars that are not a mapping: error names the host', async () => {
  const dir = writeTree({ 'h.yml': 'all:\n  hosts:\n    n1: 10.0.0.1\n' });
  const msg = await rejection(loadInventory([join(dir, 'h.yml')]));
  assert.is(msg, `${join(dir, 'h.yml')}:3:5: all.hosts.n1: host 'n1' must be a mapping of variables`);
});

test('invalid YAML, a missing inventory and a bad vars file are errors naming the file', async () => {
  const dir = writeTree({
    'bad.yml': 'all:\n  hosts: [\n',
    'ok/hosts.yml': 'all:\n  hosts:\n    n1:\n',
    'ok/group_vars/all.yml': '- a\n- b\n',
  });
  assert.match(await rejection(loadInventory([join(dir, 'bad.yml')])), new RegExp(`^${join(dir, 'bad.yml')}:\\d+:\\d+: invalid YAML`));
  assert.is(await rejection(loadInventory([join(dir, 'nope')])), `${join(dir, 'nope')}: inventory not found`);
  assert.is(
    await rejection(loadInventory([join(dir, 'ok')])),
    `${join(dir, 'ok/group_vars/all.yml')}:1:1: a vars file must be a mapping of variable names to values`,
  );
});

test('a group cycle is an error, not a hang', async () => {
  const dir = writeTree({ 'h.yml': 'all:\n  children:\n    a:\n      children:\n        b:\n          children:\n            a:\n' });
  assert.match(await rejection(loadInventory([join(dir, 'h.yml')])), 'groups form a cycle: a → b → a');
});

test('plugin: rplay_lab reads the lab (lab_dir relative to the file, else RPLAY_LAB_DIR)', async () => {
  const root = writeTree({ 'inv/lab.yml': 'plugin: rplay_lab\nlab_dir: ../lab\n', 'lab/.keep': '', 'env/lab.yml': 'plugin: rplay_lab\n' });
  const layout = labLayout(join(root, 'lab'));
  writeLabState(layout.stateFile, {
    prefix: '127.0.9',
    hosts: [
      { name: 'node-1', address: '127.0.9.1', pid: null, wrapperPid: null },
      { name: 'node-2', address: '127.0.9.2', pid: null, wrapperPid: null },
    ],
  });
  const inv = await loadInventory([join(root, 'inv')], { plugins: inventoryPlugins });
  assert.equal(inv.groups.get('redis')!.hosts, ['node-1', 'node-2']);
  const vars = hostVarsFromInventory(inv, 'node-2');
  assert.is(vars.ansible_host, '127.0.9.2');
  assert.is(vars.rplay_known_hosts_file, layout.knownHostsFile);

  const saved = process.env.RPLAY_LAB_DIR;
  process.env.RPLAY_LAB_DIR = join(root, 'lab');
  try {
    assert.equal(matchHosts(await loadInventory([join(root, 'env/lab.yml')], { plugins: inventoryPlugins }), 'all'), ['node-1', 'node-2']);
  } finally {
    if (saved === undefined) delete process.env.RPLAY_LAB_DIR;
    else process.env.RPLAY_LAB_DIR = saved;
  }
});

test('plugin errors name the inventory file: unknown plugin, unknown option, no lab', async () => {
  const dir = writeTree({
    'a.yml': 'plugin: nope\n',
    'b.yml': 'plugin: rplay_lab\nlabdir: /x\n',
    'c.yml': `plugin: rplay_lab\nlab_dir: ./no-lab-here\n`,
  });
  assert.is(await rejection(loadInventory([join(dir, 'a.yml')], { plugins: inventoryPlugins })), `${join(dir, 'a.yml')}:1:1: plugin: unknown inventory plugin 'nope' (known: aws_ec2, rplay_lab)`);
  assert.is(
    await rejection(loadInventory([join(dir, 'b.yml')], { plugins: inventoryPlugins })),
    `${join(dir, 'b.yml')}:2:1: unknown option 'labdir' for plugin rplay_lab (options: plugin, lab_dir, hosts)`,
  );
  assert.match(
    await rejection(loadInventory([join(dir, 'c.yml')], { plugins: inventoryPlugins })),
    `${join(dir, 'c.yml')}: plugin rplay_lab: no lab in ${join(dir, 'no-lab-here')}`,
  );
});

test('a plugin file is refused when the loader was handed no such plugin; a handed-in plugin is what runs', async () => {
  const dir = writeTree({ 'p.yml': 'plugin: rplay_lab\n', 'q.yml': 'plugin: mine\nsize: 2\n' });
  assert.is(await rejection(loadInventory([join(dir, 'p.yml')])), `${join(dir, 'p.yml')}:1:1: plugin: unknown inventory plugin 'rplay_lab' (known: none)`);
  const seen: unknown[] = [];
  const inv = await loadInventory([join(dir, 'q.yml')], {
    plugins: {
      mine: async (config, file) => {
        seen.push(config.size, file);
        return { all: { hosts: { 'made-1': { ansible_host: '127.0.0.9' } } } };
      },
    },
  });
  assert.equal(seen, [2, join(dir, 'q.yml')]);
  assert.is(hostVarsFromInventory(inv, 'made-1').ansible_host, '127.0.0.9');
});

test.run();
