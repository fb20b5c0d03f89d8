// Every input is loaded and checked before the first host is contacted: what a user sees from the CLI
// when a vault, a vars file or a template is bad (exit 1, every problem named with where it is), on
// the controller as the only host, so "nothing ran" is a file that was not written.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { encryptVault } from '../../../runner/vault/vault.js';
import { rplay } from '../../support/rplay-cli.js';

const test = suite('inputs before hosts');

const PASSWORD = 'vault-pass-for-input-tests';

const made: string[] = [];
test.after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A project folder with these files (paths relative to it); returns its path. */
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'rplay-inputs-'));
  made.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  writeFileSync(join(dir, 'right-pass'), `${PASSWORD}\n`);
  writeFileSync(join(dir, 'wrong-pass'), 'not-the-vault-password\n');
  writeFileSync(join(dir, 'inventory.yml'), 'all:\n  hosts:\n    localhost:\n      ansible_connection: local\n      env_name: staging\n');
  return dir;
}

/** A first play that writes `marker` on the host: the proof that something ran. */
const writes = (marker: string): string => `
- name: Writes
  hosts: all
  gather_facts: false
  tasks:
    - name: Marker
      copy:
        content: "ran\\n"
        dest: ${marker}
`;

/** The vault with its ciphertext changed by one byte and re-wrapped as the vault format does. */
function corrupted(vaultText: string): string {
  const [header, ...body] = vaultText.trim().split('\n');
  const [salt, mac, cipher] = Buffer.from(body.join(''), 'hex').toString('ascii').split('\n');
  const flipped = (cipher![0] === '0' ? '1' : '0') + cipher!.slice(1);
  const outer = Buffer.from([salt, mac, flipped].join('\n'), 'ascii').toString('hex');
  return [header, ...(outer.match(/.{1,80}/g) ?? [])].join('\n') + '\n';
}

test('--syntax-check opens every vault: a wrong password, a corrupted body or no password exits 1 naming the file', async () => {
  const vault = encryptVault('db_password: s3cret-value-xyz\n', PASSWORD);
  const book = `- hosts: all\n  gather_facts: false\n  vars_files:\n    - vars/secret.yml\n  tasks:\n    - debug:\n        msg: hi\n`;
  const dir = project({ 'site.yml': book, 'vars/secret.yml': vault });
  const ok = await rplay([join(dir, 'site.yml'), '--syntax-check', '--vault-password-file', join(dir, 'right-pass')]);
  assert.is(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /playbook: .*site\.yml/);

  const wrong = await rplay([join(dir, 'site.yml'), '--syntax-check', '--vault-password-file', join(dir, 'wrong-pass')]);
  assert.is(wrong.code, 1);
  assert.match(wrong.stderr, /site\.yml:3:3: play "all": vars_files: vault: wrong password or corrupted file .*vars\/secret\.yml$/m);
  assert.is(wrong.stdout, '');

  const none = await rplay([join(dir, 'site.yml'), '--syntax-check'], { env: { RPLAY_VAULT_PASSWORD_FILE: '' } });
  assert.is(none.code, 1);
  assert.match(none.stderr, /vars\/secret\.yml is encrypted; give --vault-password-file/);

  writeFileSync(join(dir, 'vars/secret.yml'), corrupted(vault));
  const bad = await rplay([join(dir, 'site.yml'), '--syntax-check', '--vault-password-file', join(dir, 'right-pass')]);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /corrupted file .*vars\/secret\.yml/);
  for (const r of [ok, wrong, none, bad]) assert.not.match(r.stdout + r.stderr, /s3cret-value-xyz/);
});

