// `rplay lab up [--hosts N] [--prefix 127.0.1] | down [--purge] | status | stop HOST | start HOST`.
import { parseArgs } from 'node:util';
import { ec2EmulatorInfo, runEc2Emulator, stopEc2Emulator } from '../../lab/ec2/daemon.js';
import { labDown, labStart, labStatus, labStop, labUp, LabError } from '../../lab/lab.js';
import { defaultLabDir } from '../../lab/lab-layout.js';
import { missingPrerequisites } from '../../lab/prerequisites.js';
import { redact } from '../secret.js';

const USAGE = `usage: rplay lab up [--hosts N] [--prefix 127.0.1] [--ec2 [--ec2-port 4577]] [--dir DIR]
       rplay lab down [--purge] [--dir DIR]
       rplay lab status [--dir DIR]
       rplay lab stop HOST [--dir DIR]
       rplay lab start HOST [--dir DIR]
The lab folder is --dir, else $RPLAY_LAB_DIR, else .rplay/lab in the repository.`;

const say = (line: string): void => void process.stdout.write(redact(line) + '\n');
const complain = (line: string): void => void process.stderr.write(redact(line) + '\n');

function oneHost(action: string, positionals: string[]): string {
  if (positionals.length !== 1) throw new LabError(`rplay lab ${action} takes one host name\n${USAGE}`);
  return positionals[0];
}

async function run(action: string | undefined, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      hosts: { type: 'string' },
      prefix: { type: 'string' },
      dir: { type: 'string' },
      purge: { type: 'boolean' },
      ec2: { type: 'boolean' },
      'ec2-port': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    say(USAGE);
    return 0;
  }
  const known = ['up', 'down', 'status', 'stop', 'start'];
  if (action === undefined || !known.includes(action)) throw new LabError(`unknown lab action '${action ?? ''}'\n${USAGE}`);
  const extra = Object.keys(values).filter((k) => k !== 'dir' && !(action === 'up' && ['hosts', 'prefix', 'ec2', 'ec2-port'].includes(k)) && !(action === 'down' && k === 'purge'));
  if (extra.length > 0) throw new LabError(`rplay lab ${action} does not take --${extra[0]}\n${USAGE}`);
  if (['up', 'down', 'status'].includes(action) && positionals.length > 0) {
    throw new LabError(`rplay lab ${action} takes no arguments (got '${positionals[0]}')\n${USAGE}`);
  }
  if (action !== 'status') {
    const missing = missingPrerequisites();
    if (missing.length > 0) {
      complain(`rplay lab needs:\n${missing.map((m) => `  - ${m}`).join('\n')}`);
      return 1;
    }
  }
  const dir = values.dir ?? defaultLabDir();

  switch (action) {
    case 'up': {
      if (values.hosts !== undefined && !/^\d+$/.test(values.hosts)) throw new LabError(`--hosts ${values.hosts}: expected a number`);
      const t0 = performance.now();
      const r = await labUp(dir, { hosts: values.hosts === undefined ? undefined : Number(values.hosts), prefix: values.prefix });
      const secs = ((performance.now() - t0) / 1000).toFixed(1);
      say(`lab ${dir}: ${r.started.length} host(s) started, ${r.alreadyUp.length} already up (${secs} s)`);
      for (const h of labStatus(dir)) say(`  ${h.name.padEnd(9)} ${h.address.padEnd(15)} ${h.up ? 'up' : 'down'}`);
      if (values.ec2 || values['ec2-port'] !== undefined) {
        const portText = values['ec2-port'];
        if (portText !== undefined && !/^\d+$/.test(portText)) throw new LabError(`--ec2-port ${portText}: expected a number`);
        const emu = await runEc2Emulator(dir, { port: portText === undefined ? undefined : Number(portText) });
        say(`  ec2 emulator ${emu.url} (${emu.started ? 'started' : 'already running'}, pid ${emu.pid}): export AWS_ENDPOINT_URL_EC2=${emu.url}`);
      }
      return 0;
    }
    case 'down': {
      // The emulator first: it must neither race the power-off nor lose its folder to --purge.
      const emulatorStopped = await stopEc2Emulator(dir);
      const stopped = await labDown(dir, { purge: values.purge });
      say(`lab ${dir}: ${stopped.length} host(s) powered off${emulatorStopped ? ', ec2 emulator stopped' : ''}${values.purge ? ', folder removed' : ''}`);
      return 0;
    }
    case 'status': {
      for (const h of labStatus(dir)) say(`${h.name.padEnd(9)} ${h.address.padEnd(15)} ${h.up ? 'up' : 'down'}`);
      const emu = ec2EmulatorInfo(dir);
      if (emu) say(`ec2 emulator ${emu.url} (pid ${emu.pid})`);
      return 0;
    }
    case 'stop': {
      const name = oneHost(action, positionals);
      say((await labStop(dir, name)) ? `${name}: powered off` : `${name}: was already down`);
      return 0;
    }
    default: {
      const name = oneHost(action, positionals);
      say((await labStart(dir, name)) ? `${name}: booted` : `${name}: already up`);
      return 0;
    }
  }
}

/** Runs `rplay lab …` (argv after `lab`); returns the exit code. */
export async function labCommand(argv: string[]): Promise<number> {
  try {
    return await run(argv[0], argv.slice(1));
  } catch (e) {
    complain(`rplay lab: ${(e as Error).message}`);
    return 1;
  }
}
