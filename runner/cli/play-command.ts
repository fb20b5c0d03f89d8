// `rplay PLAYBOOK... -i INVENTORY …`: load and validate everything first (bad input exits 1 before
// any host is touched), then run, report, and exit with the run's code.
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { connectSsh } from '../connection/ssh.js';
import { checkRunInputs, VarsFiles } from '../execution/load-inputs.js';
import { loadInventory } from '../inventory/inventory.js';
import { inventoryPlugins } from './inventory-plugins.js';
import { matchHosts } from '../inventory/patterns.js';
import { loadPlaybook } from '../playbook/load-playbook.js';
import { loadModules, modulesUsed } from '../playbook/module-registry.js';
import { registry } from '../../modules/registry.js';
import { loadVarsFile, setVaultDecrypter } from '../vars/vars-file.js';
import type { Playbook, TaskNode } from '../playbook/types.js';
import { redactingWriter } from '../reporters/writer.js';
import { resolveVaultPassword } from '../vault/password.js';
import { vaultDecrypter } from '../vault/vars.js';
import { InputError } from '../yaml/load.js';
import { parseExtraVars } from './extra-vars.js';

const options = {
  inventory: { type: 'string', short: 'i', multiple: true },
  check: { type: 'boolean', short: 'C' },
  diff: { type: 'boolean', short: 'D' },
  limit: { type: 'string', short: 'l' },
  tags: { type: 'string', short: 't', multiple: true },
  'skip-tags': { type: 'string', multiple: true },
  'extra-vars': { type: 'string', short: 'e', multiple: true },
  forks: { type: 'string', short: 'f' },
  json: { type: 'boolean' },
  'detailed-exitcode': { type: 'boolean' },
  'list-hosts': { type: 'boolean' },
  'list-tasks': { type: 'boolean' },
  'syntax-check': { type: 'boolean' },
  'start-at-task': { type: 'string' },
  'vault-password-file': { type: 'string' },
  'ask-vault-pass': { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v', multiple: true },
} as const;

export async function playCommand(argv: string[]): Promise<number> {
  const err = redactingWriter(process.stderr);
  const out = redactingWriter(process.stdout);
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true });
  } catch (e) {
    err.line(`rplay: ${(e as Error).message} (see rplay --help)`);
    return 1;
  }
  const { values: v, positionals: playbooks } = parsed;
  if (playbooks.length === 0) {
    err.line('rplay: no playbook given (see rplay --help)');
    return 1;
  }
  const inventories = v.inventory ?? [];
  const forks = v.forks === undefined ? 100 : Number(v.forks);
  if (!Number.isInteger(forks) || forks < 1) {
    err.line(`rplay: --forks must be a positive whole number, got '${v.forks}'`);
    return 1;
  }
  if (inventories.length === 0 && !v['syntax-check']) {
    err.line('rplay: no inventory given: add -i INVENTORY (a file, a folder, or a plugin file)');
    return 1;
  }

  // Everything is loaded and checked before the first host is contacted, every problem reported.
  let password;
  try {
    password = await resolveVaultPassword({
      passwordFile: v['vault-password-file'],
      askPass: v['ask-vault-pass'] ?? false,
    });
  } catch (e) {
    for (const p of inputProblems(e)) err.line(`rplay: ${p}`);
    return 1;
  }
  setVaultDecrypter(vaultDecrypter(password));
  const problems: string[] = [];
  const attempt = async <T>(load: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await load();
    } catch (e) {
      problems.push(...inputProblems(e));
      return undefined;
    }
  };
  const books: Playbook[] = [];
  for (const p of playbooks) {
    const book = await attempt(() => loadPlaybook(p, registry));
    if (book) books.push(book);
  }
  const readInventory = () => loadInventory(inventories, { plugins: inventoryPlugins });
  const inventory = inventories.length > 0 ? await attempt(readInventory) : undefined;
  const extraVars = await attempt(() => parseExtraVars(v['extra-vars'] ?? []));
  const projectDir = projectDirOf(playbooks[0]!);
  // The run gets the vars files checked here: each read once, and what ran is what was checked.
  const varsFiles = new VarsFiles(loadVarsFile);
  // A run imports every module it uses; --syntax-check and --list-* only those that check at load.
  const runs = !v['syntax-check'] && !v['list-hosts'] && !v['list-tasks'];
  const modules = await loadModules(registry, modulesUsed(books.flatMap((b) => b.plays)), { checkersOnly: !runs });
  const checked = await checkRunInputs({
    books,
    values: extraVars && (inventory || inventories.length === 0) ? { inventory, extraVars } : undefined,
    limit: v.limit,
    check: v.check ?? false,
    projectDir,
    modules,
    varsFiles,
  });
  problems.push(...checked.errors.flatMap(inputProblems));
  if (problems.length > 0) {
    for (const p of problems) err.line(`rplay: ${p}`);
    return 1;
  }
  if (v['syntax-check']) {
    for (const b of books) out.line(`playbook: ${b.file}`);
    for (const d of checked.deferred) out.line(`  not checked before the run: vars_files ${d.entry} of play "${d.play.name}" (names run-time values)`);
    return 0;
  }
  // Only --syntax-check goes without an inventory, and a failed load has returned above.
  if (!inventory || !extraVars) throw new Error('bug: no inventory or extra vars after the checks');

  if (v['list-hosts'] || v['list-tasks']) {
    for (const b of books) {
      for (const play of b.plays) {
        out.line(`play: ${play.name} (${play.hosts})`);
        if (v['list-hosts']) for (const h of matchHosts(inventory, play.hosts, v.limit)) out.line(`  ${h}`);
        if (v['list-tasks']) listTasks(play.tasks, '  ', (l) => out.line(l));
      }
    }
    return 0;
  }

  // The engine and reporters load only for a run: --syntax-check and --list-* never pay for them.
  const [{ exitCodeOf, runPlaybooks }, { createReporter }] = await Promise.all([import('../execution/run-playbooks.js'), import('../reporters/reporter.js')]);
  const reporter = createReporter({
    json: v.json ?? false,
    tty: !v.json && process.stdout.isTTY === true,
    verbosity: Math.min(2, v.verbose?.length ?? 0) as 0 | 1 | 2,
    diff: v.diff ?? false,
    out: process.stdout,
    err: process.stderr,
  });
  const stateDir = process.env.RPLAY_STATE_DIR ?? join(projectDir, '.rplay', 'state');
  const result = await runPlaybooks({
    books,
    inventory,
    reloadInventory: readInventory,
    reporter,
    connect: connectSsh,
    check: v.check ?? false,
    diff: v.diff ?? false,
    limit: v.limit,
    tags: splitList(v.tags),
    skipTags: splitList(v['skip-tags']),
    extraVars,
    forks,
    startAtTask: v['start-at-task'],
    projectDir,
    modules,
    pendingHandlersFile: join(stateDir, 'pending-handlers.json'),
    loadVarsFile: (path) => varsFiles.get(path),
  });
  reporter.runEnd(result.stats);
  await reporter.close();
  return exitCodeOf(result, v['detailed-exitcode'] ?? false);
}

/** The messages of bad input (one or several problems); anything else is a bug and surfaces as itself. */
function inputProblems(e: unknown): string[] {
  if (e instanceof AggregateError) return e.errors.flatMap(inputProblems);
  if (e instanceof InputError || (e instanceof Error && e.name !== 'TypeError' && e.name !== 'ReferenceError')) return [e.message];
  throw e;
}

function splitList(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
}

/** Where templates/ and files/ live: the playbook's folder, or its parent when that is playbooks/. */
function projectDirOf(playbook: string): string {
  const dir = dirname(resolve(playbook));
  if (basename(dir) === 'playbooks' && !existsSync(join(dir, 'templates'))) return dirname(dir);
  return dir;
}

function listTasks(nodes: readonly TaskNode[], indent: string, print: (l: string) => void): void {
  for (const n of nodes) {
    if ('block' in n) {
      listTasks([...n.block, ...n.rescue, ...n.always], indent, print);
    } else {
      print(`${indent}${n.name}${n.tags.length ? `\tTAGS: [${n.tags.join(', ')}]` : ''}`);
    }
  }
}
