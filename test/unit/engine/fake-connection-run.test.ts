// A whole playbook through runPlaybooks with a fake connection injected (no sshd): the engine opens
// hosts only through the connector it is handed, binds each task's become into the connection, and
// reports what the fake host answered.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { registry } from '../../../modules/registry.js';
import { loadModules, modulesUsed } from '../../../runner/playbook/module-registry.js';
import { ConnectionError } from '../../../runner/connection/connection.js';
import { exitCodeOf, runPlaybooks } from '../../../runner/execution/run-playbooks.js';
import { loadInventory } from '../../../runner/inventory/inventory.js';
import { loadPlaybook } from '../../../runner/playbook/load-playbook.js';
import { createReporter } from '../../../runner/reporters/reporter.js';
import { loadVarsFile } from '../../../runner/vars/vars-file.js';
import { fakeConnector, type Answers } from '../../support/fake-connection.js';

const dir = mkdtempSync(join(tmpdir(), 'rplay-fake-run-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

writeFileSync(
  join(dir, 'hosts.yml'),
  `all:
  children:
    web:
      hosts:
        web-1: { ansible_host: 192.0.2.1, ansible_user: deploy }
        web-2: { ansible_host: 192.0.2.2, ansible_port: 2222, ansible_become_user: app }
        web-3: { ansible_host: 192.0.2.3 }
`,
);
writeFileSync(
  join(dir, 'site.yml'),
  `- hosts: web
  gather_facts: false
  tasks:
    - name: reach
      ping:
    - name: who
      command: id -un
      become: true
      register: who
    - name: say
      shell: echo "{{ who.stdout }} on {{ inventory_hostname }}"
`,
);

// web-2's "id -un" fails; everything else answers as a host would.
const answers: Answers = (sent, host) => {
  if (sent.command === 'echo pong') return { stdout: 'pong\n' };
  if (sent.command === 'id -un') return host === 'web-2' ? { rc: 1, stderr: 'id: cannot find name for this user ID' } : { stdout: `${sent.opts.becomeUser}\n` };
  if (/^echo "/.test(sent.command)) return { stdout: 'said\n' };
  return undefined;
};

async function run(connect: ReturnType<typeof fakeConnector>, playbook = 'site.yml', hosts = 'hosts.yml') {
  const chunks: Buffer[] = [];
  const warnings: Buffer[] = [];
  const out = new Writable({ write: (c, _e, done) => (chunks.push(Buffer.from(c)), done()) });
  const err = new Writable({ write: (c, _e, done) => (warnings.push(Buffer.from(c)), done()) });
  const reporter = createReporter({ json: true, tty: false, verbosity: 0, diff: false, out, err });
  const inventory = await loadInventory([join(dir, hosts)]);
  const books = [await loadPlaybook(join(dir, playbook), registry)];
  const result = await runPlaybooks({
    books,
    modules: await loadModules(registry, modulesUsed(books.flatMap((b) => b.plays)), { checkersOnly: false }),
    inventory,
    reloadInventory: async () => inventory,
    reporter,
    connect,
    check: false,
    diff: false,
    tags: [],
    skipTags: [],
    extraVars: {},
    forks: 5,
    projectDir: dir,
    pendingHandlersFile: join(dir, 'state', 'pending-handlers.json'),
    loadVarsFile,
  });
  reporter.runEnd(result.stats);
  await reporter.close();
  return { result, json: JSON.parse(Buffer.concat(chunks).toString()), warnings: Buffer.concat(warnings).toString() };
}

test('ping, command with become, shell: the commands each fake host received, the recap and the exit code', async () => {
  const connect = fakeConnector(answers, (t) => (t.host === 'web-3' ? new ConnectionError(t.host, `cannot reach ${t.host} (${t.address}:${t.port}): connect ECONNREFUSED`) : undefined));
  const { result, json, warnings } = await run(connect);
  assert.is(warnings, '');

  // Reached as the inventory says: address, port, user.
  assert.equal(
    connect.targets.map((t) => [t.host, t.address, t.port, t.user]).sort(),
    [
      ['web-1', '192.0.2.1', 22, 'deploy'],
      ['web-2', '192.0.2.2', 2222, userInfo().username],
      ['web-3', '192.0.2.3', 22, userInfo().username],
    ],
  );
  const calls = (h: string) => connect.hosts.get(h)!.sent.map((s) => ('command' in s ? [s.command, s.opts.become ?? false, s.opts.becomeUser] : [s.kind]));
  // ping as the login user; the task's become reaches the command without the module passing it;
  // the shell task sees the registered output.
  assert.equal(calls('web-1'), [
    ['echo pong', false, 'root'],
    ['id -un', true, 'root'],
    ['echo "root on web-1"', false, 'root'],
  ]);
  // ansible_become_user from the inventory is the bound user; a failed task ends the host's run.
  assert.equal(calls('web-2'), [
    ['echo pong', false, 'app'],
    ['id -un', true, 'app'],
  ]);
  assert.not.ok(connect.hosts.has('web-3'), 'the refused host got no connection');
  assert.ok([...connect.hosts.values()].every((c) => c.closed), 'every connection is closed at the end of the run');

  assert.equal(json.stats, {
    'web-1': { ok: 3, changed: 2, failed: 0, skipped: 0, unreachable: 0 },
    'web-2': { ok: 1, changed: 0, failed: 1, skipped: 0, unreachable: 0 },
    'web-3': { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 1 },
  });
  const who = json.plays[0].tasks.find((t: { name: string }) => t.name === 'who');
  assert.match(who.results['web-2'].msg, 'id: cannot find name for this user ID', `the message was: ${who.results['web-2'].msg}`);
  assert.match(json.plays[0].tasks[0].results['web-3'].msg, 'cannot reach web-3 (192.0.2.3:22): connect ECONNREFUSED');
  assert.is(exitCodeOf(result, false), 2);
});

test('a command the fake host was not told to answer fails that task with the fake saying so, never a made-up result', async () => {
  const connect = fakeConnector([['echo pong', { stdout: 'pong\n' }]]);
  const { json, warnings } = await run(connect);
  assert.is(warnings, '[WARNING]: play "web": every host of the play failed: the run stops here (no later batch, play or playbook runs)\n');
  const who = json.plays[0].tasks.find((t: { name: string }) => t.name === 'who');
  assert.match(who.results['web-1'].msg, 'fake connection to web-1: no answer for "id -un"');
  assert.is(json.stats['web-1'].failed, 1);
});

test("ctx.inventory: a module reads other hosts' variables (inventory, and what a host set) and a group's hosts", async () => {
  writeFileSync(
    join(dir, 'redis.yml'),
    `all:
  children:
    redis:
      hosts:
        r-1: { private_ip: 10.0.1.1, az: a }
        r-2: { private_ip: 10.0.1.2, az: b }
        r-3: { az: c }
`,
  );
  writeFileSync(
    join(dir, 'topology.yml'),
    `- hosts: redis
  gather_facts: false
  tasks:
    - set_fact: { private_ip: 10.0.1.3 }
      when: inventory_hostname == 'r-3'
    - redis_topology: { replicas_per_master: 0, port: 7000 }
    - debug: { msg: "{{ redis_instances | map(attribute='address') | join(',') }} {{ redis_instances | map(attribute='az') | join(',') }}" }
`,
  );
  const connect = fakeConnector([]);
  const { json } = await run(connect, 'topology.yml', 'redis.yml');
  const [, topology, debug] = json.plays[0].tasks;
  assert.is(topology.results['r-1'].msg, '3 master(s), 0 replica(s); here: master :7000');
  assert.is(debug.results['r-2'].msg, '10.0.1.1,10.0.1.2,10.0.1.3 a,b,c');
  assert.equal(json.stats['r-3'], { ok: 3, changed: 0, failed: 0, skipped: 0, unreachable: 0 });
});

test.run();