test('every problem of the load is reported with where it is, and nothing runs', async () => {
  const marker = join(tmpdir(), `rplay-inputs-marker-${process.pid}`);
  const book = `${writes(marker)}
- name: Secrets
  hosts: all
  gather_facts: false
  vars:
    tier: gold
  vars_files:
    - vars/secret.yml
    - "vars/{{ tier }}.yml"
  tasks:
    - debug:
        msg: hi
- name: Config
  hosts: all
  gather_facts: false
  tasks:
    - name: Render
      template:
        src: app.conf
        dest: ${marker}.conf
`;
  const dir = project({
    'site.yml': book,
    'other.yml': '- hosts: all\n  tasks:\n    - name: Typo\n      cpy:\n        dest: /x\n    - name: Fine\n      ping:\n    - name: Other typo\n      shel: echo hi\n- hosts: all\n  gather_fact: false\n',
    'vars/secret.yml': encryptVault('a: 1\n', 'some other password'),
    'templates/app.conf': 'port {{ port }}\n{{#nodes}}\nnode {{ name }}\n',
  });
  const r = await rplay([join(dir, 'site.yml'), join(dir, 'other.yml'), '-i', join(dir, 'inventory.yml'), '--vault-password-file', join(dir, 'right-pass')]);
  assert.is(r.code, 1, r.stderr);
  assert.is(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  assert.is(lines.length, 6, r.stderr);
  assert.match(lines[0]!, /^rplay: .*other\.yml:4:7: task "Typo": module 'cpy' unknown/);
  assert.match(lines[1]!, /^rplay: .*other\.yml:9:7: task "Other typo": module 'shel' unknown/);
  assert.match(lines[2]!, /^rplay: .*other\.yml:11:3: play: unknown key 'gather_fact'/);
  assert.match(lines[3]!, /^rplay: .*site\.yml:16:3: play "Secrets": vars_files: vault: wrong password or corrupted file .*vars\/secret\.yml$/);
  assert.match(lines[4]!, /^rplay: .*site\.yml:16:3: play "Secrets": vars_files: .*vars\/gold\.yml: cannot read vars file: ENOENT$/);
  assert.match(lines[5]!, /^rplay: templates\/app\.conf:2: Unclosed section "nodes" \(task "Render" at .*site\.yml:26:7\)$/);
  assert.not.ok(existsSync(marker), 'the first play ran');
});

test('a vars_files path is resolved from inventory, play vars and extra vars before the run; one naming facts is left to the run', async () => {
  const book = `- hosts: all
  gather_facts: false
  vars_files:
    - "vars/{{ env_name }}.yml"
    - "vars/{{ ansible_os_family }}.yml"
  tasks:
    - debug:
        msg: hi
`;
  const dir = project({ 'site.yml': book, 'vars/staging.yml': 'x: 1\n' });
  const args = [join(dir, 'site.yml'), '--syntax-check', '-i', join(dir, 'inventory.yml')];
  const ok = await rplay(args);
  assert.is(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /not checked before the run: vars_files vars\/\{\{ ansible_os_family \}\}\.yml of play "all"/);
  assert.not.match(ok.stdout, /env_name/);
  // Extra vars win over the inventory, as in the run.
  const extra = await rplay([...args, '-e', 'env_name=prod']);
  assert.is(extra.code, 1);
  assert.match(extra.stderr, /vars\/prod\.yml: cannot read vars file: ENOENT/);
  // Without an inventory, a path naming an inventory variable cannot be known: it is said, not guessed.
  const noInventory = await rplay([join(dir, 'site.yml'), '--syntax-check']);
  assert.is(noInventory.code, 0, noInventory.stderr);
  assert.match(noInventory.stdout, /not checked before the run: vars_files vars\/\{\{ env_name \}\}\.yml/);
});

test('an imported playbook\'s vars files and templates are checked before the importing one runs', async () => {
  const marker = join(tmpdir(), `rplay-inputs-import-${process.pid}`);
  const dir = project({
    'site.yml': `${writes(marker)}\n- import_playbook: sub/more.yml\n`,
    'sub/more.yml': '- hosts: all\n  gather_facts: false\n  vars_files:\n    - missing.yml\n  tasks:\n    - template:\n        src: gone.conf\n        dest: /tmp/x\n',
  });
  const r = await rplay([join(dir, 'site.yml'), '-i', join(dir, 'inventory.yml')]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /sub\/more\.yml:3:3: play "all": vars_files: .*missing\.yml: cannot read vars file: ENOENT/);
  assert.match(r.stderr, /sub\/more\.yml:6:7: task "template": template: cannot read .*templates\/gone\.conf: ENOENT/);
  assert.not.ok(existsSync(marker), 'the first play ran');
});

test('a partial in a template is refused before the run; a src naming variables is left to the run', async () => {
  const dir = project({
    'site.yml': `- hosts: all
  gather_facts: false
  tasks:
    - template:
        src: with-partial.conf
        dest: /tmp/x
    - template:
        src: "{{ which }}.conf"
        dest: /tmp/y
`,
    'templates/with-partial.conf': 'a\n{{> header}}\n',
  });
  const r = await rplay([join(dir, 'site.yml'), '--syntax-check']);
  assert.is(r.code, 1);
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /templates\/with-partial\.conf:2: partials are not supported, found partial 'header' \(task "template" at .*site\.yml:4:7\)/);
});

test("an imported playbook's vars_files are relative to its own folder, as in Ansible", async () => {
  const inner = `- hosts: all\n  gather_facts: false\n  vars_files:\n    - vars/app.yml\n  tasks:\n    - copy:\n        content: "{{ greeting }}\\n"\n        dest: "{{ playbook_out }}"\n`;
  const dir = project({
    'site.yml': '- import_playbook: sub/app.yml\n',
    'sub/app.yml': inner,
    'sub/vars/app.yml': 'greeting: from-sub\n',
    'vars/app.yml': 'greeting: from-top\n',
  });
  const out = join(dir, 'out.txt');
  const r = await rplay([join(dir, 'site.yml'), '-i', join(dir, 'inventory.yml'), '-e', `playbook_out=${out}`]);
  assert.is(r.code, 0, r.stderr);
  assert.is(readFileSync(out, 'utf8'), 'from-sub\n');
});

test.run();
