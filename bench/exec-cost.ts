// Per-command cost of the persistent shell session: `node dist/bench/exec-cost.js [N]` runs N
// trivial commands 5 times locally and over SSH to a one-host lab (login and become) and prints
// the fastest and the median run, in ms per command. Run it under the lab lock.
import type { Connection, ExecOptions } from '../runner/connection/connection.js';
import { localConnection } from '../runner/connection/local.js';
import { connectSsh } from '../runner/connection/ssh.js';
import { startLab } from '../test/lab-fixture.js';

const N = Number(process.argv[2] ?? 2000);

async function perCommand(conn: Connection, opts: ExecOptions): Promise<string> {
  for (let i = 0; i < 50; i++) await conn.sh('true', [], opts);
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) await conn.sh('true', [], opts);
    runs.push(Number(process.hrtime.bigint() - t) / 1e6 / N);
  }
  runs.sort((a, b) => a - b);
  return `min ${runs[0]!.toFixed(3)} median ${runs[2]!.toFixed(3)} ms per command`;
}

const local = localConnection();
console.log('local      ', await perCommand(local, {}));
await local.close();
const lab = await startLab({ hosts: 1, prefix: '127.0.48' });
try {
  const h = lab.hosts[0]!;
  const c = await connectSsh({ host: h.name, address: h.address, port: 22, user: 'ubuntu', privateKeyFile: lab.keyFile, knownHostsFile: lab.knownHostsFile });
  console.log('ssh login  ', await perCommand(c, {}));
  console.log('ssh become ', await perCommand(c, { become: true }));
  await c.close();
} finally {
  await lab.down();
}
