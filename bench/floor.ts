// The floor a playbook run is measured against, as its own process (so it pays Node's start-up too):
// `node dist/bench/floor.js LAB_DIR K` opens one ssh2 connection per lab host (Nagle off, as rplay's),
// runs K trivial commands one after another on each, all hosts in parallel, and exits.
import { connect as netConnect } from 'node:net';
import { readFileSync } from 'node:fs';
import { Client } from 'ssh2';
import { labStatus } from '../lab/lab.js';
import { labLayout } from '../lab/lab-layout.js';

const [dir, k] = [process.argv[2]!, Number(process.argv[3])];
const privateKey = readFileSync(labLayout(dir).keyFile);

function exec(client: Client): Promise<void> {
  return new Promise((resolve, reject) =>
    client.exec('true', (err, ch) => {
      if (err) return reject(err);
      ch.on('close', () => resolve());
      ch.resume();
    }),
  );
}

async function host(address: string): Promise<void> {
  const client = new Client();
  await new Promise<void>((resolve, reject) => {
    const sock = netConnect({ host: address, port: 22 });
    sock.setNoDelay(true);
    client.once('ready', resolve).once('error', reject);
    client.connect({ sock, username: 'ubuntu', privateKey });
  });
  for (let i = 0; i < k; i++) await exec(client);
  client.end();
}

await Promise.all(labStatus(dir).map((h) => host(h.address)));
