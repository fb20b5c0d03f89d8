// The floor a playbook run is measured against, as its own process (so it pays Node's start-up too,
// and loads nothing but ssh2): `node dist/bench/floor.js KEY_FILE K ADDRESS...` opens one ssh2
// connection per address (Nagle off, as rplay's), runs K trivial commands one after another on
// each, all hosts in parallel, and exits.
import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { Client } from 'ssh2';

const [keyFile, k, ...addresses] = process.argv.slice(2) as [string, string, ...string[]];
const privateKey = readFileSync(keyFile);

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
  for (let i = 0; i < Number(k); i++) await exec(client);
  client.end();
}

await Promise.all(addresses.map(host));
