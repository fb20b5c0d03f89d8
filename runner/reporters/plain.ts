// Plain lines as Ansible prints them, for logs, CI and pipes: PLAY/TASK banners, one line per host,
// diffs under their host, and the PLAY RECAP. Warnings go to stderr.
import type { HostStats, TaskResult } from '../types.js';
import { banner, hostLines, recapLines, taskTitle, type TextStyle } from './format.js';
import type { PlayInfo, Reporter, TaskInfo } from './reporter.js';
import type { Writer } from './writer.js';

export class PlainReporter implements Reporter {
  constructor(
    private readonly out: Writer,
    private readonly err: Writer,
    private readonly style: TextStyle,
  ) {}

  playStart(play: PlayInfo): void {
    this.out.line();
    this.out.line(banner(`PLAY [${play.name}]`));
  }

  taskStart(task: TaskInfo): void {
    this.out.line();
    this.out.line(banner(taskTitle(task)));
  }

  hostResult(task: TaskInfo, host: string, result: TaskResult): void {
    for (const l of hostLines(host, result, this.style, task.module)) this.out.line(l);
  }

  taskEnd(): void {}

  warn(msg: string): void {
    this.err.line(`[WARNING]: ${msg}`);
  }

  runEnd(stats: Record<string, HostStats>): void {
    this.out.line();
    for (const l of recapLines(stats)) this.out.line(l);
  }

  async close(): Promise<void> {}
}
