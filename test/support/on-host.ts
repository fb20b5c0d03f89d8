// Run a shell script on a lab host as root, the way an operator "by hand" would.
import { connectSsh } from '../../runner/connection/ssh.js';
import type { ExecResult } from '../../runner/connection/connection.js';
import type { Lab } from '../lab-fixture.js';

export async function onHost(lab: Lab, host: string, script: string): Promise<ExecResult> {
  const h = lab.hosts.find((x) => x.name === host);
  if (!h) throw new Error(`no lab host ${host}`);
  const conn = await connectSsh({ host, address: h.address, port: 22, user: 'ubuntu', privateKeyFile: lab.keyFile, knownHostsFile: lab.knownHostsFile });
  try {
    return await conn.sh(script, [], { become: true });
  } finally {
    await conn.close();
  }
}
