// When a roll stops (Ansible's serial, max_fail_percentage, any_errors_fatal): observed through the
// CLI on several local-connection hosts, each writing into its own folder, so "untouched" is a file
// that is absent and a recap that counts nothing.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rplay, rplayJson, type JsonRun } from '../../support/rplay-cli.js';

const test = suite('rolls stop on failure');
const NODES = ['node-1', 'node-2', 'node-3', 'node-4', 'node-5'];

interface Roll {
  dir: string;
  inv: string;
  write(name: string, yaml: string): string;
  done(host: string, what: string): boolean;
}

/** A folder per host, an inventory of five local hosts: `three` (node-1..3) and `five`. */
function roll(): Roll {
  const dir = mkdtempSync(join(tmpdir(), 'rplay-roll-'));
  for (const h of NODES) mkdirSync(join(dir, h));
  const inv = join(dir, 'inventory.yml');
  const hosts = (names: string[]): string => names.map((h) => `        ${h}: {}\n`).join('');
  writeFileSync(
    inv,
    `all:\n  vars:\n    ansible_connection: local\n  children:\n    three:\n      hosts:\n${hosts(NODES.slice(0, 3))}    five:\n      hosts:\n${hosts(NODES)}`,
  );
  return {
    dir,
    inv,
    write(name, yaml) {
      const path = join(dir, name);
      writeFileSync(path, yaml);
      return path;
    },
    done: (host, what) => existsSync(join(dir, host, what)),
  };
}

function run(r: Roll, books: string[], ...extra: string[]) {
  return rplayJson([...books, '-i', r.inv, '-e', `workdir=${r.dir}`, ...extra], { env: { RPLAY_STATE_DIR: join(r.dir, 'state') } });
}

/** Which hosts ran `task`, batch by batch (a task is reported once per batch). */
function batchesOf(json: JsonRun, task: string): string[][] {
  return json.plays.flatMap((p) => p.tasks.filter((t) => t.name === task).map((t) => Object.keys(t.results).sort()));
}

const nothingRan = { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0 };

/** A task (it runs in check mode too) that fails on the hosts listed in `fail_on` (comma-separated). */
const failTask = `
    - name: Drain
      assert: { that: "inventory_hostname not in (fail_on | default('')).split(',')" }
`;
const markTask = (what: string): string => `
    - name: Mark ${what}
      copy: { dest: "{{ workdir }}/{{ inventory_hostname }}/${what}", content: "${what}\\n" }
`;
/** Tasks moved into a block's list. */
const inBlock = (tasks: string): string => tasks.replace(/\n(?=.)/g, '\n    ');

function twoPlays(r: Roll, header: string): string {
  return r.write(
    'roll.yml',
    `- name: Roll
  hosts: three
  gather_facts: false
${header}
  tasks:${failTask}${markTask('stopped')}
- name: Afterwards
  hosts: three
  gather_facts: false
  tasks:${markTask('afterwards')}`,
  );
}

test('serial: 1 with the first host failing: the other hosts are untouched, no later play or playbook starts, exit 2', async () => {
  const r = roll();
  const later = r.write('later.yml', `- name: Later playbook\n  hosts: three\n  gather_facts: false\n  tasks:${markTask('later')}`);
  const res = await run(r, [twoPlays(r, '  serial: 1'), later], '-e', 'fail_on=node-1');
  assert.is(res.code, 2, res.stderr);
  for (const h of ['node-1', 'node-2', 'node-3']) {
    for (const what of ['stopped', 'afterwards', 'later']) assert.not.ok(r.done(h, what), `${h} ${what}`);
  }
  assert.equal(res.json.plays.map((p) => p.name), ['Roll']);
  assert.equal(batchesOf(res.json, 'Drain'), [['node-1']]);
  assert.equal(res.json.stats['node-2'], nothingRan);
  assert.equal(res.json.stats['node-3'], nothingRan);
  assert.is(res.json.stats['node-1']!.failed, 1);
  assert.match(res.stderr, /play "Roll", batch 1 of 3: every host of the batch failed: the run stops here/);
});

