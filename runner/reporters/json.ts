// --json: everything is kept until the run ends, then exactly one JSON document goes to stdout, so
// `rplay … --json | jq` always parses. Warnings go to stderr.
import type { HostStats, Status, TaskResult } from '../types.js';
import type { PlayInfo, Reporter, TaskInfo } from './reporter.js';
import { redactDeep, type Writer } from './writer.js';

interface JsonResult {
  status: Status;
  msg: string;
  diff?: string;
}

interface JsonTask {
  name: string;
  module: string;
  results: Record<string, JsonResult>;
}

interface JsonPlay {
  name: string;
  hosts: string[];
  tasks: JsonTask[];
}

export class JsonReporter implements Reporter {
  readonly #plays: JsonPlay[] = [];

  constructor(
    private readonly out: Writer,
    private readonly err: Writer,
  ) {}

  playStart(play: PlayInfo): void {
    this.#plays.push({ name: play.name, hosts: [...play.hosts], tasks: [] });
  }

  taskStart(task: TaskInfo): void {
    this.#play().tasks.push({ name: task.name, module: task.module, results: {} });
  }

  hostResult(_task: TaskInfo, host: string, r: TaskResult): void {
    const task = this.#play().tasks.at(-1);
    if (!task) throw new Error('reporter: a host result came before any task started');
    task.results[host] = { status: r.status, msg: r.msg ?? '', ...(r.diff ? { diff: r.diff } : {}) };
  }

  taskEnd(): void {}

  warn(msg: string): void {
    this.err.line(`[WARNING]: ${msg}`);
  }

  runEnd(stats: Record<string, HostStats>): void {
    const counts = Object.fromEntries(
      Object.entries(stats).map(([h, s]) => [
        h,
        { ok: s.ok, changed: s.changed, failed: s.failed, skipped: s.skipped, unreachable: s.unreachable },
      ]),
    );
    this.out.line(JSON.stringify(redactDeep({ plays: this.#plays, stats: counts })));
  }

  async close(): Promise<void> {}

  #play(): JsonPlay {
    const play = this.#plays.at(-1);
    if (!play) throw new Error('reporter: a task started before any play');
    return play;
  }
}
