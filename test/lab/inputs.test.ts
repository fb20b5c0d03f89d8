// Every input of a run is loaded and checked before the first host is contacted: a bad vault, vars
// file or template in a later play exits 1 with every host byte for byte as it was, although an
// earlier play would have changed them all; a good run uses the vars files as they were checked.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { encryptVault } from '../../runner/vault/vault.js';
import { startLab, type Lab } from '../lab-fixture.js';
import { snapshot } from '../support/host-snapshot.js';
import { rplay } from '../support/rplay-cli.js';

const test = suite('inputs before hosts on the lab');
const PASSWORD = 'lab-vault-pass-4f9c';
const SECRET = 'Kx7-app-secret-93jd';
let lab: Lab;
let dir: string;
const root = (host: string): string => join(lab.dir, 'hosts', host, 'root');
/** Every file of every host's folders, with mode, owner and content hash. */
const listing = (): string[] => lab.hosts.flatMap((h) => snapshot(root(h.name)));
const env = (): Record<string, string> => ({ RPLAY_STATE_DIR: join(lab.dir, 'controller-state'), RPLAY_VAULT_PASSWORD_FILE: '' });
const file = (name: string, text: string): void => {
  mkdirSync(join(dir, name, '..'), { recursive: true });
  writeFileSync(join(dir, name), text);
};

/** Play 1 writes /srv/<marker> on every host: what would change if anything ran. */
const play1 = `- name: Change every host
  hosts: all
  gather_facts: false
  become: true
  tasks:
    - name: Marker
      copy:
        content: "ran\\n"
        dest: "/srv/{{ marker }}"
`;

/** Play 2 needs the vault (line 14 is its vars_files). */
const play2 = `- name: Needs the vault
  hosts: all
  gather_facts: false
  become: true
  vars_files:
    - vars/secret.yml
  tasks:
    - name: Secret config
      template:
        src: app.conf.mustache
        dest: /srv/app.conf
        mode: 0600
`;

/** The vault with one ciphertext byte changed, wrapped as the format wraps it. */
function corrupted(vaultText: string): string {
  const [header, ...body] = vaultText.trim().split('\n');
  const [salt, mac, cipher] = Buffer.from(body.join(''), 'hex').toString('ascii').split('\n');
  const flipped = (cipher![0] === 'f' ? 'e' : 'f') + cipher!.slice(1);
  const outer = Buffer.from([salt, mac, flipped].join('\n'), 'ascii').toString('hex');
  return [header, ...(outer.match(/.{1,80}/g) ?? [])].join('\n') + '\n';
}

test.before(async () => {
  lab = await startLab({ hosts: 3, prefix: '127.0.17' });
  dir = join(lab.dir, 'project');
  file('right-pass', `${PASSWORD}\n`);
  file('wrong-pass', 'not-this-one-either\n');
  file('vault.yml', encryptVault(`app_password: ${SECRET}\n`, PASSWORD));
  file('templates/app.conf.mustache', 'password {{ app_password }}\n');
  file('two-plays.yml', `${play1}${play2}`);
});
test.after(async () => {
  await lab?.down();
});

const run = (book: string, ...args: string[]) =>
  rplay([join(dir, book), '-i', lab.inventoryPath, ...args], { env: env() });

