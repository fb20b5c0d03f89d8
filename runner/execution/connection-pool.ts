import type { Connection, Connector } from '../connection/connection.js';
import { localConnection } from '../connection/local.js';
import type { ConnectionSettings } from '../inventory/connection-settings.js';

/** One persistent connection per host for the whole run, opened on first use through `connect`. */
export class ConnectionPool {
  readonly #conns = new Map<string, Promise<Connection>>();
  #local: Connection | undefined;

  constructor(private readonly connect: Connector) {}

  /** The controller itself, for `delegate_to: localhost` and the implicit localhost. */
  local(): Connection {
    return (this.#local ??= localConnection());
  }

  get(host: string, settings: () => ConnectionSettings): Promise<Connection> {
    let c = this.#conns.get(host);
    if (!c) {
      const s = settings();
      c =
        s.connection === 'local'
          ? Promise.resolve(this.local())
          : this.connect({
              host,
              address: s.address,
              port: s.port,
              user: s.user,
              privateKeyFile: s.privateKeyFile,
              knownHostsFile: s.knownHostsFile,
              acceptNew: s.acceptNew,
              // A host that went down (stopped, rebooted) is connected afresh by the next task on
              // it, with its variables as they are then (a new address after meta: refresh_inventory).
              onClose: () => {
                if (this.#conns.get(host) === c) this.#conns.delete(host);
              },
            });
      this.#conns.set(host, c);
    }
    return c;
  }

  async closeAll(): Promise<void> {
    const all = [...this.#conns.values()].map((p) => p.then((c) => c.close(), () => {}));
    if (this.#local) all.push(this.#local.close());
    await Promise.all(all);
    this.#conns.clear();
  }
}