test('serial: 1 with the second host failing: the first finished, the third is untouched', async () => {
  const r = roll();
  const res = await run(r, [twoPlays(r, '  serial: 1')], '-e', 'fail_on=node-2');
  assert.is(res.code, 2);
  assert.ok(r.done('node-1', 'stopped'));
  assert.not.ok(r.done('node-2', 'stopped'));
  assert.not.ok(r.done('node-3', 'stopped'));
  assert.equal(res.json.stats['node-3'], nothingRan);
  assert.equal(res.json.plays.length, 1);
  assert.match(res.stderr, /batch 2 of 3: every host of the batch failed/);
});

test('without a failure the roll goes through every batch and every play (exit 0)', async () => {
  const r = roll();
  const res = await run(r, [twoPlays(r, '  serial: 1')]);
  assert.is(res.code, 0, res.stderr);
  assert.equal(batchesOf(res.json, 'Drain'), [['node-1'], ['node-2'], ['node-3']]);
  for (const h of ['node-1', 'node-2', 'node-3']) assert.ok(r.done(h, 'stopped') && r.done(h, 'afterwards'), h);
  assert.not.match(res.stderr, /stops/);
});

test("serial: [1, '50%'] takes 1 host, then half of the play's hosts at a time (the last entry repeats)", async () => {
  const r = roll();
  const book = r.write('list.yml', `- name: Roll\n  hosts: five\n  gather_facts: false\n  serial: [1, '50%']\n  tasks:${failTask}`);
  const res = await run(r, [book]);
  assert.is(res.code, 0, res.stderr);
  assert.equal(batchesOf(res.json, 'Drain'), [['node-1'], ['node-2', 'node-3'], ['node-4', 'node-5']]);
  // 40 % of 5 hosts is 2, 10 % is 0.5: at least one host per batch, as in Ansible.
  const pct = r.write('pct.yml', `- name: Roll\n  hosts: five\n  gather_facts: false\n  serial: ['10%', '40%']\n  tasks:${failTask}`);
  const res2 = await run(r, [pct]);
  assert.equal(batchesOf(res2.json, 'Drain'), [['node-1'], ['node-2', 'node-3'], ['node-4', 'node-5']]);
});

test('serial may be templated from play or extra vars; a value that is no batch size stops with where it was written', async () => {
  const r = roll();
  const book = r.write('templated.yml', `- name: Roll\n  hosts: five\n  gather_facts: false\n  serial: "{{ roll_batch }}"\n  tasks:${failTask}${markTask('stopped')}`);
  const res = await run(r, [book], '-e', 'roll_batch=3');
  assert.is(res.code, 0, res.stderr);
  assert.equal(batchesOf(res.json, 'Drain'), [['node-1', 'node-2', 'node-3'], ['node-4', 'node-5']]);
  const bad = roll();
  const badBook = bad.write('templated.yml', `- name: Roll\n  hosts: five\n  gather_facts: false\n  serial: "{{ roll_batch }}"\n  tasks:${failTask}${markTask('stopped')}`);
  const res2 = await run(bad, [badBook], '-e', 'roll_batch=two');
  assert.is(res2.code, 2);
  assert.match(res2.stderr, /templated\.yml:4:\d+: play "Roll": serial: 'two' is not a batch size/);
  for (const h of NODES) assert.not.ok(bad.done(h, 'stopped'), h);
});

test('max_fail_percentage: 30 with 1 of 3 failing stops the play after that task, and the run', async () => {
  const r = roll();
  const res = await run(r, [twoPlays(r, '  max_fail_percentage: 30')], '-e', 'fail_on=node-2');
  assert.is(res.code, 2);
  for (const h of ['node-1', 'node-2', 'node-3']) assert.not.ok(r.done(h, 'stopped') || r.done(h, 'afterwards'), h);
  assert.equal(res.json.plays.map((p) => p.name), ['Roll']);
  assert.match(res.stderr, /play "Roll": 1 of 3 host\(s\) failed, more than max_fail_percentage 30%/);
});

