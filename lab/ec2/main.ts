// The emulator process that `rplay lab up --ec2` starts (see daemon.ts): the lab's EC2 API, its
// instances backed by the lab's hosts. Usage: node main.js --lab-dir DIR [--port N]
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { redact } from '../../runner/secret.js';
import { ec2EmulatorFiles, DEFAULT_EC2_PORT } from './daemon.js';
import { startEc2Emulator } from './emulator.js';
import { labHostProvider } from './host-provider.js';

const { values } = parseArgs({ options: { 'lab-dir': { type: 'string' }, port: { type: 'string' } } });
const labDir = values['lab-dir'];
if (labDir === undefined) throw new Error('usage: main.js --lab-dir DIR [--port N]');
const files = ec2EmulatorFiles(labDir);
const emulator = await startEc2Emulator({
  port: Number(values.port ?? DEFAULT_EC2_PORT),
  stateFile: files.stateFile,
  hosts: labHostProvider(labDir),
  log: (line) => void process.stderr.write(redact(`${new Date().toISOString()} ${line}`) + '\n'),
});
const tmp = `${files.infoFile}.tmp`;
writeFileSync(tmp, JSON.stringify({ url: emulator.url, port: emulator.port, pid: process.pid }) + '\n');
renameSync(tmp, files.infoFile);
process.stderr.write(`${new Date().toISOString()} listening on ${emulator.url}\n`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  void emulator.close().then(() => {
    rmSync(files.infoFile, { force: true });
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
