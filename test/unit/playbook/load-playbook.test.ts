import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadPlaybook } from '../../../runner/playbook/load-playbook.js';
import type { Block, Task } from '../../../runner/playbook/types.js';
import { InputError, positionOf } from '../../../runner/yaml/load.js';
import { registry } from '../../../modules/registry.js';
import { fakeRegistry } from './fake-modules.js';

/** Writes files under a fresh folder; returns the folder. */
async function project(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rplay-pb-'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

async function errorOf(files: Record<string, string>, main = 'playbooks/x.yml'): Promise<{ dir: string; message: string }> {
  const dir = await project(files);
  try {
    await loadPlaybook(join(dir, main), fakeRegistry);
  } catch (e) {
    assert.instance(e, InputError);
    return { dir, message: (e as Error).message };
  }
  throw new Error('expected an InputError');
}

const play = (tasks: string): string => `- name: Redis\n  hosts: redis\n  tasks:\n${tasks}`;

test('a play and its tasks, normalised', async () => {
  const dir = await project({
    'site.yml': `- name: Redis
  hosts: [redis, '!dr']
  become: yes
  remote_user: ubuntu
  gather_facts: no
  serial: 1
  vars:
    port: 6379
  vars_files: vars/{{ env }}.yml
  tasks:
    - name: Install redis
      apt: { name: redis-server, state: present, update_cache: yes }
      notify: Restart redis
      tags: install, redis
      register: installed
      retries: 3
      until: installed is succeeded
      delay: 2
    - shell: echo {{ port }}
      args: { chdir: /tmp }
      when: installed is changed
      changed_when: false
      delegate_to: localhost
      run_once: true
      no_log: true
      ignore_errors: yes
      check_mode: no
      become_user: redis
      loop: [1, 2]
      vars: { x: 1 }
    - meta: flush_handlers
  handlers:
    - name: Restart redis
      service: { name: redis, state: restarted }
`,
  });
  const file = join(dir, 'site.yml');
  const book = await loadPlaybook(file, fakeRegistry);
  assert.is(book.file, file);
  assert.is(book.plays.length, 1);
  const p = book.plays[0]!;
  assert.is(p.name, 'Redis');
  assert.is(p.hosts, 'redis:!dr');
  assert.is(p.become, true);
  assert.is(p.remoteUser, 'ubuntu');
  assert.is(p.gatherFacts, false);
  assert.equal(p.serial, [1]);
  assert.equal(p.vars, { port: 6379 });
  assert.equal(p.varsFiles, ['vars/{{ env }}.yml']);
  assert.equal(p.pos, { file, line: 1, col: 3 });
  const [install, shell, meta] = p.tasks as Task[];
  assert.equal(
    { ...install!, pos: undefined },
    {
      name: 'Install redis',
      module: 'apt',
      args: { name: 'redis-server', state: 'present', update_cache: true },
      notify: ['Restart redis'],
      tags: ['install', 'redis'],
      register: 'installed',
      retries: 3,
      until: ['installed is succeeded'],
      delay: 2,
      ignoreErrors: false,
      noLog: false,
      runOnce: false,
      file,
      pos: undefined,
    },
  );
  assert.equal(install!.pos, { file, line: 11, col: 7 });
  assert.is(shell!.name, 'shell');
  assert.equal(shell!.args, { cmd: 'echo {{ port }}', chdir: '/tmp' });
  assert.equal(shell!.when, ['installed is changed']);
  assert.equal(shell!.changedWhen, ['False']);
  assert.is(shell!.delegateTo, 'localhost');
  assert.is(shell!.runOnce, true);
  assert.is(shell!.noLog, true);
  assert.is(shell!.ignoreErrors, true);
  assert.is(shell!.checkMode, false);
  assert.is(shell!.becomeUser, 'redis');
  assert.equal(shell!.loop, [1, 2]);
  assert.equal(shell!.vars, { x: 1 });
  assert.equal(positionOf(shell!, 'when'), { file, line: 21, col: 7 });
  assert.is(meta!.module, 'meta');
  assert.equal(meta!.args, { action: 'flush_handlers' });
  assert.is(p.handlers[0]!.name, 'Restart redis');
});

test('blocks with rescue and always; defaults of an empty play', async () => {
  const dir = await project({
    'b.yml': `- hosts: all
  tasks:
    - name: Guarded
      when: go
      become: true
      tags: [t]
      block:
        - debug: { msg: in }
      rescue:
        - debug: { msg: rescued }
      always:
        - block:
            - debug: { msg: nested }
`,
  });
  const p = (await loadPlaybook(join(dir, 'b.yml'), fakeRegistry)).plays[0]!;
  assert.is(p.name, 'all');
  assert.is(p.gatherFacts, true);
  assert.equal(p.vars, {});
  assert.equal(p.handlers, []);
  const b = p.tasks[0] as Block;
  assert.is(b.name, 'Guarded');
  assert.equal(b.when, ['go']);
  assert.is(b.become, true);
  assert.equal(b.tags, ['t']);
  assert.equal((b.block[0] as Task).args, { msg: 'in' });
  assert.equal((b.rescue[0] as Task).args, { msg: 'rescued' });
  assert.equal(((b.always[0] as Block).block[0] as Task).args, { msg: 'nested' });
});

test('blocks: task keywords are not block keywords; a handler cannot be a block', async () => {
  let r = await errorOf({ 'playbooks/x.yml': play(`    - name: B\n      register: out\n      block:\n        - debug: {}\n`) });
  assert.is(r.message, `${r.dir}/playbooks/x.yml:5:7: block "B": unknown key 'register' — 'register' belongs on the tasks inside the block`);
  r = await errorOf({ 'playbooks/x.yml': play(`    - block:\n        - debug: {}\n      rescu: []\n`) });
  assert.is(r.message, `${r.dir}/playbooks/x.yml:6:7: block: unknown key 'rescu' (did you mean 'rescue'?)`);
  r = await errorOf({ 'playbooks/x.yml': play(`    - block:\n        - aptt: {}\n`) });
  assert.is(r.message, `${r.dir}/playbooks/x.yml:5:11: task: module 'aptt' unknown (did you mean 'apt'?)`);
  r = await errorOf({ 'playbooks/x.yml': `- hosts: all\n  handlers:\n    - block: []\n` });
  assert.is(r.message, `${r.dir}/playbooks/x.yml:3:7: a handler cannot be a block`);
});

test('unknown module: error at the key with did-you-mean', async () => {
  const { dir, message } = await errorOf({
    'playbooks/x.yml': play(`    - name: Install redis
      aptt: { name: redis-server }
`),
  });
  assert.is(message, `${dir}/playbooks/x.yml:5:7: task "Install redis": module 'aptt' unknown (did you mean 'apt'?)`);
});

test('unknown task key: error at the key with did-you-mean; unsupported keywords say what instead', async () => {
  let r = await errorOf({
    'playbooks/x.yml': play(`    - name: Install redis
      apt: { name: redis-server }
      wehn: x
`),
  });
  assert.is(r.message, `${r.dir}/playbooks/x.yml:6:7: task "Install redis": unknown key 'wehn' (did you mean 'when'?)`);
  r = await errorOf({ 'playbooks/x.yml': play(`    - name: Loop\n      debug: { msg: x }\n      with_items: [1]\n`) });
  assert.is(r.message, `${r.dir}/playbooks/x.yml:6:7: task "Loop": 'with_items' is not supported — use loop:`);
  r = await errorOf({ 'playbooks/x.yml': play(`    - name: Two\n      debug: { msg: x }\n      shell: ls\n`) });
  assert.is(r.message, `${r.dir}/playbooks/x.yml:6:7: task "Two": one module per task, found debug, shell`);
  r = await errorOf({ 'playbooks/x.yml': play(`    - name: None\n      when: x\n`) });
  assert.match(r.message, /playbooks\/x\.yml:4:7: task "None": no module \(one of apt, debug, file, service, shell\)$/);
});

test('module args are checked against the module schema', async () => {
  let r = await errorOf({ 'playbooks/x.yml': play(`    - name: Install redis\n      apt: { name: redis-server, state: installed }\n`) });
  assert.is(r.message, `${r.dir}/playbooks/x.yml:5:34: task "Install redis": apt.state must be one of present, absent, latest`);
  r = await errorOf({ 'playbooks/x.yml': play(`    - name: Install redis\n      apt:\n        nme: redis-server\n`) });
  assert.is(r.message, `${r.dir}/playbooks/x.yml:6:9: task "Install redis": apt: unknown key 'nme' (did you mean 'name'?)`);
  r = await errorOf({ 'playbooks/x.yml': play(`    - name: Install redis\n      apt: { state: present }\n`) });
  assert.is(r.message, `${r.dir}/playbooks/x.yml:5:7: task "Install redis": apt.name is required`);
  r = await errorOf({ 'playbooks/x.yml': play(`    - name: Install redis\n      apt: { name: 5 }\n`) });
  assert.is(r.message, `${r.dir}/playbooks/x.yml:5:14: task "Install redis": apt.name must be a string or a list of strings`);
  r = await errorOf({ 'playbooks/x.yml': play(`    - apt: { name: x, update_cache: maybe }\n`) });
  assert.is(r.message, `${r.dir}/playbooks/x.yml:4:23: task: apt.update_cache must be true or false`);
  r = await errorOf({ 'playbooks/x.yml': play(`    - name: Conf\n      file: { path: /x, mode: 640 }\n`) });
  assert.is(r.message, `${r.dir}/playbooks/x.yml:5:31: mode: 640 is ambiguous — write 0640 (octal) or '0640'`);
  r = await errorOf({ 'playbooks/x.yml': play(`    - name: Free\n      apt: redis-server\n`) });
  assert.is(r.message, `${r.dir}/playbooks/x.yml:5:7: task "Free": apt takes a mapping of args (apt: {key: value, …}), not a string`);
});

test('templated args are not judged before they are rendered', async () => {
  const dir = await project({ 'x.yml': play(`    - apt: { name: "{{ pkgs }}", state: "{{ wanted }}", update_cache: "{{ refresh }}" }\n`) });
  const t = (await loadPlaybook(join(dir, 'x.yml'), fakeRegistry)).plays[0]!.tasks[0] as Task;
  assert.equal(t.args, { name: '{{ pkgs }}', state: '{{ wanted }}', update_cache: '{{ refresh }}' });
  // …but a missing key is still missing.
  const r = await errorOf({ 'playbooks/x.yml': play(`    - apt: { state: "{{ wanted }}" }\n`) });
  assert.match(r.message, /task: apt\.name is required$/);
});

test('keyword types, conditions and templates are checked with positions', async () => {
  let r = await errorOf({ 'playbooks/x.yml': play(`    - name: R\n      debug: {}\n      retries: many\n`) });
  assert.is(r.message, `${r.dir}/playbooks/x.yml:6:7: task "R": retries must be an integer`);
  r = await errorOf({ 'playbooks/x.yml': play(`    - name: R\n      debug: {}\n      when: port ===\n`) });
  assert.match(r.message, new RegExp(`^${r.dir}/playbooks/x\\.yml:6:7: task "R": when: cannot parse expression 'port ==='`));
  r = await errorOf({ 'playbooks/x.yml': play(`    - name: R\n      debug: { msg: "{{ a b }}" }\n`) });
  assert.match(r.message, new RegExp(`^${r.dir}/playbooks/x\\.yml:5:16: task "R": debug\\.msg: cannot parse expression 'a b'`));
  r = await errorOf({ 'playbooks/x.yml': play(`    - name: R\n      debug: {}\n      delegate_to: node-1\n`) });
  assert.is(r.message, `${r.dir}/playbooks/x.yml:6:7: task "R": delegate_to must be one of localhost`);
  r = await errorOf({ 'playbooks/x.yml': play(`    - name: R\n      debug: {}\n      register: my-result\n`) });
  assert.match(r.message, /x\.yml:6:7: task "R": register must match pattern/);
  r = await errorOf({ 'playbooks/x.yml': play(`    - name: R\n      meta: end_play\n`) });
  assert.is(r.message, `${r.dir}/playbooks/x.yml:5:7: task "R": meta must be one of flush_handlers, refresh_inventory`);
});

test('play keys: unknown with did-you-mean, hosts required, notify must name a handler', async () => {
  let r = await errorOf({ 'playbooks/x.yml': `- name: P\n  hosts: all\n  gather_fact: no\n` });
  assert.is(r.message, `${r.dir}/playbooks/x.yml:3:3: play "P": unknown key 'gather_fact' (did you mean 'gather_facts'?)`);
  r = await errorOf({ 'playbooks/x.yml': `- name: P\n  tasks: []\n` });
  assert.is(r.message, `${r.dir}/playbooks/x.yml:1:3: play "P": hosts is required`);
  r = await errorOf({ 'playbooks/x.yml': `- hosts: all\n  roles: [redis]\n` });
  assert.is(r.message, `${r.dir}/playbooks/x.yml:2:3: play: 'roles' is not supported — roles are not supported; use import_playbook`);
  r = await errorOf({
    'playbooks/x.yml': play(`    - name: Conf\n      debug: {}\n      notify: restart redis\n  handlers:\n    - name: Restart redis\n      debug: {}\n`),
  });
  assert.is(r.message, `${r.dir}/playbooks/x.yml:6:7: task "Conf": notify: no handler named "restart redis" in this play (did you mean 'Restart redis'?)`);
  r = await errorOf({ 'playbooks/x.yml': `hosts: all\n` });
  assert.is(r.message, `${r.dir}/playbooks/x.yml:1:1: a playbook must be a list of plays (- hosts: …) or imports (- import_playbook: …)`);
  r = await errorOf({ 'playbooks/x.yml': `- hosts: all\n  vars:\n    redis-port: 1\n` });
  assert.is(r.message, `${r.dir}/playbooks/x.yml:3:5: 'redis-port' is not a valid variable name (letters, digits and _, not starting with a digit)`);
});

test('import_playbook: relative to the importing file, plays flattened in order', async () => {
  const dir = await project({
    'playbooks/deploy.yml': `- import_playbook: phases/01-base.yml\n- hosts: all\n  name: middle\n- import_playbook: phases/02-redis.yml\n`,
    'playbooks/phases/01-base.yml': `- hosts: all\n  name: base-a\n- hosts: all\n  name: base-b\n`,
    'playbooks/phases/02-redis.yml': `- import_playbook: ../common/last.yml\n- hosts: redis\n  name: redis\n  tasks:\n    - debug: { msg: hi }\n`,
    'playbooks/common/last.yml': `- name: last\n  hosts: all\n`,
  });
  const book = await loadPlaybook(join(dir, 'playbooks/deploy.yml'), fakeRegistry);
  assert.equal(book.plays.map((p) => p.name), ['base-a', 'base-b', 'middle', 'last', 'redis']);
  const t = book.plays[4]!.tasks[0] as Task;
  assert.is(t.file, join(dir, 'playbooks/phases/02-redis.yml'));
  assert.equal(t.pos, { file: join(dir, 'playbooks/phases/02-redis.yml'), line: 5, col: 7 });
});

test('import_playbook: a cycle is an error naming it; a missing file is reported at the import', async () => {
  let r = await errorOf(
    {
      'a.yml': `- hosts: all\n- import_playbook: b.yml\n`,
      'b.yml': `- import_playbook: sub/c.yml\n`,
      'sub/c.yml': `- import_playbook: ../a.yml\n`,
    },
    'a.yml',
  );
  // Paths as rplay names them: the command line's, then each joined to its importer's folder.
  assert.is(r.message, `${r.dir}/sub/c.yml:1:3: import_playbook cycle: ${r.dir}/a.yml → ${r.dir}/b.yml → ${r.dir}/sub/c.yml → ${r.dir}/a.yml`);
  r = await errorOf({ 'a.yml': `- hosts: all\n- import_playbook: nope.yml\n` }, 'a.yml');
  assert.is(r.message, `${r.dir}/a.yml:2:3: import_playbook nope.yml: cannot read: ENOENT`);
  r = await errorOf({ 'a.yml': `- import_playbook: b.yml\n  vars: {}\n`, 'b.yml': '[]\n' }, 'a.yml');
  assert.is(r.message, `${r.dir}/a.yml:2:3: import_playbook: unknown key 'vars'`);
});

test('errors inside an imported file carry that file\'s position', async () => {
  const r = await errorOf({ 'a.yml': `- import_playbook: b.yml\n`, 'b.yml': play(`    - aptt: {}\n`) }, 'a.yml');
  assert.is(r.message, `${r.dir}/b.yml:4:7: task: module 'aptt' unknown (did you mean 'apt'?)`);
});

test('the real module registry loads a playbook', async () => {
  const dir = await project({ 'p.yml': `- hosts: all\n  tasks:\n    - ping:\n` });
  const t = (await loadPlaybook(join(dir, 'p.yml'), registry)).plays[0]!.tasks[0] as Task;
  assert.is(t.module, 'ping');
  assert.equal(t.args, {});
});

test.run();