test('max_fail_percentage: 50 with 1 of 3 failing goes on without the failed host', async () => {
  const r = roll();
  const res = await run(r, [twoPlays(r, '  max_fail_percentage: 50')], '-e', 'fail_on=node-2');
  assert.is(res.code, 2);
  for (const h of ['node-1', 'node-3']) assert.ok(r.done(h, 'stopped') && r.done(h, 'afterwards'), h);
  assert.not.ok(r.done('node-2', 'stopped') || r.done('node-2', 'afterwards'));
  assert.equal(res.json.plays.map((p) => p.name), ['Roll', 'Afterwards']);
});

test('max_fail_percentage: 0 with serial: 1 stops at the first failure', async () => {
  const r = roll();
  const res = await run(r, [twoPlays(r, '  serial: 1\n  max_fail_percentage: 0')], '-e', 'fail_on=node-1');
  assert.is(res.code, 2);
  assert.equal(res.json.stats['node-2'], nothingRan);
  assert.match(res.stderr, /batch 1 of 3: 1 of 1 host\(s\) failed, more than max_fail_percentage 0%/);
});

test('a play in which every host failed ends the run (no serial)', async () => {
  const r = roll();
  const res = await run(r, [twoPlays(r, '')], '-e', 'fail_on=node-1,node-2,node-3');
  assert.is(res.code, 2);
  assert.equal(res.json.plays.map((p) => p.name), ['Roll']);
  for (const h of ['node-1', 'node-2', 'node-3']) assert.not.ok(r.done(h, 'afterwards'), h);
  assert.match(res.stderr, /play "Roll": every host of the play failed/);
});

test('without any of these rules, a failure leaves the other hosts going (Ansible default)', async () => {
  const r = roll();
  const res = await run(r, [twoPlays(r, '')], '-e', 'fail_on=node-2');
  assert.is(res.code, 2);
  for (const h of ['node-1', 'node-3']) assert.ok(r.done(h, 'stopped') && r.done(h, 'afterwards'), h);
  assert.not.ok(r.done('node-2', 'afterwards'), 'a failed host stays out of later plays');
});

test('any_errors_fatal on a task: the task finishes on every host, then nothing else runs anywhere', async () => {
  const r = roll();
  const book = r.write(
    'fatal.yml',
    `- name: Roll
  hosts: three
  gather_facts: false
  tasks:
    - name: Drain
      shell: "test {{ inventory_hostname }} != node-2 && touch {{ workdir }}/{{ inventory_hostname }}/drained"
      any_errors_fatal: true
${markTask('stopped')}
- name: Afterwards
  hosts: three
  gather_facts: false
  tasks:${markTask('afterwards')}`,
  );
  const res = await run(r, [book]);
  assert.is(res.code, 2);
  assert.ok(r.done('node-1', 'drained') && r.done('node-3', 'drained'), 'the fatal task itself completes on the others');
  for (const h of ['node-1', 'node-2', 'node-3']) assert.not.ok(r.done(h, 'stopped') || r.done(h, 'afterwards'), h);
  assert.equal(res.json.plays.map((p) => p.name), ['Roll']);
  assert.equal(res.json.stats['node-1']!.failed, 0, 'a stopped host did not fail');
  assert.match(res.stderr, /play "Roll": any_errors_fatal: task "Drain" failed on node-2/);
});

test('any_errors_fatal on a block: a failure in it stops every host after that task', async () => {
  const r = roll();
  const book = r.write(
    'block.yml',
    `- name: Roll
  hosts: three
  gather_facts: false
  tasks:
    - block:${inBlock(failTask + markTask('in-block'))}
      any_errors_fatal: true
${markTask('after-block')}`,
  );
  const res = await run(r, [book], '-e', 'fail_on=node-3');
  assert.is(res.code, 2);
  for (const h of ['node-1', 'node-2', 'node-3']) assert.not.ok(r.done(h, 'in-block') || r.done(h, 'after-block'), h);
  assert.match(res.stderr, /any_errors_fatal: task "Drain" failed on node-3/);
  // The same block without the keyword: the other hosts go on.
  const plain = roll();
  const res2 = await run(plain, [plain.write('block.yml', readFileSync(book, 'utf8').replace('      any_errors_fatal: true\n', ''))], '-e', 'fail_on=node-3');
  assert.is(res2.code, 2);
  for (const h of ['node-1', 'node-2']) assert.ok(plain.done(h, 'in-block') && plain.done(h, 'after-block'), h);
});

