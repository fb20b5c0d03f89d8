// Check mode's one prediction from an error: a module's declared "not there yet" (NotYetThere) is
// "would change" only when this task's own apply, or an earlier task that would change the host the
// missing thing lives on, makes it; every other error is a failure with its own message, also after
// an earlier would-change. The decision itself, then what a user sees through the CLI.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { pendingReason } from '../../../runner/execution/run-task.js';
import { startEc2Emulator } from '../../../lab/ec2/emulator.js';
import { ModuleError, NotYetThere } from '../../../runner/types.js';
import { rplayJson, tasksWith, type JsonRun } from '../../support/rplay-cli.js';

const test = suite('check mode: not there yet, or failed');
const play = 'test/fixtures/playbooks/check-pending.yml';
const inv = 'test/fixtures/local-inventory.yml';
const none = (): boolean => false;
const only = (...hosts: string[]) => (h: string): boolean => hosts.includes(h);

test('pendingReason: only the declared case, and only when something this run makes it', () => {
  const unit = new NotYetThere('service redis-6379: unit redis-6379.service is not installed', 'unit redis-6379.service');
  assert.is(pendingReason(unit, 'node-1', none), undefined, 'nothing earlier would change node-1: a failure');
  assert.is(pendingReason(unit, 'node-1', only('node-1')), 'unit redis-6379.service not there yet: an earlier task on node-1 would change what it depends on');
  assert.is(pendingReason(unit, 'node-1', only('node-2')), undefined, 'a change on another host does not make this host\'s unit');

  const refused = new ModuleError('redis_acl: cannot log in to 10.0.1.11:6379 as admin_user: WRONGPASS invalid username-password pair');
  assert.is(pendingReason(refused, 'node-1', only('node-1')), undefined, 'a refused login after a would-change is still a failure');
  assert.is(pendingReason(new Error('AuthFailure'), 'node-1', only('node-1')), undefined);

  const down = new NotYetThere('redis_cluster: … not running', '10.0.1.13:6380 (node-3) (not running)', { on: ['node-3'] });
  assert.is(pendingReason(down, 'node-1', only('node-1')), undefined, 'the instance lives on node-3: node-1\'s changes do not start it');
  assert.match(pendingReason(down, 'node-1', only('node-3')) ?? '', /^10\.0\.1\.13:6380 \(node-3\) \(not running\) not there yet: an earlier task on node-3 /);
  const two = new NotYetThere('…', 'instances on node-2 and node-3', { on: ['node-2', 'node-3'] });
  assert.is(pendingReason(two, 'node-1', only('node-3')), undefined, 'every host it lives on must have a change coming');
  assert.ok(pendingReason(two, 'node-1', only('node-2', 'node-3')));

  const cert = new NotYetThere('cannot read the TLS client certificate /p/rplay-admin.crt: ENOENT', 'TLS client certificate /p/rplay-admin.crt', { on: '*' });
  assert.is(pendingReason(cert, 'node-2', (h) => h === '*'), 'TLS client certificate /p/rplay-admin.crt not there yet: an earlier task would change what it depends on');
  assert.is(pendingReason(cert, 'node-2', none), undefined);

  const self = new NotYetThere('…', 'CA', { by: 'self' });
  assert.is(pendingReason(self, 'node-1', none), 'CA not there yet: this task makes it');
});

function run(workdir: string, ...extra: string[]) {
  return rplayJson([play, '-i', inv, '-e', `workdir=${workdir}`, ...extra], { env: { RPLAY_STATE_DIR: join(workdir, 'state') } });
}

function msgOf(r: JsonRun, task: string): string {
  return r.plays[0]!.tasks.find((t) => t.name === task)?.results.localhost?.msg ?? '';
}

test('a folder an earlier task makes: --check is "would change" (exit 3), the run changes the same tasks, the re-run none', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rplay-pending-'));
  try {
    const check = await run(dir, '--check', '--detailed-exitcode');
    assert.is(check.code, 3, check.stdout + check.stderr);
    const predicted = tasksWith(check.json, 'localhost', 'changed');
    assert.equal(predicted, ['Folder', 'File in the folder', 'Mode of that file']);
    assert.is(msgOf(check.json, 'File in the folder'), `would change (folder ${dir}/new not there yet: an earlier task on localhost would change what it depends on)`);
    assert.is(msgOf(check.json, 'Mode of that file'), `would change (file ${dir}/new/a.txt not there yet: an earlier task on localhost would change what it depends on)`);

    const real = await run(dir, '--detailed-exitcode');
    assert.is(real.code, 3, real.stdout + real.stderr);
    assert.equal(tasksWith(real.json, 'localhost', 'changed'), predicted);
    const again = await run(dir, '--check', '--detailed-exitcode');
    assert.is(again.code, 0, again.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the same folder with nothing to make it: a failure in --check (exit 2), as the run would be', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rplay-pending-'));
  try {
    const check = await run(dir, '--check', '--detailed-exitcode', '-e', 'make_folder=false');
    assert.is(check.code, 2, check.stdout);
    assert.equal(tasksWith(check.json, 'localhost', 'failed'), ['File in the folder']);
    assert.is(msgOf(check.json, 'File in the folder'), `the folder ${dir}/new of ${dir}/new/a.txt does not exist`);
    const real = await run(dir, '-e', 'make_folder=false');
    assert.is(real.code, 2);
    assert.is(msgOf(real.json, 'File in the folder'), msgOf(check.json, 'File in the folder'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('after a would-change, a controller file that is not there is a failure with its own message (exit 2), not "would change"', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rplay-pending-'));
  try {
    const check = await run(dir, '--check', '--detailed-exitcode', '-e', 'next_step=missing-src');
    assert.is(check.code, 2, check.stdout);
    assert.equal(tasksWith(check.json, 'localhost', 'failed'), ['A controller file that is not there']);
    assert.is(msgOf(check.json, 'A controller file that is not there'), `copy: cannot read src ${dir}/no-such-source: ENOENT`);
    assert.not.match(check.stdout, /may change/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('after a would-change, EC2 refusing the credentials is a failure in --check (exit 2) with EC2\'s reason', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rplay-pending-'));
  const emu = await startEc2Emulator({ log: () => {} });
  try {
    // The emulator serves us-east-1 and refuses a credential scoped to another region, as AWS does.
    const check = await run(dir, '--check', '--detailed-exitcode', '-e', 'next_step=aws', '-e', 'aws_region=eu-nowhere-1', '-e', `aws_endpoint=${emu.url}`);
    assert.is(check.code, 2, check.stdout + check.stderr);
    assert.ok(tasksWith(check.json, 'localhost', 'changed').includes('Folder'), 'an earlier task would change the host');
    assert.equal(tasksWith(check.json, 'localhost', 'failed'), ['A VPC, with credentials EC2 refuses']);
    assert.match(msgOf(check.json, 'A VPC, with credentials EC2 refuses'), /AuthFailure|not served there/);
    assert.not.match(msgOf(check.json, 'A VPC, with credentials EC2 refuses'), /would change/);

    const fine = await run(dir, '--check', '--detailed-exitcode', '-e', 'next_step=aws', '-e', 'aws_region=us-east-1', '-e', `aws_endpoint=${emu.url}`);
    assert.is(fine.code, 3, 'the same task with credentials EC2 takes: a VPC to create');
  } finally {
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
