// Lab tests of modules: a real host and a ModuleContext built by hand (as the engine would build it);
// the modules run through test/support/converge.ts.
import * as assert from 'uvu/assert';
import type { Connection, ExecResult } from '../../../runner/connection/connection.js';
import { connectSsh } from '../../../runner/connection/ssh.js';
import { withBecome } from '../../../runner/connection/become.js';
import { inventoryOf } from '../../support/inventory-view.js';
import type { ModuleContext, Plan, Vars } from '../../../runner/types.js';
import { evaluateExpression, Scope } from '../../../runner/vars/index.js';
import { startLab, type Lab } from '../../lab-fixture.js';

export const PREFIX = '127.0.3';

export interface ModuleHost {
  lab: Lab;
  name: string;
  address: string;
  /** The connection modules use, as the engine's would be (login user ubuntu, become through sudo). */
  conn: Connection;
  /** A separate connection for checking the host's real state, as an operator would. */
  check(script: string, args?: string[]): Promise<ExecResult>;
  ctx(opts?: { become?: boolean; vars?: Vars; projectDir?: string }): ModuleContext;
  /** Power the host off and on again (its init then boots the enabled services); reconnects. */
  powerCycle(): Promise<void>;
  close(): Promise<void>;
}

function connect(lab: Lab, name: string): Promise<Connection> {
  const h = lab.hosts.find((x) => x.name === name);
  if (!h) throw new Error(`no lab host ${name}`);
  return connectSsh({ host: name, address: h.address, port: 22, user: 'ubuntu', privateKeyFile: lab.keyFile, knownHostsFile: lab.knownHostsFile });
}

/** A one-host lab on 127.0.3.x with connections to its host. */
export async function moduleHost(): Promise<ModuleHost> {
  const lab = await startLab({ hosts: 1, prefix: PREFIX });
  const { name, address } = lab.hosts[0];
  let conn = await connect(lab, name);
  let checker = await connect(lab, name);
  return {
    lab,
    name,
    address,
    get conn() {
      return conn;
    },
    check: (script, args = []) => checker.sh(script, args, { become: true }),
    ctx: ({ become = true, vars = {}, projectDir = '/nonexistent' } = {}) => ({
      host: name,
      conn: withBecome(conn, { become, becomeUser: 'root' }),
      vars,
      inventory: inventoryOf(vars),
      projectDir,
      evaluate: (expr: string, locals?: Vars) => evaluateExpression(expr, Scope.of(vars).with(locals ?? {}, true)),
    }),
    async powerCycle() {
      await lab.stop(name);
      await Promise.allSettled([conn.close(), checker.close()]);
      await lab.start(name);
      conn = await connect(lab, name);
      checker = await connect(lab, name);
    },
    async close() {
      await conn.close();
      await checker.close();
      await lab.down();
    },
  };
}

export function descriptions(p: Plan): string[] {
  return p.changes.map((c) => c.description);
}

/** The promise fails with a message matching `re`; returns the error. */
export async function failsWith(p: Promise<unknown>, re: RegExp): Promise<Error> {
  try {
    await p;
  } catch (e) {
    assert.match((e as Error).message, re, `got: ${(e as Error).message}`);
    return e as Error;
  }
  assert.unreachable(`expected a failure matching ${re}`);
  throw new Error('unreachable');
}
