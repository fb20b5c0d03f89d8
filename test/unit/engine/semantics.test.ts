// The engine's task keywords, observed through the CLI's JSON and the files a run leaves, on the
// controller itself (local connection: no lab needed).
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rplayJson, tasksWith, totalChanged } from '../../support/rplay-cli.js';

const test = suite('engine semantics');
const play = 'test/fixtures/playbooks/semantics.yml';
const inv = 'test/fixtures/local-inventory.yml';

function run(workdir: string, ...extra: string[]) {
  return rplayJson([play, '-i', inv, '-e', `workdir=${workdir}`, ...extra], { env: { RPLAY_STATE_DIR: join(workdir, 'state') } });
}

test('every keyword does what Ansible users expect, and a re-run changes nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rplay-sem-'));
  const out = join(dir, 'out');
  const r = await run(dir);
  assert.is(r.code, 0, r.stdout + r.stderr);
  const read = (f: string): string => readFileSync(join(out, f), 'utf8');
  assert.is(read('a'), 'alpha\n');
  assert.is(read('b'), 'beta\n');
  assert.is(read('when-true'), 'alpha\n');
  assert.not.ok(existsSync(join(out, 'when-false')));
  assert.is(read('greeting'), 'hello rplay\n');
  assert.is(read('count'), '3\n');
  assert.not.ok(existsSync(join(out, 'unreached')));
  assert.is(read('rescued'), 'yes\n');
  assert.is(read('always'), 'yes\n');
  assert.is(read('tagged'), 'x\n');
  assert.equal(tasksWith(r.json, 'localhost', 'skipped'), ['When false is skipped']);
  assert.equal(tasksWith(r.json, 'localhost', 'failed'), ['ignore_errors keeps going', 'Fails inside the block']);
  assert.is(r.json.stats.localhost!.failed, 0, 'an ignored or rescued failure does not fail the host');
  const hidden = r.json.plays[0]!.tasks.find((t) => t.name === 'no_log hides what a task says')!.results.localhost!;
  assert.match(hidden.msg ?? '', /hidden due to no_log/);
  assert.not.match(r.stdout, /Kx81/);

  const again = await run(dir, '--skip-tags', 'special');
  assert.is(again.code, 0);
  // Only what the playbook makes change every run: the counter reset and the command counting up.
  assert.equal(tasksWith(again.json, 'localhost', 'changed'), ['Reset the counter', 'until retries']);
  assert.not.ok(tasksWith(again.json, 'localhost', 'ok').includes('Tagged only'));
});

test('--tags runs only the tagged tasks (and always-tagged ones); --start-at-task starts there', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rplay-sem-'));
  const tagged = await run(dir, '--tags', 'special');
  assert.is(tagged.code, 0, tagged.stdout);
  assert.equal(tagged.json.plays[0]!.tasks.map((t) => t.name), ['Folder', 'Tagged only']);
  assert.ok(existsSync(join(dir, 'out', 'tagged')));
  const started = await run(dir, '--start-at-task', 'Tagged only');
  assert.equal(started.json.plays[0]!.tasks.map((t) => t.name), ['Tagged only']);
});

test.run();
