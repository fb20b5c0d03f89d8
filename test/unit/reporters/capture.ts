import { Writable } from 'node:stream';
import { createReporter, type Reporter, type TaskInfo } from '../../../runner/reporters/reporter.js';
import type { HostStats, TaskResult } from '../../../runner/types.js';

/** A stream that keeps what was written; `columns` makes it look like a terminal to createReporter. */
export class Capture extends Writable {
  text = '';
  constructor(readonly columns?: number) {
    super();
  }
  get isTTY(): boolean {
    return this.columns !== undefined;
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

export interface Scenario {
  out: string;
  err: string;
}

export const install: TaskInfo = { name: 'Install redis', module: 'apt', handler: false };
export const configure: TaskInfo = { name: 'Configure redis', module: 'template', handler: false };
export const restart: TaskInfo = { name: 'restart redis', module: 'service', handler: true };

export const stats: Record<string, HostStats> = {
  'node-1': { ok: 3, changed: 2, failed: 0, skipped: 0, unreachable: 0 },
  'node-10': { ok: 1, changed: 0, failed: 1, skipped: 1, unreachable: 0 },
};

/** A small run through any reporter: two tasks, a handler, a warning and the recap. */
export async function runScenario(
  opts: { json?: boolean; tty?: boolean; verbosity?: 0 | 1 | 2; diff?: boolean },
  results: { install: [string, TaskResult][]; configure: [string, TaskResult][]; restart: [string, TaskResult][] },
): Promise<Scenario> {
  const out = new Capture(opts.tty ? 100 : undefined);
  const err = new Capture();
  const r: Reporter = createReporter({
    json: opts.json ?? false,
    tty: opts.tty ?? false,
    verbosity: opts.verbosity ?? 0,
    diff: opts.diff ?? false,
    out,
    err,
  });
  r.playStart({ name: 'Redis', hosts: ['node-1', 'node-10'] });
  for (const [task, list] of [
    [install, results.install],
    [configure, results.configure],
    [restart, results.restart],
  ] as const) {
    r.taskStart(task);
    for (const [host, result] of list) r.hostResult(task, host, result);
    r.taskEnd(task);
    if (task === install) r.warn('node-10: dpkg lock held, waited 2 s');
  }
  r.runEnd(stats);
  await r.close();
  return { out: out.text, err: err.text };
}
