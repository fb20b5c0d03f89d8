// What the engine tells the user, as events; a reporter turns them into plain lines, live progress
// on a terminal, or one JSON document. Every reporter writes through the redacting writer.
import type { HostStats, TaskResult } from '../types.js';
import { JsonReporter } from './json.js';
import { PlainReporter } from './plain.js';
import { TtyReporter } from './tty.js';
import { redactingWriter } from './writer.js';

export interface PlayInfo {
  name: string;
  hosts: string[];
}

export interface TaskInfo {
  name: string;
  module: string;
  /** A handler run at the end of the play (printed as RUNNING HANDLER). */
  handler: boolean;
}

export interface Reporter {
  playStart(play: PlayInfo): void;
  taskStart(task: TaskInfo): void;
  hostResult(task: TaskInfo, host: string, result: TaskResult): void;
  taskEnd(task: TaskInfo): void;
  warn(msg: string): void;
  runEnd(stats: Record<string, HostStats>): void;
  /**
   * Resolves once everything reported is written. The TTY reporter draws asynchronously; await
   * this before exiting the process or the recap may be lost.
   */
  close(): Promise<void>;
}

export interface ReporterOptions {
  json: boolean;
  /** stdout is a terminal: live progress instead of plain lines. */
  tty: boolean;
  verbosity: 0 | 1 | 2;
  /** Show file diffs (--diff). */
  diff: boolean;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

export function createReporter(o: ReporterOptions): Reporter {
  const out = redactingWriter(o.out);
  const err = redactingWriter(o.err);
  const style = { verbosity: o.verbosity, diff: o.diff };
  if (o.json) return new JsonReporter(out, err);
  // A terminal that reports no width (some CI ptys) would get one character per line from listr2.
  if (o.tty && ((o.out as Partial<NodeJS.WriteStream>).columns ?? 0) > 0) return new TtyReporter(o.out, err, style);
  return new PlainReporter(out, err, style);
}
