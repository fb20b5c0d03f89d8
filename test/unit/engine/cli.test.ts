// The CLI's listing modes and bad input, without any host: exit codes and what it prints.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rplay } from '../../support/rplay-cli.js';

const test = suite('cli');
const inv = 'test/fixtures/local-inventory.yml';
const sem = 'test/fixtures/playbooks/semantics.yml';

test('--help prints the usage and exits 0', async () => {
  const r = await rplay(['--help']);
  assert.is(r.code, 0);
  assert.match(r.stdout, /rplay PLAYBOOK\.\.\. -i INVENTORY/);
});

test('--syntax-check validates and names the playbook', async () => {
  const r = await rplay([sem, '--syntax-check']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /playbook: .*semantics\.yml/);
  const bad = await rplay(['test/fixtures/playbooks/typo.yml', '--syntax-check']);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /did you mean 'apt'/);
});

test('--list-hosts and --list-tasks', async () => {
  const r = await rplay([sem, '-i', inv, '--list-hosts', '--list-tasks']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /play: Semantics \(localhost\)\n  localhost\n/);
  assert.match(r.stdout, /  Tagged only\tTAGS: \[special\]/);
});

test('bad input exits 1 with a clear message', async () => {
  for (const [args, message] of [
    [[sem], /no inventory given/],
    [[sem, '-i', 'no/such/inventory'], /no\/such\/inventory/],
    [['no-such-playbook.yml', '-i', inv], /no-such-playbook\.yml/],
    [[sem, '-i', inv, '-e', 'novalue'], /-e 'novalue': expected key=value/],
    [[sem, '-i', inv, '--forks', '0'], /--forks must be a positive whole number/],
    [[sem, '-i', inv, '--bogus'], /Unknown option '--bogus'/],
  ] as const) {
    const r = await rplay([...args]);
    assert.is(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});

test.run();