test('a bad vault in play 2 (wrong password, corrupted, no password) exits 1 naming it, every host untouched', async () => {
  const vault = readFileSync(join(dir, 'vault.yml'), 'utf8');
  const cases: [string, string, string[], RegExp][] = [
    ['wrong password', vault, ['--vault-password-file', join(dir, 'wrong-pass')], /wrong password or corrupted file \S*\/vars\/secret\.yml/],
    ['corrupted body', corrupted(vault), ['--vault-password-file', join(dir, 'right-pass')], /corrupted file \S*\/vars\/secret\.yml/],
    ['no password', vault, [], /\S*\/vars\/secret\.yml is encrypted; give --vault-password-file/],
  ];
  for (const [what, text, args, message] of cases) {
    file('vars/secret.yml', text);
    const before = listing();
    const r = await run('two-plays.yml', '-e', 'marker=bad-vault', ...args);
    assert.is(r.code, 1, `${what}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message, what);
    assert.match(r.stderr, /two-plays\.yml:14:3: play "Needs the vault": vars_files: /, what);
    assert.is(r.stdout, '', `${what}: nothing may be reported as run`);
    assert.equal(listing(), before, `${what}: a host changed`);
  }
  // The control: with the right password the same playbook changes every host.
  file('vars/secret.yml', vault);
  const before = listing();
  const good = await run('two-plays.yml', '-e', 'marker=bad-vault', '--vault-password-file', join(dir, 'right-pass'));
  assert.is(good.code, 0, good.stdout + good.stderr);
  assert.not.equal(listing(), before);
  for (const h of lab.hosts) {
    assert.is(readFileSync(join(root(h.name), 'srv/bad-vault'), 'utf8'), 'ran\n');
    assert.is(readFileSync(join(root(h.name), 'srv/app.conf'), 'utf8'), `password ${SECRET}\n`);
  }
  assert.not.ok((good.stdout + good.stderr).includes(SECRET));
});

test('--syntax-check with the wrong vault password exits 1 naming the vault; with the right one 0', async () => {
  file('vars/secret.yml', readFileSync(join(dir, 'vault.yml'), 'utf8'));
  const wrong = await run('two-plays.yml', '--syntax-check', '--vault-password-file', join(dir, 'wrong-pass'));
  assert.is(wrong.code, 1, wrong.stdout);
  assert.match(wrong.stderr, /wrong password or corrupted file \S*\/vars\/secret\.yml/);
  const right = await run('two-plays.yml', '--syntax-check', '--vault-password-file', join(dir, 'right-pass'));
  assert.is(right.code, 0, right.stderr);
});

test('an unclosed Mustache section in play 3 fails the run before any host, naming the template line', async () => {
  file('vars/secret.yml', readFileSync(join(dir, 'vault.yml'), 'utf8'));
  file('templates/nodes.conf.mustache', '# cluster nodes\n{{#nodes}}\nnode {{ name }}\n');
  file('three-plays.yml', `${play1}${play2}- name: Config
  hosts: all
  gather_facts: false
  become: true
  tasks:
    - name: Node list
      template:
        src: nodes.conf.mustache
        dest: /srv/nodes.conf
`);
  const before = listing();
  const r = await run('three-plays.yml', '-e', 'marker=bad-template', '--vault-password-file', join(dir, 'right-pass'));
  assert.is(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /templates\/nodes\.conf\.mustache:2: Unclosed section "nodes" \(task "Node list" at \S*three-plays\.yml:27:7\)/);
  assert.is(r.stdout, '');
  assert.equal(listing(), before);
});

test('a missing vars file named by a play variable fails before any host; an extra var changes which', async () => {
  file('vars/silver.yml', 'tier_port: 7000\n');
  file('tiered.yml', `${play1}- name: Tiered
  hosts: all
  gather_facts: false
  become: true
  vars:
    tier: gold
  vars_files:
    - "vars/{{ tier }}.yml"
  tasks:
    - name: Port
      copy:
        content: "{{ tier_port }}\\n"
        dest: /srv/port
`);
  const before = listing();
  const r = await run('tiered.yml', '-e', 'marker=bad-tier');
  assert.is(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /tiered\.yml:16:3: play "Tiered": vars_files: \S*\/vars\/gold\.yml: cannot read vars file: ENOENT/);
  assert.equal(listing(), before);
  const silver = await run('tiered.yml', '-e', 'marker=bad-tier', '-e', 'tier=silver');
  assert.is(silver.code, 0, silver.stdout + silver.stderr);
  for (const h of lab.hosts) assert.is(readFileSync(join(root(h.name), 'srv/port'), 'utf8'), '7000\n');
});

test('a good run uses each vars file as it was read before the run: play 1 spoils it, play 2 on 3 hosts still gets it', async () => {
  file('vars/greeting.yml', 'greeting: hello from the checked file\n');
  file('read-once.yml', `- name: Spoil the vars file on the controller
  hosts: all
  gather_facts: false
  tasks:
    - name: Spoil
      delegate_to: localhost
      run_once: true
      copy:
        content: "greeting: [not yaml\\n"
        dest: ${join(dir, 'vars/greeting.yml')}
- name: Use it
  hosts: all
  gather_facts: false
  become: true
  vars_files:
    - vars/greeting.yml
  tasks:
    - name: Greeting
      copy:
        content: "{{ greeting }}\\n"
        dest: /srv/greeting
`);
  const r = await run('read-once.yml');
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.is(readFileSync(join(dir, 'vars/greeting.yml'), 'utf8'), 'greeting: [not yaml\n', 'play 1 did not spoil the file');
  for (const h of lab.hosts) assert.is(readFileSync(join(root(h.name), 'srv/greeting'), 'utf8'), 'hello from the checked file\n');
});

test.run();
