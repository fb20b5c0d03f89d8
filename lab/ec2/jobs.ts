// Background work that moves resources through their asynchronous states. Jobs of one key (an instance
// id, a volume id) run one after another, so one machine's power and disk steps never overlap; close()
// cancels the waits and lets running steps finish.

export class JobsClosed extends Error {}

export class Jobs {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly running = new Set<Promise<void>>();
  private readonly waits = new Set<{ timer: NodeJS.Timeout; cancel: () => void }>();
  private closed = false;

  constructor(private readonly onError: (key: string, error: Error) => void) {}

  /** Runs `step` after every job queued before it under `key`. */
  enqueue(key: string, step: () => Promise<void>): void {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const job = previous.then(async () => {
      if (this.closed) return;
      try {
        await step();
      } catch (e) {
        if (!(e instanceof JobsClosed)) this.onError(key, e as Error);
      }
    });
    this.tails.set(key, job);
    this.running.add(job);
    void job.finally(() => {
      this.running.delete(job);
      if (this.tails.get(key) === job) this.tails.delete(key);
    });
  }

  /** Waits `ms`; throws JobsClosed when the emulator closes meanwhile. */
  sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.reject(new JobsClosed());
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.waits.delete(wait);
        resolve();
      };
      const wait = { timer: setTimeout(done, ms), cancel: () => reject(new JobsClosed()) };
      this.waits.add(wait);
    });
  }

  /** Resolves once no job is queued or running (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waits) {
      clearTimeout(w.timer);
      w.cancel();
    }
    this.waits.clear();
    await this.idle();
  }
}

/** One at a time: the disk steps (copies and moves of volume contents) read where earlier ones wrote. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
