// On a terminal: each task drawn live by listr2 (a spinner, running counts, the latest host
// results), then its noteworthy host lines (changed, failed, diffs, -v) kept on screen, and the
// same recap as the plain output. listr2 is imported on the first task only: it costs start-up
// time that runs without a terminal should not pay.
import type { HostStats, TaskResult } from '../types.js';
import { redact } from '../secret.js';
import { banner, hostLines, isNoteworthy, recapLines, taskTitle, type TextStyle } from './format.js';
import type { PlayInfo, Reporter, TaskInfo } from './reporter.js';
import { redactingStream, redactingWriter, type Writer } from './writer.js';

type Listr2 = typeof import('listr2');

/** Live host results appear in the task's output bar; only the latest few stay visible. */
const LIVE_LINES = 5;

/** One task's results, filled by the engine while listr2 draws it (possibly a little later). */
class LiveTask {
  readonly results: { host: string; result: TaskResult }[] = [];
  readonly done: Promise<void>;
  finish!: () => void;
  onResult?: (host: string, result: TaskResult) => void;

  constructor(readonly info: TaskInfo) {
    this.done = new Promise((resolve) => (this.finish = resolve));
  }

  add(host: string, result: TaskResult): void {
    this.results.push({ host, result });
    this.onResult?.(host, result);
  }

  /** `TASK [x] ok=2 changed=1`: the non-zero counts so far. */
  title(): string {
    const counts = new Map<string, number>();
    for (const { result } of this.results) counts.set(result.status, (counts.get(result.status) ?? 0) + 1);
    const summary = [...counts].map(([s, n]) => `${s}=${n}`).join(' ');
    // Masked before listr2 sees it: its line wrapping could split a secret where redact() misses it.
    return redact(`${taskTitle(this.info)}${summary ? ' ' + summary : ''}`);
  }

  failed(): boolean {
    return this.results.some(({ result }) => result.status === 'failed' || result.status === 'unreachable');
  }
}

export class TtyReporter implements Reporter {
  readonly #out: Writer;
  readonly #stream: NodeJS.WriteStream;
  #chain: Promise<void> = Promise.resolve();
  #live: LiveTask | undefined;
  #listr: Promise<Listr2> | undefined;

  constructor(
    out: NodeJS.WritableStream,
    private readonly err: Writer,
    private readonly style: TextStyle,
  ) {
    this.#out = redactingWriter(out);
    this.#stream = redactingStream(out);
  }

  playStart(play: PlayInfo): void {
    this.#then(() => {
      this.#out.line();
      this.#out.line(banner(`PLAY [${play.name}]`));
    });
  }

  taskStart(task: TaskInfo): void {
    const live = new LiveTask(task);
    this.#live = live;
    this.#then(() => this.#draw(live));
  }

  hostResult(_task: TaskInfo, host: string, result: TaskResult): void {
    this.#live?.add(host, result);
  }

  taskEnd(): void {
    this.#live?.finish();
    this.#live = undefined;
  }

  warn(msg: string): void {
    // Queued: writing while listr2 redraws the screen would be overwritten.
    this.#then(() => this.err.line(`[WARNING]: ${msg}`));
  }

  runEnd(stats: Record<string, HostStats>): void {
    this.taskEnd();
    this.#then(() => {
      this.#out.line();
      for (const l of recapLines(stats)) this.#out.line(l);
    });
  }

  close(): Promise<void> {
    // A task the engine never ended (it threw) must not keep the display, and the process, waiting.
    this.taskEnd();
    return this.#chain;
  }

  #then(step: () => void | Promise<void>): void {
    this.#chain = this.#chain.then(step).catch((e: unknown) => this.err.line(`rplay: progress display failed: ${String(e)}`));
  }

  async #draw(live: LiveTask): Promise<void> {
    const { Listr, ListrLogger, ProcessOutput } = await (this.#listr ??= import('listr2'));
    const logger = new ListrLogger({ useIcons: true, processOutput: new ProcessOutput(this.#stream, this.#stream) });
    const list = new Listr(
      [
        {
          title: live.title(),
          task: async (_ctx, t) => {
            const show = (host: string, result: TaskResult): void => {
              t.title = live.title();
              t.output = redact(`${result.status}: [${host}]`);
            };
            live.results.forEach(({ host, result }) => show(host, result));
            live.onResult = show;
            await live.done;
            live.onResult = undefined;
            t.title = live.title();
            if (live.failed()) throw new Error(live.title());
          },
          rendererOptions: { outputBar: LIVE_LINES },
        },
      ],
      {
        renderer: 'default',
        rendererOptions: { logger },
        fallbackRenderer: 'simple',
        fallbackRendererOptions: { logger },
        exitOnError: false,
        registerSignalListeners: false,
      },
    );
    await list.run();
    for (const { host, result } of live.results) {
      if (isNoteworthy(result, this.style, live.info.module)) for (const l of hostLines(host, result, this.style, live.info.module)) this.#out.line(l.replace(/^/gm, '  '));
    }
  }
}
