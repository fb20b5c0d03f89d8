// A loopback port on the controller that leads, through a host's SSH connection, to a Redis
// instance on that host's network: for tools that need a TCP address, such as the system
// redis-cli (`rplay redis-cli`). Only the bytes are forwarded; TLS stays end to end between the
// tool and Redis (server certificates carry 127.0.0.1 as a SAN, so the name check passes).
import { createServer, type AddressInfo, type Socket } from 'node:net';
import type { Connection } from '../../runner/connection/connection.js';

export interface LocalForward {
  /** The loopback port to connect to (127.0.0.1). */
  port: number;
  close(): Promise<void>;
}

export async function localForward(conn: Connection, host: string, port: number): Promise<LocalForward> {
  const open = new Set<Socket>();
  const server = createServer((sock) => {
    open.add(sock);
    sock.once('close', () => open.delete(sock));
    conn.forwardOut(host, port).then(
      (tunnel) => {
        sock.pipe(tunnel).pipe(sock);
        tunnel.once('close', () => sock.destroy());
        sock.once('close', () => tunnel.destroy());
        tunnel.on('error', () => sock.destroy());
        sock.on('error', () => tunnel.destroy());
      },
      () => sock.destroy(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
