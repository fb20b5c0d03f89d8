import type { Connection } from './connection.js';

/** Who commands run as: the login user, or (become) becomeUser through `sudo -n`. */
export interface Become {
  readonly become: boolean;
  readonly becomeUser: string;
}

/**
 * The connection as a task's module sees it: every call runs with the task's become/become_user
 * unless the call says otherwise (`{ become: false }` to read something as the login user).
 * Forgetting to pass them can no longer run a command as the wrong user.
 */
export function withBecome(conn: Connection, b: Become): Connection {
  const as = <T extends { become?: boolean; becomeUser?: string } | undefined>(opts: T): T & Become => ({
    ...(opts as T),
    become: opts?.become ?? b.become,
    becomeUser: opts?.becomeUser ?? b.becomeUser,
  });
  return {
    host: conn.host,
    run: (argv, opts) => conn.run(argv, as(opts)),
    sh: (script, args, opts) => conn.sh(script, args, as(opts)),
    writeFile: (path, data, opts) => conn.writeFile(path, data, as(opts)),
    readFile: (path, opts) => conn.readFile(path, as(opts)),
    forwardOut: (host, port) => conn.forwardOut(host, port),
    close: () => conn.close(),
  };
}