test('any_errors_fatal with a rescue: the failed host runs its rescue and always, the others stop, the run ends (exit 2)', async () => {
  const r = roll();
  const book = r.write(
    'rescue.yml',
    `- name: Roll
  hosts: three
  gather_facts: false
  tasks:
    - block:${inBlock(failTask + markTask('in-block'))}
      rescue:${inBlock(markTask('rescued'))}
      always:${inBlock(markTask('always'))}
      any_errors_fatal: true
${markTask('after-block')}
- name: Afterwards
  hosts: three
  gather_facts: false
  tasks:${markTask('afterwards')}`,
  );
  const res = await run(r, [book], '-e', 'fail_on=node-3');
  assert.is(res.code, 2, 'a rescued fatal failure still stopped the run');
  assert.ok(r.done('node-3', 'rescued') && r.done('node-3', 'always'), 'the failed host runs its rescue and always');
  for (const h of ['node-1', 'node-2']) assert.not.ok(r.done(h, 'in-block') || r.done(h, 'rescued') || r.done(h, 'always'), h);
  for (const h of ['node-1', 'node-2', 'node-3']) assert.not.ok(r.done(h, 'after-block') || r.done(h, 'afterwards'), h);
  assert.is(res.json.stats['node-3']!.failed, 0, 'rescued, as in the recap');
});

test('any_errors_fatal: notified handlers do not run, unless force_handlers (and then also on the failed host)', async () => {
  const book = (r: Roll, force: boolean): string =>
    r.write(
      'handlers.yml',
      `- name: Roll
  hosts: three
  gather_facts: false
  any_errors_fatal: true${force ? '\n  force_handlers: true' : ''}
  tasks:
    - name: Config
      copy: { dest: "{{ workdir }}/{{ inventory_hostname }}/config", content: "v2\\n" }
      notify: Restart
${failTask}
  handlers:
    - name: Restart
      copy: { dest: "{{ workdir }}/{{ inventory_hostname }}/restarted", content: "yes\\n" }
`,
    );
  const r = roll();
  const res = await run(r, [book(r, false)], '-e', 'fail_on=node-2');
  assert.is(res.code, 2);
  for (const h of ['node-1', 'node-2', 'node-3']) assert.ok(r.done(h, 'config') && !r.done(h, 'restarted'), h);
  const next = await run(r, [book(r, false)]);
  assert.is(next.code, 0, next.stderr);
  for (const h of ['node-1', 'node-2', 'node-3']) assert.ok(r.done(h, 'restarted'), `${h}: the handler stayed owed to the next run`);
  const f = roll();
  const forced = await run(f, [book(f, true)], '-e', 'fail_on=node-2');
  assert.is(forced.code, 2);
  for (const h of ['node-1', 'node-2', 'node-3']) assert.ok(f.done(h, 'restarted'), h);
});

test('an unreachable host counts as failed: serial: 1 with the first host unreachable stops the roll (exit 4)', async () => {
  const r = roll();
  // A closed loopback port: the connection is refused at once.
  writeFileSync(
    r.inv,
    `all:\n  children:\n    three:\n      hosts:\n        node-1: { ansible_connection: ssh, ansible_host: 127.0.0.1, ansible_port: 9, ansible_user: nobody }\n        node-2: { ansible_connection: local }\n        node-3: { ansible_connection: local }\n`,
  );
  const res = await run(r, [twoPlays(r, '  serial: 1')]);
  assert.is(res.json.stats['node-1']!.unreachable, 1, res.stdout);
  assert.is(res.code, 4);
  for (const h of ['node-2', 'node-3']) assert.not.ok(r.done(h, 'stopped'), h);
  assert.equal(res.json.stats['node-2'], nothingRan);
  assert.equal(res.json.plays.length, 1);
});

