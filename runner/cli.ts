#!/usr/bin/env node
// rplay's entry point: a subcommand, or playbooks to run. Subcommands load lazily so a playbook run
// pays only for what it uses.
import { redact } from './secret.js';

// The AWS SDK warns on every run under Node 20 about its future Node 22 requirement: noise to a
// playbook's output (README states the supported Node versions).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const HELP = `rplay — declarative, idempotent playbooks over SSH

  rplay PLAYBOOK... -i INVENTORY [-i INVENTORY2] [--check] [--diff] [--limit PATTERN]
        [--tags T,..] [--skip-tags T,..] [-e key=value | -e @vars.yml] [--forks N]
        [--json] [--detailed-exitcode] [--list-hosts] [--list-tasks] [--syntax-check]
        [--start-at-task NAME] [--vault-password-file F | --ask-vault-pass] [-v|-vv]
  rplay inventory -i INVENTORY --list | --graph | --host NAME
  rplay lab up [--hosts N] | down | status | stop HOST | start HOST
  rplay vault encrypt|decrypt|view|create|rekey FILE [--vault-password-file F]
  rplay redis-cli -i INVENTORY HOST[:PORT] [--user NAME] [-- ARGS...]

Exit codes: 0 success; 1 bad input (nothing ran); 2 a task failed; 4 a host unreachable;
3 (with --detailed-exitcode) success with changes.
`;

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  switch (first) {
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(HELP);
      return first === undefined ? 1 : 0;
    case 'lab':
      return (await import('./cli/lab-command.js')).labCommand(rest);
    case 'inventory':
      return (await import('./cli/inventory-command.js')).inventoryCommand(rest);
    case 'redis-cli':
      return (await import('./cli/redis-cli-command.js')).redisCliCommand(rest);
    case 'vault':
      return (await import('./cli/vault-command.js')).vaultCommand(rest);
    default:
      return (await import('./cli/play-command.js')).playCommand(argv);
  }
}

// `rplay … | head`: a reader that went away is not an error of ours.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(redact(`rplay: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`));
    process.exitCode = 1;
  },
);
