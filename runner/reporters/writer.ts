// The one place rplay's output meets a stream: every string passes through redact(), so a secret
// that slipped into a message, a diff or a registered result never reaches a terminal or a log.
import { redact } from '../secret.js';

export interface Writer {
  /** Writes text as is (add '\n' yourself), secrets masked. */
  write(text: string): void;
  /** Writes one line, secrets masked. */
  line(text?: string): void;
}

export function redactingWriter(stream: NodeJS.WritableStream): Writer {
  return {
    write: (text) => void stream.write(redact(text)),
    line: (text = '') => void stream.write(redact(text) + '\n'),
  };
}

/**
 * The same masking for a library that writes to a stream itself (listr2 on a terminal). Terminal
 * size and isTTY are read from the real stream.
 */
export function redactingStream(stream: NodeJS.WritableStream): NodeJS.WriteStream {
  const tty = stream as Partial<NodeJS.WriteStream>;
  const proxy = Object.create(stream) as NodeJS.WriteStream;
  // Own enumerable properties, since listr2 copies the stream with Object.assign; write stays
  // writable, since listr2 swaps it out while it draws.
  Object.defineProperties(proxy, {
    write: {
      enumerable: true,
      writable: true,
      value: (chunk: string | Uint8Array) => stream.write(redact(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString())),
    },
    columns: { enumerable: true, get: () => tty.columns },
    rows: { enumerable: true, get: () => tty.rows },
    isTTY: { enumerable: true, get: () => tty.isTTY },
  });
  return proxy;
}

/**
 * A copy of a value with every string masked, for JSON output: a secret holding `"` or `\` is
 * escaped once serialised and would no longer match the text redact() looks for. Secret objects
 * stay as they are (their toJSON() already gives the mask).
 */
export function redactDeep(value: unknown): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map(redactDeep);
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [redact(k), redactDeep(v)]));
  }
  return value;
}
