// `when:` on a variable holding a string, as Ansible reads it ("false" skips the task), observed
// through the CLI: which tasks ran (files written) and which were skipped, on the local connection.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rplayJson, tasksWith } from '../../support/rplay-cli.js';

const test = suite('conditions on strings');
const inv = 'test/fixtures/local-inventory.yml';

const FALSE = { f_false: 'false', f_no: 'no', f_off: ' OFF ', f_zero: '0', f_empty: '', f_False: 'False' };
const TRUE = { t_yes: 'yes', t_true: 'TRUE', t_on: 'on', t_one: ' 1 ' };

function playbook(dir: string, tasks: string): string {
  const vars = Object.entries({ ...FALSE, ...TRUE }).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}\n`).join('');
  const file = join(dir, 'play.yml');
  writeFileSync(file, `- hosts: localhost\n  gather_facts: false\n  vars:\n${vars}    other: disabled\n  tasks:\n${tasks}`);
  return file;
}

const touch = (dir: string, name: string, when: string): string =>
  `    - name: ${name}\n      copy: { dest: "${dir}/${name}", content: "ran\\n" }\n      when: ${when}\n`;

test('"false", "no", "off", "0", "" skip the task; "yes", "true", "on", "1" run it; not and and follow', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rplay-cond-'));
  const tasks = [
    ...Object.keys(FALSE).map((k) => touch(dir, k, k)),
    ...Object.keys(TRUE).map((k) => touch(dir, k, k)),
    touch(dir, 'not_false', 'not f_false'),
    touch(dir, 'yes_and_no', 't_yes and f_no'),
    touch(dir, 'no_or_yes', 'f_no or t_yes'),
    touch(dir, 'list_form', '\n        - t_yes\n        - f_zero'),
  ].join('');
  const r = await rplayJson([playbook(dir, tasks), '-i', inv], { env: { RPLAY_STATE_DIR: join(dir, 'state') } });
  assert.is(r.code, 0, r.stdout + r.stderr);
  const skipped = [...Object.keys(FALSE), 'yes_and_no', 'list_form'];
  const ran = [...Object.keys(TRUE), 'not_false', 'no_or_yes'];
  assert.equal(tasksWith(r.json, 'localhost', 'skipped').sort(), skipped.sort());
  for (const name of skipped) assert.not.ok(existsSync(join(dir, name)), `${name} must not run`);
  for (const name of ran) assert.ok(existsSync(join(dir, name)), `${name} must run`);
});

test('any other string is neither true nor false: the task fails saying how to write the test, nothing runs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rplay-cond-'));
  const r = await rplayJson([playbook(dir, touch(dir, 'other', 'other')), '-i', inv], { env: { RPLAY_STATE_DIR: join(dir, 'state') } });
  assert.is.not(r.code, 0);
  const [failed] = tasksWith(r.json, 'localhost', 'failed');
  assert.is(failed, 'other');
  const msg = r.json.plays[0]!.tasks[0]!.results.localhost!.msg ?? '';
  assert.match(msg, "condition 'other' tests the string 'disabled', which is neither true (true/yes/on/1) nor false (false/no/off/0/empty)");
  assert.match(msg, "compare it instead, e.g. x != '' or x == 'value', or convert it with | bool");
  assert.not.ok(existsSync(join(dir, 'other')));
});

test.run();