test('--check: a task that would change does not stop a roll with max_fail_percentage: 0', async () => {
  const r = roll();
  const res = await run(r, [twoPlays(r, '  serial: 1\n  max_fail_percentage: 0')], '--check', '--detailed-exitcode');
  assert.is(res.code, 3, res.stderr);
  assert.equal(batchesOf(res.json, 'Mark stopped'), [['node-1'], ['node-2'], ['node-3']]);
  for (const h of ['node-1', 'node-2', 'node-3']) {
    assert.is(res.json.plays[0]!.tasks.find((t) => t.name === 'Mark stopped' && t.results[h])!.results[h]!.status, 'changed');
    assert.not.ok(r.done(h, 'stopped'), 'check mode wrote nothing');
  }
  assert.equal(res.json.plays.map((p) => p.name), ['Roll', 'Afterwards']);
  const failing = await run(r, [twoPlays(r, '  serial: 1\n  max_fail_percentage: 0')], '--check', '-e', 'fail_on=node-1');
  assert.is(failing.code, 2, 'a real failure in check mode still stops the roll');
  assert.equal(failing.json.stats['node-2'], nothingRan);
});

test("a loop over a variable that is not a list fails the host's task naming file:line:col, the variable and its type", async () => {
  const r = roll();
  const book = r.write(
    'loop.yml',
    `- name: Packages
  hosts: three
  gather_facts: false
  vars:
    pkgs: redis-server
    settings: { maxmemory: 1gb }
  tasks:
    - name: Mark first
      copy: { dest: "{{ workdir }}/{{ inventory_hostname }}/first", content: "1\\n" }

    - name: Install
      copy: { dest: "{{ workdir }}/{{ inventory_hostname }}/{{ item }}", content: "x\\n" }
      loop: "{{ pkgs }}"

    - name: Settings
      debug: { msg: "{{ item }}" }
      loop: "{{ settings }}"
`,
  );
  for (const extra of [[], ['--check']]) {
    const res = await run(r, [book], ...extra);
    assert.is(res.code, 2, extra.join(' '));
    const msg = res.json.plays[0]!.tasks.find((t) => t.name === 'Install')!.results['node-1']!;
    assert.is(msg.status, 'failed', `${extra.join(' ')}: not "may change" after an earlier would-change task`);
    assert.match(msg.msg ?? '', /loop\.yml:11:7: task "Install": loop: 'pkgs' is a string, not a list$/);
  }
  const settings = r.write('settings.yml', readFileSync(book, 'utf8').replace(/\n    - name: Install[^]*?\n\n/, '\n'));
  const res = await run(r, [settings]);
  const msg = res.json.plays[0]!.tasks.find((t) => t.name === 'Settings')!.results['node-1']!.msg ?? '';
  assert.match(msg, /settings\.yml:\d+:7: task "Settings": loop: 'settings' is a mapping \(loop over its entries with "\{\{ x \| dict2items \}\}"\), not a list/);
});

test('the new keywords are checked before any host: a bad value is refused with the key (exit 1)', async () => {
  const r = roll();
  const cases: [string, RegExp][] = [
    ['  max_fail_percentage: 150', /max_fail_percentage/],
    ['  serial: [1, 0]', /serial/],
    ['  serial: []', /serial/],
    ['  any_errors_fatal: maybe', /any_errors_fatal/],
    ['  force_handlers: 1', /force_handlers/],
  ];
  for (const [header, key] of cases) {
    const res = await rplay([twoPlays(r, header), '-i', r.inv, '-e', `workdir=${r.dir}`], { env: { RPLAY_STATE_DIR: join(r.dir, 'state') } });
    assert.is(res.code, 1, header);
    assert.match(res.stderr, /roll\.yml:\d+:\d+: /, header);
    assert.match(res.stderr, key, header);
    for (const h of ['node-1', 'node-2', 'node-3']) assert.not.ok(r.done(h, 'stopped'), `${header}: ${h}`);
  }
  const good = "  serial: [1, '50%', \"{{ n }}\"]\n  max_fail_percentage: 12.5\n  any_errors_fatal: false\n  force_handlers: true";
  const ok = await rplay([twoPlays(r, good), '-i', r.inv, '--syntax-check']);
  assert.is(ok.code, 0, ok.stderr);
});

test.run();
