import type { Duplex } from 'node:stream';

export interface ExecOptions {
  /** Run as another user through `sudo -n` (root unless becomeUser says otherwise). */
  become?: boolean;
  becomeUser?: string;
  /** Bytes fed to the command's standard input; without it, stdin is /dev/null. */
  stdin?: string | Buffer;
  env?: Record<string, string>;
  /** Kill the command (and its process group) after this long; a default applies without it. */
  timeoutMs?: number;
  /** Bytes of stdout, and of stderr, past which the command is killed; a default applies without it. */
  maxOutputBytes?: number;
}

export interface ExecResult {
  rc: number;
  stdout: string;
  stderr: string;
}

/**
 * A file on the controller, read in chunks as it is sent (never held whole); its size and sha256,
 * taken beforehand, are what the host must end up with.
 */
export interface ControllerFile {
  path: string;
  size: number;
  sha256: string;
}

/** What writeFile puts on the host: bytes in memory, or a controller file. */
export type FileData = string | Buffer | ControllerFile;

export interface WriteFileOptions {
  /** Octal mode string such as "0640". */
  mode?: string;
  owner?: string;
  group?: string;
  become?: boolean;
  becomeUser?: string;
  timeoutMs?: number;
}

export interface ReadFileOptions {
  become?: boolean;
  becomeUser?: string;
  timeoutMs?: number;
  /** A bigger file is refused, not read (default MAX_READ_BYTES). */
  maxBytes?: number;
}

/** What readFile reads at most unless told otherwise: a config file, a certificate, never a dump. */
export const MAX_READ_BYTES = 16 * 1024 * 1024;

/** Where and as whom to open a connection to one host (from its connection variables). */
export interface ConnectTarget {
  /** Inventory name, for messages. */
  host: string;
  address: string;
  port: number;
  user: string;
  privateKeyFile?: string;
  knownHostsFile: string;
  /** Add an unknown host key to knownHostsFile; a changed key is refused regardless. */
  acceptNew?: boolean;
  timeoutMs?: number;
  /** Called once the connection is gone (closed, or lost: the host went down). */
  onClose?: () => void;
}

/** Opens a connection (the CLI hands the engine connectSsh; a test, a fake). */
export type Connector = (target: ConnectTarget) => Promise<Connection>;

/**
 * What a module may do to a host. Every call is one round trip on a persistent session, so a
 * module's gather should be one script that prints all it needs.
 */
export interface Connection {
  readonly host: string;
  /** argv, quoted for POSIX sh when sent. */
  run(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** A POSIX sh script (positional args available as $1…). */
  sh(script: string, args?: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /**
   * Atomic write: temp file beside the target, chown/chmod, rename into place. Data larger than a
   * chunk is streamed raw to a host process of its own and its size and sha256 checked on the host
   * before the rename.
   */
  writeFile(path: string, data: FileData, opts?: WriteFileOptions): Promise<void>;
  /** The bytes of a regular file on the host; a missing one, one of another kind or a too big one is an error. */
  readFile(path: string, opts?: ReadFileOptions): Promise<Buffer>;
  /** A TCP stream opened from the host itself (ssh forwardOut), e.g. to reach Redis on the node. */
  forwardOut(host: string, port: number): Promise<Duplex>;
  close(): Promise<void>;
}

export class ConnectionError extends Error {
  constructor(
    readonly host: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConnectionError';
  }
}

/** `sudo -n` refused (no passwordless right for the login user). */
export class BecomeError extends Error {
  constructor(
    readonly host: string,
    message: string,
  ) {
    super(message);
    this.name = 'BecomeError';
  }
}

/** A command ran past its timeout or printed more than the output cap; it was killed. */
export class CommandLimitError extends Error {
  constructor(
    readonly host: string,
    message: string,
  ) {
    super(message);
    this.name = 'CommandLimitError';
  }
}
