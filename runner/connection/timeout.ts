import type { Connection, ExecOptions } from './connection.js';

/**
 * The connection as a task with a `timeout:` (seconds, as in Ansible) sees it: the whole task has
 * that long on the host, so each command gets what is left of it.
 */
export function withTimeout(conn: Connection, seconds: number | undefined): Connection {
  if (seconds === undefined) return conn;
  const deadline = Date.now() + seconds * 1000;
  const left = <T extends ExecOptions | undefined>(opts: T): T & { timeoutMs: number } => ({
    ...(opts as T),
    timeoutMs: opts?.timeoutMs ?? Math.max(1, deadline - Date.now()),
  });
  return {
    host: conn.host,
    run: (argv, opts) => conn.run(argv, left(opts)),
    sh: (script, args, opts) => conn.sh(script, args, left(opts)),
    writeFile: (path, data, opts) => conn.writeFile(path, data, left(opts)),
    readFile: (path, opts) => conn.readFile(path, left(opts)),
    forwardOut: (host, port) => conn.forwardOut(host, port),
    close: () => conn.close(),
  };
}
